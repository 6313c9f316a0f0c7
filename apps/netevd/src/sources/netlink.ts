/**
 * The netlink source: kernel link / address / route / rule changes as @edgebox/events v1
 * events on the daemon's bus, no DBus needed.
 *
 *   1. trigger    one long-lived `ip -o monitor label link address route rule` (rtnetlink
 *                 multicast, no polling). `ip monitor` has no JSON output, so its lines are only
 *                 triggers: what changed is read back with `ip -j addr show`, written to a
 *                 long-lived `ip -j -batch -` (ip-command.ts createBatchIp: no spawn per read).
 *   2. coalesce   at most one re-read in flight and one pending: a line arriving during a read
 *                 marks the snapshot dirty, and one more read follows. A flap storm of 1,000
 *                 changes costs back-to-back reads, never a queue of them, and the first change
 *                 of a quiet period is read at once (no timer: event latency is one `ip` call).
 *   3. snapshot   per interface: ifindex, flags, operational state, addresses (state()).
 *   4. diff       a changed state or address list → `link.state` {old, new}, an interface
 *                 gone → `link.state` {old, new: removed}; route or rule lines → one
 *                 `route.changed` per read.
 *   5. startup    start() reads once and publishes `link.state` {new} for every interface
 *                 (data.startup true): networkd-dispatcher's `-T` triggers.
 *
 * States follow networkd's operational states so the same script folders serve both:
 * off (admin down), no-carrier (up, no lower layer), carrier (no address), degraded (link-local
 * addresses only), routable (a global address).
 *
 * The monitor starts before the first read so nothing between the two is lost; a monitor that
 * dies is restarted with backoff (250 ms doubling to 5 s) and a read follows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isAddress } from '@edgebox/events';
import type { EventBus, EventFactory, JsonObject } from '@edgebox/events';
import { NetevdError } from '../errors.js';
import { createBatchIp, ipJson } from '../ip-command.js';
import type { IpAddrInfo, IpLinkJson, IpRunner } from '../ip-command.js';

/** A state of netevd's link model (networkd's operational states, plus removed). */
export type LinkOperState = 'off' | 'no-carrier' | 'carrier' | 'degraded' | 'routable' | 'removed';

/** One interface as the netlink source last read it. */
export interface NetlinkInterface {
  name: string;
  ifindex: number;
  state: LinkOperState;
  /** `10.0.0.2/24`, `fe80::1/64`: global first, then link-local, kernel order within each. */
  addresses: string[];
  flags: string[];
  operstate: string;
  mtu: number | null;
  mac: string | null;
}

/** Options of createNetlinkSource. */
export interface NetlinkSourceInit {
  bus: EventBus;
  /** The daemon's event factory (one id sequence for every source of the process). */
  events: EventFactory;
  /** `ip -n NETNS`. */
  netns?: string | undefined;
  /** Interfaces to report (default: all). */
  accept?: (name: string) => boolean;
  /** Publish the startup snapshot (default true). */
  startupEvents?: boolean;
  /** The `ip` runner for reads (tests inject one). */
  ip?: IpRunner;
  /** A failed read or monitor start (the source keeps going). */
  onError?: (err: unknown) => void;
  /** Route and rule lines with this protocol (netevd's own routing) do not make `route.changed`. */
  ownProtocol?: number;
  /** Monitor restart delays (default 250 ms → 5 s). */
  restartMinMs?: number;
  restartMaxMs?: number;
}

/** Counters and health of the netlink source. */
export interface NetlinkSourceStats {
  running: boolean;
  monitorPid: number | null;
  monitorLines: number;
  monitorRestarts: number;
  reads: number;
  readErrors: number;
  published: number;
  lastError: string | null;
  lastReadAt: string | null;
}

/** The netlink source. */
export interface NetlinkSource {
  /** Start the monitor, read, publish the startup events. */
  start(): Promise<void>;
  /** Kill the monitor by PID, wait for a read in progress. Safe twice. */
  stop(): Promise<void>;
  /** The last snapshot. */
  interfaces(): NetlinkInterface[];
  /** Read now (even without a trigger); resolves after the diff is published. */
  refresh(): Promise<void>;
  stats(): NetlinkSourceStats;
  /** Ok while the monitor runs and the last read succeeded. */
  health(): { ok: boolean; detail: string };
}

