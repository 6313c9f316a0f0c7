/**
 * The networkd lab: the REAL systemd-networkd in a throwaway network namespace with a private
 * system bus (shared/recipes/real-networkd-in-netns.md), for netevd's end-to-end scenarios.
 *
 *   node `nd` (netns + private mounts)                    node `peer`
 *   ┌─────────────────────────────────────────────┐       ┌────────────┐
 *   │ dbus-daemon --system  (/run/dbus/... and     │ nd0 ─ │ pe0        │
 *   │   <tmp>/bus.sock, reachable from outside)    │ nd1 ─ │ pe1  ...   │
 *   │ systemd-networkd      (reports, manages none)│       └────────────┘
 *   │ netevd (spawnInside: same mount + net ns)    │
 *   └─────────────────────────────────────────────┘
 *
 * - `ip netns exec nd unshare -m --propagation private sh inner.sh` mounts tmpfs over
 *   /run/dbus, /run/systemd and /etc/systemd/network (so networkd sees no host config and the
 *   host's bus and state are never touched), starts the bus and networkd and prints their PIDs.
 * - The bus also listens on `<tmp>/bus.sock`: a path socket works across network namespaces,
 *   so a test process outside can connect with `busAddress`. A process started with
 *   `spawnInside` (nsenter into the bus daemon's mount and network namespaces) uses the system
 *   bus as usual and manages routes in the lab's namespace.
 * - Links: veth pairs ndK <-> peK, up, without addresses; a link loses its carrier when the
 *   peer end goes down (`lab.exec('peer', 'ip', ['link', 'set', 'pe0', 'down'])`). IPv6 is off
 *   in `nd` unless asked for, so operational states do not depend on link-local timing.
 * - destroy(): every PID we started, by PID (SIGTERM, then SIGKILL), then lab.destroy()
 *   (namespaces) and the temp dir.
 *
 * With /sys read-only networkd does not wait for udev: a link matched by one of
 * `networkFiles` is configured (AdministrativeState `configured`), the others are `unmanaged`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLab, runCommand } from '@edgebox/netlab';
import type { ExecResult, Lab } from '@edgebox/netlab';

/** Where Debian's systemd package puts networkd. */
export const NETWORKD_BINARY = '/lib/systemd/systemd-networkd';
/** How long the bus and networkd get to start. */
export const NETWORKD_START_MS = 15_000;

/** Whether this machine can run the lab, and if not, why (root is checked by the caller's gate). */
export function networkdLabStatus(): { ok: boolean; reason?: string } {
  for (const [path, pkg] of [
    [NETWORKD_BINARY, 'systemd'],
    ['/usr/bin/dbus-daemon', 'dbus'],
    ['/usr/bin/nsenter', 'util-linux'],
    ['/usr/bin/busctl', 'systemd'],
  ] as const) {
    if (!existsSync(path)) return { ok: false, reason: `${path} is missing (Debian package ${pkg})` };
  }
  return { ok: true };
}

/** Options of createNetworkdLab(). */
export interface NetworkdLabOptions {
  /** veth pairs nd0..nd{n-1} <-> pe0..: 1..4 (default 1). */
  links?: number;
  /** Keep IPv6 on in `nd` (default off). */
  ipv6?: boolean;
  /** `.network` files for networkd (`{ '50-nd.network': '[Match]\nName=nd*\n...' }`); default none: networkd only reports. */
  networkFiles?: Record<string, string>;
}

