/**
 * netevd with a FAKE NetworkManager (root only; issue 5 "Done when": "the same with a fake
 * NetworkManager on a private bus"). The daemon itself (edgebox-netevd run, from source) runs
 * in a network namespace with `backends: [networkmanager]` and DBUS_SYSTEM_BUS_ADDRESS
 * pointing at a private dbus-daemon, where this test's fake NetworkManager (sources-fakes.ts)
 * owns org.freedesktop.NetworkManager. As the fake moves device nm0 between activated and
 * disconnected, activated.d / disconnected.d scripts run with BACKEND=networkmanager and the
 * device's addresses, and netevd's policy rules for nm0's address come and go.
 *
 * Cleanup: the lab kills the daemon it spawned (by PID) and deletes the namespaces; the bus
 * daemon is killed by PID; temp dirs removed.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, type Lab } from '@edgebox/netlab';
import { rootGate } from '@edgebox/netlab/testing';
import { NM_PATH, createPrivateBusHome, startFakeNetworkManager, type FakeDevice, type PrivateBusHome } from './sources-fakes.js';

const { root, reportNotRoot } = rootGate('netevd with a fake NetworkManager');
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const NETEVD_MAIN = join(REPO_ROOT, 'apps/netevd/src/main.ts');

interface ScriptRun {
  state: string;
  link: string;
  backend: string;
  addresses: string;
}

describe.runIf(root.ok)('netevd daemon with a fake NetworkManager on a private bus (root)', { timeout: 120_000 }, () => {
  let lab: Lab;
  let home: PrivateBusHome;
  let dir: string;
  let daemon: ChildProcess;
  let daemonLog = '';
  let nm: Awaited<ReturnType<typeof startFakeNetworkManager>>;
  const nm0: FakeDevice = { path: `${NM_PATH}/Devices/3`, iface: 'nm0', state: 100, ip4: ['10.79.0.1/24'], ip6: [] };

  beforeAll(async () => {
    home = createPrivateBusHome();
    const bus = await home.start();
    nm = await startFakeNetworkManager(bus.address, [nm0]);
    dir = mkdtempSync(join(tmpdir(), 'netevd-nm-'));
    lab = await createLab({
      nodes: { nm: {}, peer: {} },
      links: [{ name: 'nmlink', a: { node: 'nm', ifname: 'nm0', ipv4: '10.79.0.1/24' }, b: { node: 'peer', ifname: 'pe0', ipv4: '10.79.0.2/24' } }],
    });
    const scripts = join(dir, 'scripts');
    for (const state of ['activated', 'disconnected']) {
      mkdirSync(join(scripts, `${state}.d`), { recursive: true });
      const file = join(scripts, `${state}.d`, '10-record');
      writeFileSync(file, `#!/bin/sh\necho "$STATE|$LINK|$BACKEND|$ADDRESSES" >> ${join(dir, 'runs.log')}\n`);
      chmodSync(file, 0o755);
    }
    const config = join(dir, 'netevd.yaml');
    writeFileSync(
      config,
      [
        'backends: [networkmanager]',
        `scripts: { dir: ${scripts}, timeoutMs: 5000 }`,
        'debounce: { waitMs: 100, maxWaitMs: 1000 }',
        'routing:',
        '  interfaces:',
        '    - { name: nm0, gateway4: 10.79.0.2 }',
        `dataDir: ${join(dir, 'data')}`,
        '',
      ].join('\n'),
    );
    daemon = lab.spawn('nm', process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', NETEVD_MAIN, 'run', '--config', config], {
      cwd: REPO_ROOT,
      env: { DBUS_SYSTEM_BUS_ADDRESS: bus.address },
    });
    daemon.stdout!.on('data', (b: Buffer) => (daemonLog += b.toString()));
    daemon.stderr!.on('data', (b: Buffer) => (daemonLog += b.toString()));
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
    nm?.close();
    await home?.stopAll();
    await gc({ own: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  function runs(): ScriptRun[] {
    let text: string;
    try {
      text = readFileSync(join(dir, 'runs.log'), 'utf8');
    } catch {
      return []; // no script has run yet
    }
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [state, link, backend, addresses] = l.split('|') as [string, string, string, string];
        return { state, link, backend, addresses };
      });
  }

  async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; runs: ${JSON.stringify(runs())}; daemon log tail: ${daemonLog.slice(-2000)}`);
      if (daemon.exitCode !== null) throw new Error(`netevd exited ${daemon.exitCode} while waiting for ${what}: ${daemonLog.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function rulesFor(ip: string): Promise<Array<{ priority: number; src?: string; dst?: string; table: string }>> {
    const res = await lab.exec('nm', 'ip', ['-j', 'rule', 'show']);
    return (JSON.parse(res.stdout) as Array<{ priority: number; src?: string; dst?: string; table: string }>).filter((r) => r.src === ip || r.dst === ip);
  }

  it('runs activated.d / disconnected.d with the device and its addresses, and routes nm0 while it is activated', async () => {
    // Startup trigger: the fake says nm0 is activated with 10.79.0.1/24.
    await waitFor('activated.d at startup', () => runs().some((r) => r.state === 'activated'));
    expect(runs()[0]).toEqual({ state: 'activated', link: 'nm0', backend: 'networkmanager', addresses: '10.79.0.1/24' });
    await waitFor('rules for 10.79.0.1', async () => (await rulesFor('10.79.0.1')).length === 2);

    nm0.ip4 = [];
    nm.setState(nm0, 30, 39);
    await waitFor('disconnected.d', () => runs().some((r) => r.state === 'disconnected'));
    expect(runs().find((r) => r.state === 'disconnected')).toEqual({ state: 'disconnected', link: 'nm0', backend: 'networkmanager', addresses: '' });
    await waitFor('rules removed', async () => (await rulesFor('10.79.0.1')).length === 0);

    nm0.ip4 = ['10.79.0.1/24'];
    for (const s of [40, 50, 70, 80, 90, 100]) nm.setState(nm0, s);
    await waitFor('activated.d again', () => runs().filter((r) => r.state === 'activated').length === 2);
    expect(runs().at(-1)).toEqual({ state: 'activated', link: 'nm0', backend: 'networkmanager', addresses: '10.79.0.1/24' });
    await waitFor('rules back', async () => (await rulesFor('10.79.0.1')).length === 2);
    // Only the two folders that exist ran, once per transition into their state.
    expect(runs().map((r) => r.state)).toEqual(['activated', 'disconnected', 'activated']);
  });
});

describe.runIf(!root.ok)('netevd daemon with a fake NetworkManager (needs root)', reportNotRoot);
