// The networkd lab that netevd's end-to-end scenarios stand on (src/netevd-networkd/): the real
// systemd-networkd in a throwaway namespace with a private system bus. Proves what the
// scenarios rely on: networkd reports the lab's veth links (carrier, routable after an address,
// no-carrier when the peer end goes down, off when the link goes down) over the bus as seen
// from outside (busAddress); a process started with spawnInside finds that bus at the standard
// system socket and acts in the lab's network namespace; networkd can be restarted; destroy()
// leaves no process and no namespace behind, and the host's bus is never touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { gc, listNamespaces } from '@edgebox/netlab';
import { createNetworkdLab, networkdLabStatus } from '../src/netevd-networkd/networkd-lab.js';
import type { NetworkdLab } from '../src/netevd-networkd/networkd-lab.js';
import { reportNotRoot, root } from './root-gate.js';

const status = networkdLabStatus();

async function waitForState(nd: NetworkdLab, ifname: string, state: string, timeoutMs = 20_000, kind: 'operational' | 'administrative' = 'operational'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = kind === 'operational' ? await nd.operationalState(ifname) : await nd.administrativeState(ifname);
    if (last === state) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${ifname} stayed ${last}, expected ${state} within ${timeoutMs} ms`);
}

describe.runIf(root.ok && status.ok)('networkd lab (real systemd-networkd, private system bus)', () => {
  let nd: NetworkdLab;

  beforeAll(async () => {
    nd = await createNetworkdLab({ links: 3, networkFiles: { '50-nd2.network': '[Match]\nName=nd2\n\n[Network]\nAddress=10.88.0.1/24\nLinkLocalAddressing=no\n' } });
  }, 60_000);

  afterAll(async () => {
    await nd?.destroy();
    await gc({ own: true });
  }, 60_000);

  it('networkd reports the veth links as they change, over the bus from outside', async () => {
    expect(nd.links).toEqual(['nd0', 'nd1', 'nd2']);
    await waitForState(nd, 'nd0', 'carrier');
    await waitForState(nd, 'nd1', 'carrier');

    await nd.lab.exec('nd', 'ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'nd0']);
    await waitForState(nd, 'nd0', 'routable');
    await nd.lab.exec('peer', 'ip', ['link', 'set', 'pe0', 'down']);
    await waitForState(nd, 'nd0', 'no-carrier');
    await nd.lab.exec('peer', 'ip', ['link', 'set', 'pe0', 'up']);
    await waitForState(nd, 'nd0', 'routable');
    await nd.lab.exec('nd', 'ip', ['link', 'set', 'nd1', 'down']);
    await waitForState(nd, 'nd1', 'off');
    // The other link is unaffected.
    expect(await nd.operationalState('nd0')).toBe('routable');
  });

  it('networkd configures the link its .network file matches (address, configured) and leaves the others alone', async () => {
    await waitForState(nd, 'nd2', 'configured', 20_000, 'administrative');
    await waitForState(nd, 'nd2', 'routable');
    const addrs = await nd.lab.exec('nd', 'ip', ['-j', 'addr', 'show', 'dev', 'nd2']);
    expect((JSON.parse(addrs.stdout) as Array<{ addr_info: Array<{ local: string }> }>)[0]!.addr_info.map((a) => a.local)).toEqual(['10.88.0.1']);
    expect(await nd.administrativeState('nd0')).toBe('unmanaged');
  });

  it('spawnInside runs in the lab: the private bus at the standard system socket, the lab namespace', async () => {
    const owner = ['call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetConnectionUnixProcessID', 's', 'org.freedesktop.network1'];
    const bus = await nd.execInside('busctl', owner);
    expect(bus.stdout.trim()).toBe(`u ${nd.networkdPid}`);
    const links = await nd.execInside('ip', ['-j', 'link', 'show']);
    expect((JSON.parse(links.stdout) as Array<{ ifname: string }>).map((l) => l.ifname).sort()).toEqual(['lo', 'nd0', 'nd1', 'nd2']);
    // The host's bus is not the lab's: networkd does not run there (or is a different process).
    if (existsSync('/run/dbus/system_bus_socket')) {
      const host = await nd.lab.exec('nd', 'busctl', owner, { check: false });
      expect(host.stdout.trim()).not.toBe(`u ${nd.networkdPid}`);
    }
  });

  it('restarts networkd in place, and it picks the links up again', async () => {
    const before = nd.networkdPid;
    await nd.restartNetworkd();
    expect(nd.networkdPid).not.toBe(before);
    expect(() => process.kill(before, 0)).toThrow();
    await waitForState(nd, 'nd0', 'routable');
    await waitForState(nd, 'nd1', 'off');
  });

  it('destroy() kills every process it started and removes the namespaces', async () => {
    const pids = [nd.busPid, nd.networkdPid];
    const sleeper = nd.spawnInside('sleep', ['600']);
    const namespaces = [nd.lab.namespace('nd'), nd.lab.namespace('peer')];
    await nd.destroy();
    for (const pid of [...pids, sleeper.pid!]) expect(() => process.kill(pid, 0), `pid ${pid}`).toThrow();
    const left = await listNamespaces();
    for (const ns of namespaces) expect(left).not.toContain(ns);
    expect(existsSync(nd.dir)).toBe(false);
  });
});

describe.runIf(!root.ok)('networkd lab (needs root)', reportNotRoot);
if (root.ok && !status.ok) {
  describe('networkd lab (needs systemd-networkd)', () => {
    if (process.env.CI === 'true') {
      it('has what the networkd lab needs (required in CI)', () => {
        throw new Error(`networkd lab cannot run: ${status.reason}`);
      });
    } else {
      it.skip(`skipped: ${status.reason}`, () => undefined);
    }
  });
}