/** A running networkd lab. */
export interface NetworkdLab {
  readonly lab: Lab;
  /** `unix:path=<tmp>/bus.sock`: the private system bus, from outside the namespaces. */
  readonly busAddress: string;
  /** Temp dir of this lab (bus config, inner script; free for the scenario's files). */
  readonly dir: string;
  /** Interface names in `nd` (nd0, ...). */
  readonly links: readonly string[];
  /** PID of the private dbus-daemon (its namespaces are the ones spawnInside enters). */
  readonly busPid: number;
  /** PID of the running networkd (changes after restartNetworkd). */
  readonly networkdPid: number;
  /** Start a process in networkd's mount and network namespaces (nsenter execs: the PID is the program's). Killed by destroy(). */
  spawnInside(cmd: string, args?: readonly string[], options?: { env?: Record<string, string>; cwd?: string }): ChildProcess;
  /** Run a command in networkd's namespaces to completion (throws on non-zero exit unless check is false). */
  execInside(cmd: string, args?: readonly string[], options?: { check?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  /** networkd's OperationalState of a link in `nd`, read over the private bus. */
  operationalState(ifname: string): Promise<string>;
  /** networkd's AdministrativeState of a link in `nd` (configured, unmanaged, ...). */
  administrativeState(ifname: string): Promise<string>;
  /** Kill networkd (by PID) and start a new one in the same namespaces. */
  restartNetworkd(): Promise<void>;
  destroy(): Promise<void>;
}

const BUS_CONFIG = (extraSocket: string): string => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <listen>unix:path=${extraSocket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

// `ip netns exec` already mounted this namespace's sysfs, read-write; networkd initializes
// links without udev only when /sys is read-only (its udev_available() is "/sys is writable"),
// so it is remounted read-only in this mount namespace. The rest is the recipe.
const INNER_SCRIPT = (dir: string, files: readonly string[]): string => `set -e
mount -o remount,ro /sys
mount -t tmpfs tmpfs /run/dbus 2>/dev/null || { mkdir -p /run/dbus; mount -t tmpfs tmpfs /run/dbus; }
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/netif/links /run/systemd/netif/leases
chown -R systemd-network:systemd-network /run/systemd/netif
mount -t tmpfs tmpfs /etc/systemd/network
${files.map((f) => `cp ${dir}/network/${f} /etc/systemd/network/${f}`).join('\n')}
dbus-daemon --config-file=${dir}/bus.conf --nofork --nopidfile &
echo "pid dbus-daemon $!"
i=0; while [ ! -S ${dir}/bus.sock ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
container=other ${NETWORKD_BINARY} &
echo "pid systemd-networkd $!"
wait
`;

const FILE_NAME = /^[A-Za-z0-9_.-]+\.network$/;

/** Signal a PID we started; false when it is gone. */
function signalPid(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to 2 s, SIGKILL. */
async function killPid(pid: number): Promise<void> {
  if (!signalPid(pid, 'SIGTERM')) return;
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    if (!signalPid(pid, 0)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  signalPid(pid, 'SIGKILL');
}

/** Resolves once networkd owns org.freedesktop.network1 on the lab's bus. */
async function waitForNetworkd(busAddress: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const res = await runCommand(
      'busctl',
      [`--address=${busAddress}`, 'call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetConnectionUnixProcessID', 's', 'org.freedesktop.network1'],
      { check: false, timeoutMs: 5000 },
    );
    if (res.code === 0) return;
    if (Date.now() > deadline) throw new Error(`systemd-networkd did not appear on ${busAddress} within ${deadlineMs} ms: ${res.stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Build the lab and start the private bus and networkd in it.
 *
 * @example
 * const nd = await createNetworkdLab({ links: 2 });
 * try {
 *   const daemon = nd.spawnInside('node', ['--import', 'tsx', 'apps/netevd/src/main.ts', 'run', '--config', cfg]);
 *   await nd.lab.exec('nd', 'ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'nd0']);
 *   expect(await nd.operationalState('nd0')).toBe('routable');
 * } finally { await nd.destroy(); }
 */
export async function createNetworkdLab(options: NetworkdLabOptions = {}): Promise<NetworkdLab> {
  const count = options.links ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 4) throw new Error(`links ${count} is out of range (expected 1..4)`);
  const files = Object.keys(options.networkFiles ?? {});
  for (const f of files) if (!FILE_NAME.test(f)) throw new Error(`network file name ${JSON.stringify(f)} is not [A-Za-z0-9_.-]+.network`);

  const dir = await mkdtemp(join(tmpdir(), 'ebx-networkd-'));
  const busAddress = `unix:path=${join(dir, 'bus.sock')}`;
  await writeFile(join(dir, 'bus.conf'), BUS_CONFIG(join(dir, 'bus.sock')));
  await writeFile(join(dir, 'inner.sh'), INNER_SCRIPT(dir, files));
  if (files.length > 0) {
    await runCommand('mkdir', ['-p', join(dir, 'network')]);
    for (const f of files) await writeFile(join(dir, 'network', f), options.networkFiles![f]!);
  }
  const links = Array.from({ length: count }, (_, i) => `nd${i}`);
  const sysctls = options.ipv6 === true ? {} : { 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1 };
  let lab: Lab | undefined;
  const pids: number[] = [];
  const inside = new Set<ChildProcess>();
  let busPid = 0;
  let networkdPid = 0;

  async function destroy(): Promise<void> {
    for (const child of inside) if (child.pid !== undefined) await killPid(child.pid);
    for (const pid of [...pids].reverse()) await killPid(pid);
    await lab?.destroy();
    await rm(dir, { recursive: true, force: true });
  }

  try {
    lab = await createLab({
      nodes: { nd: { sysctls }, peer: {} },
      links: links.map((ifname, i) => ({ name: `ndlink${i}`, a: { node: 'nd', ifname }, b: { node: 'peer', ifname: `pe${i}` } })),
    });
    const wrapper = lab.spawn('nd', 'unshare', ['-m', '--propagation', 'private', 'sh', join(dir, 'inner.sh')]);
    let stderr = '';
    wrapper.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`networkd lab did not start in ${NETWORKD_START_MS} ms: ${stderr}`)), NETWORKD_START_MS);
      createInterface({ input: wrapper.stdout! }).on('line', (line) => {
        const m = /^pid (\S+) (\d+)$/.exec(line);
        if (m === null) return;
        pids.push(Number(m[2]));
        if (m[1] === 'dbus-daemon') busPid = Number(m[2]);
        if (m[1] === 'systemd-networkd') {
          networkdPid = Number(m[2]);
          clearTimeout(timer);
          resolve();
        }
      });
      wrapper.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`networkd lab script exited ${code}: ${stderr}`));
      });
    });
    await waitForNetworkd(busAddress, NETWORKD_START_MS);
  } catch (err) {
    await destroy();
    throw err;
  }
  const built = lab;

  async function linkProperty(ifname: string, property: string): Promise<string> {
    const ifindex = (await built.exec('nd', 'cat', [`/sys/class/net/${ifname}/ifindex`])).stdout.trim();
    const label = `_3${ifindex}`; // sd-bus escapes the leading digit: 3 -> _33, 12 -> _312
    const res = await runCommand('busctl', [`--address=${busAddress}`, '--json=short', 'get-property', 'org.freedesktop.network1', `/org/freedesktop/network1/link/${label}`, 'org.freedesktop.network1.Link', property]);
    const parsed = JSON.parse(res.stdout) as { data?: unknown };
    if (typeof parsed.data !== 'string') throw new Error(`busctl answered ${res.stdout.trim()} for ${ifname} ${property}`);
    return parsed.data;
  }

  // nsenter -m starts in / unless told otherwise (--wd): relative module resolution needs the cwd.
  const nsenterArgs = (cmd: string, args: readonly string[], cwd = process.cwd()): string[] => ['-t', String(busPid), '-m', '-n', `--wd=${cwd}`, cmd, ...args];

  return {
    lab: built,
    busAddress,
    dir,
    links,
    get busPid() {
      return busPid;
    },
    get networkdPid() {
      return networkdPid;
    },
    spawnInside(cmd, args = [], opts = {}) {
      const child = spawn('nsenter', nsenterArgs(cmd, args, opts.cwd), { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      inside.add(child);
      child.once('exit', () => inside.delete(child));
      child.once('error', () => inside.delete(child));
      return child;
    },
    execInside(cmd, args = [], opts = {}) {
      return runCommand('nsenter', nsenterArgs(cmd, args), { check: opts.check ?? true, timeoutMs: opts.timeoutMs ?? 30_000 });
    },
    operationalState: (ifname) => linkProperty(ifname, 'OperationalState'),
    administrativeState: (ifname) => linkProperty(ifname, 'AdministrativeState'),
    async restartNetworkd() {
      const old = networkdPid;
      await killPid(old);
      const index = pids.indexOf(old);
      if (index >= 0) pids.splice(index, 1);
      const child = spawn('nsenter', nsenterArgs(NETWORKD_BINARY, []), { env: { ...process.env, container: 'other' }, stdio: 'ignore' });
      if (child.pid === undefined) throw new Error('could not start systemd-networkd with nsenter');
      networkdPid = child.pid;
      pids.push(child.pid);
      await waitForNetworkd(busAddress, NETWORKD_START_MS);
    },
    destroy,
  };
}
