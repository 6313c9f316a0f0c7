/**
 * createLab: builds a topology from a spec inside fresh network namespaces and hands back a
 * Lab to run commands in it, impair its links and tear it down.
 *
 * Build order (each step is an `ip`/`sysctl`/`tc`/`nft` command run by ./run.ts):
 *   1. check root, pick a run id, write the state file (before anything exists, so `gc`
 *      can always find what a crashed run left behind)
 *   2. namespaces `ebx-<runid>-<node>`, loopback up, sysctls
 *   3. veth pairs created INSIDE the first namespace with the peer put straight into the
 *      second (`ip -n A link add x type veth peer name y netns B`): the host's own network
 *      namespace never sees a lab interface
 *   4. addresses, links up, routes
 *   5. initial rate (tc tbf) and loss (nftables) per link end
 * Any failure or abort tears down what was built and rethrows.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { NetlabError } from './errors.js';
import { deleteNamespaceSync, registerLab, unregisterLab } from './cleanup.js';
import { runCommand } from './run.js';
import type { ExecOptions, ExecResult } from './run.js';
import { findLinkFor, parseSpec } from './spec.js';
import type { LabSpec, LinkSpec, RouteSpec } from './spec.js';
import { NAMESPACE_PREFIX, processStartTime, removeNamespace, removeRunState, stateDir, writeRunState } from './state.js';

/** Name of the nftables table netlab owns inside each namespace (family inet). */
export const NFT_TABLE = 'edgebox_netlab';
/** How long destroy() waits after SIGTERM before SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** One end of a link: `a` or `b` as in the spec. */
export type LinkSide = 'a' | 'b';
/** Which end(s) an impairment applies to: a node name on the link, `a`/`b`, or `both`. */
export type SideSelector = string;

/** Options of {@link createLab}. */
export interface CreateLabOptions {
  signal?: AbortSignal;
}

/** Options of `lab.spawn`. */
export interface LabSpawnOptions {
  env?: Record<string, string>;
  stdio?: StdioOptions;
  cwd?: string;
}

/** Where one link end ended up. */
export interface LinkEndInfo {
  node: string;
  namespace: string;
  ifname: string;
  ipv4?: string;
  ipv6?: string;
}

/** JSON description of a built lab (the CLI prints it). */
export interface LabInfo {
  runId: string;
  stateFile: string;
  nodes: Record<string, { namespace: string }>;
  links: Record<string, { a: LinkEndInfo; b: LinkEndInfo }>;
}