/**
 * A link's operational state from its flags and addresses.
 *
 * @example linkState(['UP', 'LOWER_UP'], [{ family: 'inet', local: '10.0.0.2', prefixlen: 24, scope: 'global' }]); // 'routable'
 */
export function linkState(flags: readonly string[], addrs: readonly IpAddrInfo[]): LinkOperState {
  if (!flags.includes('UP')) return 'off';
  if (!flags.includes('LOWER_UP') || flags.includes('NO-CARRIER')) return 'no-carrier';
  let linkLocal = false;
  for (const a of addrs) {
    if (a.dadfailed === true) continue;
    if (a.scope === 'global' || a.scope === 'site') return 'routable';
    if (a.scope === 'link') linkLocal = true;
  }
  return linkLocal ? 'degraded' : 'carrier';
}

/**
 * `ip -j addr show` → the snapshot (interfaces the filter accepts).
 *
 * @example snapshotFrom(await ipJson(runIp, ['addr', 'show']), (n) => n !== 'lo').get('eth0')?.state; // 'routable'
 */
export function snapshotFrom(links: readonly IpLinkJson[], accept: (name: string) => boolean): Map<string, NetlinkInterface> {
  const out = new Map<string, NetlinkInterface>();
  for (const l of links) {
    if (typeof l.ifname !== 'string' || !accept(l.ifname)) continue;
    const addrs = (l.addr_info ?? []).filter((a) => typeof a.local === 'string');
    const global = addrs.filter((a) => a.scope !== 'link' && a.scope !== 'host');
    const local = addrs.filter((a) => a.scope === 'link');
    const addresses = [...global, ...local].map((a) => `${a.local}/${a.prefixlen}`).filter(isAddress);
    out.set(l.ifname, {
      name: l.ifname,
      ifindex: l.ifindex,
      state: linkState(l.flags ?? [], addrs),
      addresses,
      flags: l.flags ?? [],
      operstate: l.operstate ?? 'UNKNOWN',
      mtu: l.mtu ?? null,
      mac: l.address ?? null,
    });
  }
  return out;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Create the netlink source (not started).
 *
 * @example
 * const bus = createEventBus();
 * const src = createNetlinkSource({ bus, events: createEventFactory({ source: 'netevd' }) });
 * await src.start(); // one link.state per interface, then changes as they happen
 */
export function createNetlinkSource(init: NetlinkSourceInit): NetlinkSource {
  // Reads go through one long-lived `ip -j -batch -` (no process spawn per change).
  const batch = init.ip === undefined ? createBatchIp(init.netns) : undefined;
  const ip = init.ip ?? batch!.run;
  const accept = init.accept ?? (() => true);
  const ownProto = init.ownProtocol === undefined ? undefined : new RegExp(` proto ${init.ownProtocol}(?:\\s|$)`);
  const restartMin = init.restartMinMs ?? 250;
  const restartMax = init.restartMaxMs ?? 5000;
  let snapshot = new Map<string, NetlinkInterface>();
  let running = false;
  let monitor: ChildProcess | undefined;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;
  let restartDelay = restartMin;
  let reading: Promise<void> | undefined;
  let dirty = false;
  let routesDirty = false;
  const stats: NetlinkSourceStats = { running: false, monitorPid: null, monitorLines: 0, monitorRestarts: 0, reads: 0, readErrors: 0, published: 0, lastError: null, lastReadAt: null };

  const report = (err: unknown): void => {
    stats.lastError = err instanceof Error ? err.message : String(err);
    init.onError?.(err);
  };

  function publish(kind: string, iface: NetlinkInterface | undefined, old: string | undefined, next: string, data: JsonObject): void {
    const event = init.events.create({
      kind,
      ...(iface === undefined ? {} : { subject: iface.name, interface: iface.name, addresses: iface.addresses.slice(0, 64) }),
      states: old === undefined ? { new: next } : { old, new: next },
      data: { backend: 'netlink', ...data },
    });
    init.bus.publish(event);
    stats.published++;
  }

  const linkData = (i: NetlinkInterface, startup: boolean): JsonObject => ({ ifindex: i.ifindex, operstate: i.operstate, flags: i.flags, mtu: i.mtu, mac: i.mac, startup });

  async function readOnce(startup: boolean): Promise<void> {
    const routes = routesDirty;
    routesDirty = false;
    let links: IpLinkJson[];
    try {
      links = await ipJson<IpLinkJson[]>(ip, ['addr', 'show'], { netns: init.netns });
    } catch (err) {
      stats.readErrors++;
      report(err);
      return;
    }
    stats.reads++;
    stats.lastReadAt = new Date().toISOString();
    const next = snapshotFrom(links, accept);
    const prev = snapshot;
    snapshot = next;
    if (!running && !startup) return;
    for (const [name, now] of next) {
      const was = prev.get(name);
      if (startup) {
        if (init.startupEvents ?? true) publish('link.state', now, undefined, now.state, linkData(now, true));
        continue;
      }
      if (was === undefined) publish('link.state', now, undefined, now.state, linkData(now, false));
      else if (was.state !== now.state || !sameList(was.addresses, now.addresses) || was.ifindex !== now.ifindex) publish('link.state', now, was.state, now.state, linkData(now, false));
    }
    if (!startup) {
      for (const [name, was] of prev) {
        if (!next.has(name)) publish('link.state', { ...was, addresses: [] }, was.state, 'removed', { ifindex: was.ifindex, startup: false });
      }
    }
    if (routes && !startup) publish('route.changed', undefined, undefined, 'changed', { startup: false });
  }

  // One read in flight; triggers during it make exactly one more.
  function trigger(): void {
    if (!running) return;
    if (reading !== undefined) {
      dirty = true;
      return;
    }
    reading = (async () => {
      do {
        dirty = false;
        await readOnce(false);
      } while (dirty && running);
    })().finally(() => {
      reading = undefined;
    });
  }

  function onLine(line: string): void {
    stats.monitorLines++;
    // `ip monitor label` prefixes each line with its object: [LINK], [ADDR], [ROUTE], [RULE].
    // Route and rule changes carrying our own protocol are the daemon's own work: not news.
    if ((line.startsWith('[ROUTE]') || line.startsWith('[RULE]')) && (ownProto === undefined || !ownProto.test(line))) routesDirty = true;
    trigger();
  }

  function startMonitor(): Promise<void> {
    const args = ['-o', 'monitor', 'label', 'link', 'address', 'route', 'rule'];
    const child = spawn('ip', init.netns === undefined ? args : ['-n', init.netns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    monitor = child;
    stats.monitorPid = child.pid ?? null;
    createInterface({ input: child.stdout! }).on('line', onLine);
    child.stderr!.resume();
    child.once('exit', () => onMonitorExit(child));
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => {
        reject(new NetevdError('NETEVD_SOURCE', `netlink: ip monitor could not start: ${err.message}`, { cause: err }));
      });
    });
  }

  function onMonitorExit(child: ChildProcess): void {
    if (monitor !== child) return;
    monitor = undefined;
    stats.monitorPid = null;
    if (!running) return;
    stats.monitorRestarts++;
    report(new NetevdError('NETEVD_SOURCE', `netlink: ip monitor exited (code ${child.exitCode ?? 'null'}, signal ${child.signalCode ?? 'none'}); restarting in ${restartDelay} ms`));
    const delay = restartDelay;
    restartDelay = Math.min(restartDelay * 2, restartMax);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!running) return;
      startMonitor()
        .then(() => {
          // Changes while no monitor ran were not seen: read now.
          trigger();
          setTimeout(() => {
            if (monitor !== undefined) restartDelay = restartMin;
          }, 10_000).unref();
        })
        .catch(report);
    }, delay);
  }

  return {
    async start() {
      if (running) return;
      running = true;
      stats.running = true;
      try {
        await startMonitor();
        await readOnce(true);
      } catch (err) {
        running = false;
        stats.running = false;
        monitor?.kill('SIGKILL');
        throw err;
      }
    },
    async stop() {
      running = false;
      stats.running = false;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      restartTimer = undefined;
      const child = monitor;
      monitor = undefined;
      stats.monitorPid = null;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref())]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await reading;
      batch?.close();
    },
    interfaces: () => [...snapshot.values()],
    async refresh() {
      if (reading !== undefined) await reading;
      await readOnce(false);
    },
    stats: () => ({ ...stats }),
    health() {
      if (!running) return { ok: false, detail: 'netlink: stopped' };
      if (monitor === undefined) return { ok: false, detail: `netlink: ip monitor restarting (${stats.lastError ?? 'exited'})` };
      return { ok: true, detail: `netlink: ${snapshot.size} interfaces, ${stats.reads} reads` };
    },
  };
}
