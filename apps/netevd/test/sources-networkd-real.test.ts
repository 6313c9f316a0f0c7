/**
 * The networkd source against the REAL systemd-networkd (root only): networkd runs in a
 * throwaway network namespace with a private system bus (recipe:
 * shared/recipes/real-networkd-in-netns.md), and veth links going up/down and gaining/losing
 * addresses must come out as `link.state` events with the right interface, states and
 * addresses.
 *
 * Layout: a netlab lab with node `nd` (networkd's namespace, IPv6 off so states do not depend
 * on link-local timing) and node `peer`, joined by the veth pair nd0 <-> pe0. Inside `nd`,
 * `unshare -m` gives networkd and its dbus-daemon private /run/dbus and /run/systemd (and an
 * empty /etc/systemd/network: networkd manages nothing, it only reports). The bus daemon also
 * listens on a socket in this test's temp dir, which the test process (outside the namespaces)
 * connects to: DBus over a path socket does not care about network namespaces.
 *
 * Cleanup: the daemons' PIDs are printed by the inner script and killed by PID; lab.destroy()
 * kills the wrapper, anything left in the namespace, and deletes the namespaces.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, type Lab } from '@edgebox/netlab';
import { rootGate } from '@edgebox/netlab/testing';
import { createEventBus, createEventFactory, type EventV1 } from '@edgebox/events';
import { createNetworkdSource } from '../src/sources/networkd.js';
import type { NetworkSource } from '../src/sources/dbus.js';

const NETWORKD = '/lib/systemd/systemd-networkd';
const { root, reportNotRoot } = rootGate('netevd networkd source');
const haveNetworkd = existsSync(NETWORKD) && existsSync('/usr/bin/dbus-daemon');
const missing = `needs ${NETWORKD} and dbus-daemon (Debian packages systemd and dbus)`;

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

// Runs inside `ip netns exec <nd> unshare -m --propagation private`: private mounts, then the
// bus and networkd, their PIDs on stdout, and waits (killing the shell does not kill them:
// the test kills them by PID).
//
// /sys read-only is what makes networkd initialize links without udev (its udev_available()
// is "/sys is writable"): `ip netns exec` mounted this namespace's sysfs read-write, so it is
// remounted read-only here (this mount namespace only). Then nd1, matched by 50-nd1.network,
// is configured by networkd (AdministrativeState configured) and the others are unmanaged.
const INNER_SCRIPT = (dir: string): string => `set -e
mount -o remount,ro /sys
mount -t tmpfs tmpfs /run/dbus 2>/dev/null || { mkdir -p /run/dbus; mount -t tmpfs tmpfs /run/dbus; }
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/netif/links /run/systemd/netif/leases
chown -R systemd-network:systemd-network /run/systemd/netif
mount -t tmpfs tmpfs /etc/systemd/network
cp ${dir}/50-nd1.network /etc/systemd/network/
dbus-daemon --config-file=${dir}/bus.conf --nofork --nopidfile &
echo "pid dbus-daemon $!"
i=0; while [ ! -S ${dir}/bus.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
container=other ${NETWORKD} &
echo "pid systemd-networkd $!"
wait
`;

describe.runIf(root.ok && haveNetworkd)('networkd source with the real systemd-networkd (netns, private system bus)', { timeout: 90_000 }, () => {
  let lab: Lab;
  let dir: string;
  const daemonPids: number[] = [];
  let source: NetworkSource | undefined;
  const seen: EventV1[] = [];
  const bus = createEventBus({ historySize: 1000 });
  bus.listen(({ event }) => {
    seen.push(event);
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netevd-networkd-'));
    writeFileSync(join(dir, 'bus.conf'), BUS_CONFIG(join(dir, 'bus.sock')));
    writeFileSync(join(dir, 'inner.sh'), INNER_SCRIPT(dir));
    writeFileSync(join(dir, '50-nd1.network'), '[Match]\nName=nd1\n\n[Network]\nAddress=10.88.0.1/24\nLinkLocalAddressing=no\n');
    lab = await createLab({
      nodes: { nd: { sysctls: { 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1 } }, peer: {} },
      links: [
        { name: 'ndlink0', a: { node: 'nd', ifname: 'nd0' }, b: { node: 'peer', ifname: 'pe0' } },
        { name: 'ndlink1', a: { node: 'nd', ifname: 'nd1' }, b: { node: 'peer', ifname: 'pe1' } },
      ],
    });
    const inner = lab.spawn('nd', 'unshare', ['-m', '--propagation', 'private', 'sh', join(dir, 'inner.sh')]);
    let stderr = '';
    inner.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`networkd did not start in 15 s: ${stderr}`)), 15_000);
      createInterface({ input: inner.stdout! }).on('line', (line) => {
        const m = /^pid (\S+) (\d+)$/.exec(line);
        if (m !== null) daemonPids.push(Number(m[2]));
        if (m?.[1] === 'systemd-networkd') {
          clearTimeout(timer);
          resolve();
        }
      });
      inner.once('exit', (code) => reject(new Error(`inner script exited ${code}: ${stderr}`)));
    });
  }, 60_000);

  afterAll(async () => {
    await source?.stop();
    for (const pid of daemonPids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    await lab?.destroy();
    await gc({ own: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; nd0 events: ${JSON.stringify(nd0Events().map((e) => [e.states, e.addresses]))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const nd0Events = (): EventV1[] => seen.filter((e) => e.interface === 'nd0' && e.data['stateType'] === 'operational');
  /** Wait for the next nd0 operational event (after `from`) whose new state is `state`; returns it. */
  async function next(from: number, state: string): Promise<{ event: EventV1; index: number }> {
    await waitFor(`nd0 ${state}`, () => nd0Events().slice(from).some((e) => e.states?.new === state));
    const index = nd0Events().findIndex((e, i) => i >= from && e.states?.new === state);
    return { event: nd0Events()[index]!, index: index + 1 };
  }

  it('publishes startup, carrier, address and admin-down changes of a veth link as networkd reports them', async () => {
    source = createNetworkdSource({ bus, busAddress: `unix:path=${join(dir, 'bus.sock')}`, events: createEventFactory({ source: 'netevd' }), reconnectInitialMs: 100, watchdogMs: 1000 });
    await source.start();
    // networkd may still be claiming its name when we connect: then startup events follow NameOwnerChanged.
    await waitFor('networkd healthy', () => source!.health().ok);
    await waitFor('nd0 startup event', () => nd0Events().length > 0);
    const startup = nd0Events()[0]!;
    expect(startup).toMatchObject({ source: 'netevd', kind: 'link.state', subject: 'nd0', addresses: [], data: { backend: 'networkd', trigger: 'startup', startup: true } });
    expect(startup.states?.old).toBeUndefined();
    // Up with a carrier and no address (IPv6 is off in this namespace).
    await waitFor('nd0 carrier', () => nd0Events().at(-1)?.states?.new === 'carrier');
    let at = nd0Events().length;

    await lab.exec('nd', 'ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'nd0']);
    let step = await next(at, 'routable');
    expect(step.event).toMatchObject({ interface: 'nd0', states: { new: 'routable' }, addresses: ['10.77.0.1/24'], data: { trigger: 'change', addressState: 'routable', carrierState: 'carrier', ipv4AddressState: 'routable' } });
    expect(step.event.data['ifindex']).toBe(Number((await lab.exec('nd', 'cat', ['/sys/class/net/nd0/ifindex'])).stdout.trim()));
    expect(step.event.data['link']).toMatchObject({ Name: 'nd0', Kind: 'veth' });
    at = step.index;

    // The peer end goes down: nd0 loses its carrier (address kept by the kernel).
    await lab.exec('peer', 'ip', ['link', 'set', 'pe0', 'down']);
    step = await next(at, 'no-carrier');
    expect(step.event).toMatchObject({ severity: 'warning', states: { new: 'no-carrier' }, data: { carrierState: 'no-carrier' } });
    at = step.index;

    await lab.exec('peer', 'ip', ['link', 'set', 'pe0', 'up']);
    step = await next(at, 'routable');
    expect(step.event.addresses).toEqual(['10.77.0.1/24']);
    at = step.index;

    // A second address: no state moves (still routable); removing both drops to carrier with none.
    await lab.exec('nd', 'ip', ['addr', 'add', '10.78.0.1/24', 'dev', 'nd0']);
    await lab.exec('nd', 'ip', ['addr', 'flush', 'dev', 'nd0']);
    step = await next(at, 'carrier');
    expect(step.event).toMatchObject({ states: { old: 'routable', new: 'carrier' }, addresses: [], data: { addressState: 'off' } });
    at = step.index;

    await lab.exec('nd', 'ip', ['link', 'set', 'nd0', 'down']);
    step = await next(at, 'off');
    expect(step.event).toMatchObject({ states: { new: 'off' }, data: { carrierState: 'off' } });

    // Every event chains onto the one before it (old = previous new): nothing lost, nothing reordered.
    const chain = nd0Events();
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.states?.old).toBe(chain[i - 1]!.states?.new);
    const ids = seen.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(source.stats()).toMatchObject({ malformed: 0, connected: true });
  });

  it('publishes the administrative state: the link networkd manages becomes configured (with its address), the others unmanaged', async () => {
    const admin = (ifname: string): EventV1[] => seen.filter((e) => e.interface === ifname && e.data['stateType'] === 'administrative');
    await waitFor('nd1 configured', () => admin('nd1').some((e) => e.states?.new === 'configured'));
    const configured = admin('nd1').find((e) => e.states?.new === 'configured')!;
    expect(configured).toMatchObject({ kind: 'link.state', subject: 'nd1', addresses: ['10.88.0.1/24'], data: { backend: 'networkd', administrativeState: 'configured' } });
    await waitFor('nd1 routable', () => seen.some((e) => e.interface === 'nd1' && e.data['stateType'] === 'operational' && e.states?.new === 'routable'));
    // Startup may have caught nd1 before or after networkd configured it: the chain ends at configured either way.
    const chain = admin('nd1');
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.states?.old).toBe(chain[i - 1]!.states?.new);
    expect(chain.at(-1)!.states?.new).toBe('configured');
    expect(admin('nd0').at(-1)!.states?.new).toBe('unmanaged');
    expect(admin('lo').at(-1)!.states?.new).toBe('unmanaged');
  });

  it('follows a networkd restart: unhealthy while it is gone, then publishes what changed meanwhile', async () => {
    const networkdPid = daemonPids.at(-1)!;
    const busPid = daemonPids[0]!;
    const gone = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          process.kill(networkdPid, 0);
        } catch {
          clearInterval(poll);
          resolve();
        }
      }, 25);
    });
    process.kill(networkdPid, 'SIGTERM');
    await gone;
    await waitFor('source unhealthy', () => !source!.health().ok);
    expect(source!.health().detail).toBe('networkd: org.freedesktop.network1 is not on the bus');
    const at = nd0Events().length;
    expect(nd0Events().at(-1)!.states?.new).toBe('off');

    // While networkd is away nd0 comes up; a new networkd (same mount and network namespaces
    // as the bus, entered with nsenter; nsenter execs, so this PID is networkd's) reports it.
    await lab.exec('nd', 'ip', ['link', 'set', 'nd0', 'up']);
    const restarted = spawn('nsenter', ['-t', String(busPid), '-m', '-n', NETWORKD], { env: { ...process.env, container: 'other' }, stdio: 'ignore' });
    if (restarted.pid !== undefined) daemonPids.push(restarted.pid);
    const step = await next(at, 'carrier');
    // The new networkd may first report the link as no-carrier (its own startup), then carrier:
    // the first event after the restart moves on from what the old networkd said last.
    expect(nd0Events()[at]).toMatchObject({ interface: 'nd0', states: { old: 'off' }, data: { trigger: 'resync' } });
    expect(step.event).toMatchObject({ interface: 'nd0', states: { new: 'carrier' }, addresses: [] });
    await waitFor('source healthy again', () => source!.health().ok);
    const chain = nd0Events();
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.states?.old).toBe(chain[i - 1]!.states?.new);
  });

  it('a flap storm (1,001 carrier changes through ip -batch) ends on networkd\'s final state, chain intact, nothing dropped', async () => {
    const at = nd0Events().length;
    const batch = join(dir, 'flap.batch');
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push('link set pe0 down', 'link set pe0 up');
    lines.push('link set pe0 down'); // ends elsewhere than it began: at least one event must come out
    writeFileSync(batch, `${lines.join('\n')}\n`);
    const started = Date.now();
    await lab.exec('peer', 'ip', ['-batch', batch]);
    // networkd's own view after the storm, read over the same bus.
    const finalState = async (): Promise<string> => {
      const ifindex = (await lab.exec('nd', 'cat', ['/sys/class/net/nd0/ifindex'])).stdout.trim();
      const res = await lab.exec('nd', 'busctl', [`--address=unix:path=${join(dir, 'bus.sock')}`, '--json=short', 'get-property', 'org.freedesktop.network1', `/org/freedesktop/network1/link/_3${ifindex}`, 'org.freedesktop.network1.Link', 'OperationalState']);
      return (JSON.parse(res.stdout) as { data: string }).data;
    };
    await waitFor('the storm settles on no-carrier', async () => nd0Events().at(-1)?.states?.new === 'no-carrier' && (await finalState()) === 'no-carrier', 30_000);
    const storm = nd0Events().slice(at);
    expect(storm.length).toBeGreaterThan(0);
    const chain = nd0Events();
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.states?.old).toBe(chain[i - 1]!.states?.new);
    expect(source!.stats()).toMatchObject({ dropped: 0, malformed: 0, connected: true });
    expect(source!.health().ok).toBe(true);
    await lab.exec('peer', 'ip', ['link', 'set', 'pe0', 'up']);
    await waitFor('nd0 carrier again', () => nd0Events().at(-1)?.states?.new === 'carrier');
    console.log(`netevd networkd source: 1001 carrier flaps -> ${storm.length} events from networkd, settled in ${Date.now() - started} ms`);
  });

  it('a deleted link is published as removed (networkd lingers it), and the others go on', async () => {
    await lab.exec('nd', 'ip', ['link', 'del', 'nd1']);
    await waitFor('nd1 removed', () => seen.some((e) => e.interface === 'nd1' && e.states?.new === 'removed'));
    const removed = seen.find((e) => e.interface === 'nd1' && e.states?.new === 'removed')!;
    expect(removed).toMatchObject({ kind: 'link.state', addresses: [], data: { backend: 'networkd', stateType: 'operational', trigger: 'change' } });
    expect(seen.filter((e) => e.interface === 'nd1' && e.data['stateType'] === 'administrative').at(-1)!.states?.new).toBe('linger');
    expect(source!.stats()).toMatchObject({ malformed: 0 });
    // nd0 still reported.
    const at = nd0Events().length;
    await lab.exec('nd', 'ip', ['link', 'set', 'nd0', 'down']);
    await next(at, 'off');
  });

  it('a link created after start is published under its name (learned from DescribeLink)', async () => {
    await lab.exec('nd', 'ip', ['link', 'add', 'nd7', 'type', 'veth', 'peer', 'name', 'nd8']);
    await lab.exec('nd', 'ip', ['link', 'set', 'nd7', 'up']);
    await lab.exec('nd', 'ip', ['link', 'set', 'nd8', 'up']);
    await waitFor('nd7 carrier', () => seen.some((e) => e.interface === 'nd7' && e.data['stateType'] === 'operational' && e.states?.new === 'carrier'));
    const ifindex = Number((await lab.exec('nd', 'cat', ['/sys/class/net/nd7/ifindex'])).stdout.trim());
    const nd7 = seen.filter((e) => e.interface === 'nd7' && e.data['stateType'] === 'operational');
    expect(nd7[0]!.data).toMatchObject({ ifindex, trigger: 'change' });
    for (let i = 1; i < nd7.length; i++) expect(nd7[i]!.states?.old).toBe(nd7[i - 1]!.states?.new);
    expect(source!.stats()).toMatchObject({ malformed: 0 });
  });
});

describe.runIf(!root.ok)('networkd source with the real systemd-networkd (needs root)', reportNotRoot);
if (root.ok && !haveNetworkd) {
  describe('networkd source with the real systemd-networkd (needs systemd-networkd)', () => {
    if (process.env.CI === 'true') {
      it('has systemd-networkd and dbus-daemon (required in CI)', () => {
        throw new Error(`netevd networkd source tests cannot run: ${missing}`);
      });
    } else {
      it.skip(`skipped: ${missing}`, () => undefined);
    }
  });
}