/** A running topology. All methods reject with NETLAB_DESTROYED after destroy(). */
export interface Lab {
  readonly runId: string;
  readonly spec: LabSpec;
  /** Namespace name of a node (`ebx-<runid>-<node>`). */
  namespace(node: string): string;
  /** Interface name of `node`'s end of `link`. */
  ifname(node: string, link: string): string;
  /** Address (without prefix) of `node` on `link`; IPv4 unless `family` is 6. */
  address(node: string, link: string, family?: 4 | 6): string;
  info(): LabInfo;
  /** Runs a command inside `node` (`ip netns exec`), bounded output, 30 s default timeout. */
  exec(node: string, cmd: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running process inside `node`; destroy() kills it by PID. */
  spawn(node: string, cmd: string, args?: readonly string[], options?: LabSpawnOptions): ChildProcess;
  /** Egress rate limit in Mbit/s (tc tbf) on one or both ends; null removes it. */
  setRate(link: string, mbit: number | null): Promise<void>;
  setRate(link: string, side: SideSelector, mbit: number | null): Promise<void>;
  /** Egress loss in percent (nftables numgen) on one or both ends; 0 removes it. */
  setLoss(link: string, percent: number): Promise<void>;
  setLoss(link: string, side: SideSelector, percent: number): Promise<void>;
  /** Takes both ends of `link` down. */
  cut(link: string): Promise<void>;
  /** Brings both ends up again and re-installs the routes that went over it. */
  restore(link: string): Promise<void>;
  /** Kills spawned processes, deletes the namespaces and the state file. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Whether this process can build labs, and if not, why. */
export interface RootStatus {
  ok: boolean;
  reason?: string;
}

/**
 * Reports whether netlab can run here (it needs uid 0).
 *
 * @example
 * const root = rootStatus();
 * if (!root.ok) console.log('skipping:', root.reason);
 */
export function rootStatus(): RootStatus {
  const uid = process.getuid?.();
  if (uid === 0) return { ok: true };
  return {
    ok: false,
    reason:
      uid === undefined
        ? 'netlab needs Linux network namespaces; this platform has no uid (not Linux)'
        : `netlab needs root: running as uid ${uid}, and network namespaces, veth pairs, tc and nftables need CAP_SYS_ADMIN + CAP_NET_ADMIN (run as root)`,
  };
}

/**
 * Throws NETLAB_NOT_ROOT (with the reason) unless this process is root.
 *
 * @example
 * assertRoot();
 */
export function assertRoot(): void {
  const root = rootStatus();
  if (!root.ok) throw new NetlabError('NETLAB_NOT_ROOT', root.reason ?? 'not root');
}

interface ResolvedRoute {
  route: RouteSpec;
  link: string | undefined;
}

class LabImpl implements Lab {
  readonly runId: string;
  readonly spec: LabSpec;
  private readonly namespaces: string[];
  private readonly links = new Map<string, LinkSpec>();
  private readonly routes: ResolvedRoute[];
  private readonly children = new Set<ChildProcess>();
  /** namespace -> ifname -> loss percent (the nft table is rebuilt from this). */
  private readonly loss = new Map<string, Map<string, number>>();
  private destroying: Promise<void> | undefined;

  constructor(runId: string, spec: LabSpec) {
    this.runId = runId;
    this.spec = spec;
    this.namespaces = Object.keys(spec.nodes).map((n) => this.nsName(n));
    for (const link of spec.links) this.links.set(link.name, link);
    this.routes = spec.routes.map((route) => ({
      route,
      link: route.dev ?? (route.via === undefined ? undefined : findLinkFor(spec.links, route.node, route.via)?.name),
    }));
  }

  private nsName(node: string): string {
    return `${NAMESPACE_PREFIX}${this.runId}-${node}`;
  }

  private alive(): void {
    if (this.destroying !== undefined) throw new NetlabError('NETLAB_DESTROYED', `lab ${this.runId} was destroyed`);
  }

  namespace(node: string): string {
    if (this.spec.nodes[node] === undefined) {
      throw new NetlabError('NETLAB_UNKNOWN_NODE', `unknown node "${node}" (lab has ${Object.keys(this.spec.nodes).join(', ')})`, { details: { node } });
    }
    return this.nsName(node);
  }

  private link(name: string): LinkSpec {
    const link = this.links.get(name);
    if (link === undefined) {
      throw new NetlabError('NETLAB_UNKNOWN_LINK', `unknown link "${name}" (lab has ${[...this.links.keys()].join(', ') || 'no links'})`, { details: { link: name } });
    }
    return link;
  }

  private end(node: string, linkName: string): LinkSpec['a'] & { ifname: string } {
    const link = this.link(linkName);
    const end = link.a.node === node ? link.a : link.b.node === node ? link.b : undefined;
    if (end === undefined) {
      throw new NetlabError('NETLAB_UNKNOWN_LINK', `node "${node}" is not on link "${linkName}" (it joins ${link.a.node} and ${link.b.node})`, { details: { node, link: linkName } });
    }
    return { ...end, ifname: end.ifname ?? link.name };
  }

  /** Resolves a side selector to the ends it names. */
  private sides(linkName: string, side: SideSelector | undefined): LinkSide[] {
    const link = this.link(linkName);
    if (side === undefined || side === 'both') return ['a', 'b'];
    if (side === link.a.node) return ['a'];
    if (side === link.b.node) return ['b'];
    if (side === 'a' || side === 'b') return [side];
    throw new NetlabError('NETLAB_UNKNOWN_LINK', `side "${side}" is not on link "${linkName}" (expected ${link.a.node}, ${link.b.node}, a, b or both)`, { details: { link: linkName, side } });
  }

  ifname(node: string, link: string): string {
    return this.end(node, link).ifname;
  }

  address(node: string, link: string, family: 4 | 6 = 4): string {
    const end = this.end(node, link);
    const text = family === 4 ? end.ipv4 : end.ipv6;
    if (text === undefined) {
      throw new NetlabError('NETLAB_INVALID_ARGUMENT', `node "${node}" has no IPv${family} address on link "${link}"`, { details: { node, link, family } });
    }
    return text.slice(0, text.indexOf('/'));
  }

  info(): LabInfo {
    const nodes: LabInfo['nodes'] = {};
    for (const node of Object.keys(this.spec.nodes)) nodes[node] = { namespace: this.nsName(node) };
    const links: LabInfo['links'] = {};
    for (const link of this.spec.links) {
      const describe = (side: LinkSide): LinkEndInfo => {
        const end = link[side];
        const info: LinkEndInfo = { node: end.node, namespace: this.nsName(end.node), ifname: end.ifname ?? link.name };
        if (end.ipv4 !== undefined) info.ipv4 = end.ipv4;
        if (end.ipv6 !== undefined) info.ipv6 = end.ipv6;
        return info;
      };
      links[link.name] = { a: describe('a'), b: describe('b') };
    }
    return { runId: this.runId, stateFile: join(stateDir(), `${this.runId}.json`), nodes, links };
  }

  async exec(node: string, cmd: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    this.alive();
    const ns = this.namespace(node);
    const res = await runCommand('ip', ['netns', 'exec', ns, cmd, ...args], { ...options, check: false });
    // `ip netns exec` reports a missing program itself (status 1 or 255 by iproute2 version).
    if (res.code !== 0 && res.stderr.includes(`exec of "${cmd}" failed: No such file or directory`)) {
      throw new NetlabError('NETLAB_TOOL_MISSING', `command not found in node "${node}": ${cmd}`, { details: { node, command: cmd } });
    }
    if ((options.check ?? true) && res.code !== 0) {
      const why = res.stderr.trim() || res.stdout.trim() || '(no output)';
      throw new NetlabError('NETLAB_COMMAND_FAILED', `[${node}] ${[cmd, ...args].join(' ')}: exit ${res.code ?? res.signal}: ${why}`, {
        details: { node, command: [cmd, ...args].join(' '), code: res.code, signal: res.signal, stderr: res.stderr },
      });
    }
    return res;
  }

  spawn(node: string, cmd: string, args: readonly string[] = [], options: LabSpawnOptions = {}): ChildProcess {
    this.alive();
    const ns = this.namespace(node);
    // `ip netns exec` setns()es and then execs cmd in the same process: the PID we get is the
    // program's own, so killing it by PID reaches the program, not a wrapper.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  async setRate(link: string, sideOrMbit: SideSelector | number | null, maybeMbit?: number | null): Promise<void> {
    this.alive();
    const [side, mbit] = typeof sideOrMbit === 'string' ? [sideOrMbit, maybeMbit ?? null] : [undefined, sideOrMbit];
    if (mbit !== null && !(Number.isFinite(mbit) && mbit > 0 && mbit <= 100_000)) {
      throw new NetlabError('NETLAB_INVALID_ARGUMENT', `rate ${mbit} Mbit/s out of range (expected > 0 and <= 100000, or null to remove)`, { details: { link, mbit } });
    }
    const spec = this.link(link);
    for (const s of this.sides(link, side)) {
      const end = spec[s];
      await this.applyRate(this.nsName(end.node), end.ifname ?? spec.name, mbit);
    }
  }

  private async applyRate(ns: string, dev: string, mbit: number | null): Promise<void> {
    if (mbit === null) {
      const res = await runCommand('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root'], { check: false });
      // Deleting a qdisc that is not there is fine; anything else is not.
      if (res.code !== 0 && !/No such file|Cannot delete qdisc with handle of zero|Cannot find/i.test(res.stderr)) {
        throw new NetlabError('NETLAB_COMMAND_FAILED', `tc qdisc del dev ${dev} root in ${ns}: ${res.stderr.trim()}`, { details: { stderr: res.stderr } });
      }
      return;
    }
    const kbit = Math.max(1, Math.round(mbit * 1000));
    // Burst: at least 10 full frames, or 10 ms at the rate; tbf needs burst >= rate / HZ.
    const burst = Math.max(15_140, Math.ceil((mbit * 1e6) / 8 / 100));
    await runCommand('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '50ms']);
  }

  async setLoss(link: string, sideOrPercent: SideSelector | number, maybePercent?: number): Promise<void> {
    this.alive();
    const [side, percent] = typeof sideOrPercent === 'string' ? [sideOrPercent, maybePercent ?? Number.NaN] : [undefined, sideOrPercent];
    if (!(Number.isFinite(percent) && percent >= 0 && percent <= 100)) {
      throw new NetlabError('NETLAB_INVALID_ARGUMENT', `loss ${percent}% out of range (expected 0..100)`, { details: { link, percent } });
    }
    const spec = this.link(link);
    const touched = new Set<string>();
    for (const s of this.sides(link, side)) {
      const end = spec[s];
      const ns = this.nsName(end.node);
      let map = this.loss.get(ns);
      if (map === undefined) this.loss.set(ns, (map = new Map()));
      if (percent === 0) map.delete(end.ifname ?? spec.name);
      else map.set(end.ifname ?? spec.name, percent);
      touched.add(ns);
    }
    for (const ns of touched) await this.applyLoss(ns);
  }

  /**
   * Rebuilds this lab's nftables table in `ns` atomically (one `nft -f` batch). Only the table
   * named NFT_TABLE is created or deleted; other tables in the namespace are left as they are.
   */
  private async applyLoss(ns: string): Promise<void> {
    const map = this.loss.get(ns) ?? new Map<string, number>();
    // "add then delete" makes the delete succeed whether or not the table existed.
    const lines = [`add table inet ${NFT_TABLE}`, `delete table inet ${NFT_TABLE}`];
    if (map.size > 0) {
      lines.push(`table inet ${NFT_TABLE} {`, '  chain postrouting {', '    type filter hook postrouting priority 0; policy accept;');
      for (const [dev, percent] of map) {
        // numgen gives 0..9999; dropping below percent*100 drops that share (0.01 % steps).
        // 100 % is an unconditional drop: nft refuses `< 10000` as out of numgen's range.
        const threshold = Math.round(percent * 100);
        lines.push(threshold >= 10000 ? `    oifname "${dev}" counter drop` : `    oifname "${dev}" numgen random mod 10000 < ${threshold} counter drop`);
      }
      lines.push('  }', '}');
    }
    await runCommand('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: lines.join('\n') + '\n' });
  }

  async cut(link: string): Promise<void> {
    this.alive();
    const spec = this.link(link);
    for (const s of ['a', 'b'] as const) {
      await runCommand('ip', ['-n', this.nsName(spec[s].node), 'link', 'set', 'dev', spec[s].ifname ?? spec.name, 'down']);
    }
  }

  async restore(link: string): Promise<void> {
    this.alive();
    const spec = this.link(link);
    for (const s of ['a', 'b'] as const) {
      await runCommand('ip', ['-n', this.nsName(spec[s].node), 'link', 'set', 'dev', spec[s].ifname ?? spec.name, 'up']);
    }
    // Taking a link down flushed the routes over it; put the spec's routes back.
    for (const r of this.routes) if (r.link === link) await this.applyRoute(r);
  }

  private async applyRoute(r: ResolvedRoute): Promise<void> {
    const { route } = r;
    const family = route.to === 'default' ? '-4' : route.to === 'default6' ? '-6' : route.to.includes(':') ? '-6' : '-4';
    const args = ['-n', this.nsName(route.node), family, 'route', 'replace', route.to === 'default6' ? 'default' : route.to];
    if (route.via !== undefined) args.push('via', route.via);
    if (r.link !== undefined) args.push('dev', this.end(route.node, r.link).ifname);
    await runCommand('ip', args);
  }

  /** Steps 2-5 of the build (see the file comment). */
  async build(signal: AbortSignal | undefined): Promise<void> {
    const usesV6 = this.spec.links.some((l) => l.a.ipv6 !== undefined || l.b.ipv6 !== undefined) || this.spec.routes.some((r) => r.to === 'default6' || r.to.includes(':'));
    const o = { signal };
    for (const [node, conf] of Object.entries(this.spec.nodes)) {
      const ns = this.nsName(node);
      await runCommand('ip', ['netns', 'add', ns], o);
      await runCommand('ip', ['-n', ns, 'link', 'set', 'dev', 'lo', 'up'], o);
      const sysctls: Record<string, string | number> = {};
      if (usesV6) {
        // Keep IPv6 addresses across cut/restore and skip DAD so addresses work at once.
        sysctls['net.ipv6.conf.all.keep_addr_on_down'] = 1;
        sysctls['net.ipv6.conf.all.accept_dad'] = 0;
        sysctls['net.ipv6.conf.default.accept_dad'] = 0;
      }
      if (conf.forward === true) {
        sysctls['net.ipv4.ip_forward'] = 1;
        if (usesV6) sysctls['net.ipv6.conf.all.forwarding'] = 1;
      }
      Object.assign(sysctls, conf.sysctls ?? {});
      for (const [key, value] of Object.entries(sysctls)) {
        await runCommand('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`], o);
      }
    }
    for (const link of this.spec.links) {
      const a = { ns: this.nsName(link.a.node), dev: link.a.ifname ?? link.name };
      const b = { ns: this.nsName(link.b.node), dev: link.b.ifname ?? link.name };
      const mtu = link.mtu === undefined ? [] : ['mtu', String(link.mtu)];
      await runCommand('ip', ['-n', a.ns, 'link', 'add', a.dev, ...mtu, 'type', 'veth', 'peer', 'name', b.dev, ...mtu, 'netns', b.ns], o);
      for (const [end, where] of [[link.a, a], [link.b, b]] as const) {
        if (end.ipv4 !== undefined) await runCommand('ip', ['-n', where.ns, 'addr', 'add', end.ipv4, 'dev', where.dev], o);
        if (end.ipv6 !== undefined) await runCommand('ip', ['-n', where.ns, '-6', 'addr', 'add', end.ipv6, 'dev', where.dev, 'nodad'], o);
        await runCommand('ip', ['-n', where.ns, 'link', 'set', 'dev', where.dev, 'up'], o);
      }
    }
    for (const r of this.routes) {
      signal?.throwIfAborted();
      await this.applyRoute(r);
    }
    for (const link of this.spec.links) {
      for (const s of ['a', 'b'] as const) {
        const rate = link[s].rateMbit ?? link.rateMbit;
        if (rate !== undefined) await this.setRate(link.name, s, rate);
        const loss = link[s].lossPercent ?? link.lossPercent;
        if (loss !== undefined && loss > 0) await this.setLoss(link.name, s, loss);
      }
    }
  }

  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    try {
      await this.killChildren();
      for (const ns of this.namespaces) await removeNamespace(ns);
      removeRunState(this.runId);
    } finally {
      unregisterLab(this);
    }
  }

  private async killChildren(): Promise<void> {
    const running = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null && c.pid !== undefined);
    if (running.length === 0) return;
    const exited = running.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())));
    for (const c of running) c.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), KILL_GRACE_MS)));
    const outcome = await Promise.race([Promise.all(exited), grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all(exited);
    }
  }

  destroySync(): void {
    this.destroying ??= Promise.resolve();
    for (const c of this.children) if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
    for (const ns of this.namespaces) deleteNamespaceSync(ns);
    removeRunState(this.runId);
  }
}

function newRunId(): string {
  for (;;) {
    const id = randomBytes(3).toString('hex');
    if (!existsSync(join(stateDir(), `${id}.json`))) return id;
  }
}

/**
 * Builds the topology described by `spec` and resolves with a live Lab.
 *
 * @example
 * const lab = await createLab({
 *   nodes: { client: {}, server: {} },
 *   links: [{ name: 'wan', a: { node: 'client', ipv4: '10.0.0.1/24' }, b: { node: 'server', ipv4: '10.0.0.2/24' } }],
 * });
 * try {
 *   await lab.exec('client', 'ping', ['-c', '1', lab.address('server', 'wan')]);
 * } finally {
 *   await lab.destroy();
 * }
 */
export async function createLab(spec: unknown, options: CreateLabOptions = {}): Promise<Lab> {
  const parsed = parseSpec(spec);
  assertRoot();
  const { signal } = options;
  if (signal?.aborted) throw new NetlabError('NETLAB_ABORTED', 'aborted before the lab was built', { cause: signal.reason });
  const lab = new LabImpl(newRunId(), parsed);
  writeRunState({
    runId: lab.runId,
    ownerPid: process.pid,
    ownerStartTime: processStartTime(process.pid),
    createdAt: new Date().toISOString(),
    namespaces: Object.keys(parsed.nodes).map((n) => lab.namespace(n)),
  });
  registerLab(lab);
  try {
    await lab.build(signal);
  } catch (err) {
    await lab.destroy().catch(() => undefined);
    if (signal?.aborted && !(err instanceof NetlabError && err.code === 'NETLAB_ABORTED')) {
      throw new NetlabError('NETLAB_ABORTED', 'aborted while the lab was being built', { cause: signal.reason });
    }
    throw err;
  }
  return lab;
}
