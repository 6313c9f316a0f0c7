// Policy routing and links bound to uplink addresses, as root in a lab: a client namespace
// with two veth uplinks to a server namespace whose service address sits behind both. With
// source routes, each link's datagrams arrive on its own uplink (server interface counters
// and the echo server's per-source counts); without them, both leave by the main table's
// default. Rules and routes are tagged as ours; others' are never touched.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, type Lab } from '@edgebox/netlab';
import {
  installSourceRoute,
  listSourceRoutes,
  removeSourceRoute,
  isLinksError,
  POLICY_ROUTE_PROTOCOL,
  type SourceRouteInit,
} from '../src/index.js';
import { canonicalAddress } from '../src/policy-routing.js';
import { reportNotRoot, root } from './root-gate.js';

const CLIENT = fileURLToPath(new URL('./fixtures/udp-links-client.ts', import.meta.url));
const ECHO = fileURLToPath(new URL('./fixtures/udp-echo.ts', import.meta.url));
const TSX = ['--conditions=@edgebox/source', '--import', 'tsx'];

describe('source route arguments', () => {
  const base: SourceRouteInit = { source: '10.0.0.2', table: 100, device: 'eth0', priority: 20000 };
  it.each([
    [{ source: '10.0.0.2/32' }, 'source'],
    [{ table: 254 }, 'table 254'],
    [{ table: 0 }, 'table 0'],
    [{ table: 1.5 }, 'table 1.5'],
    [{ gateway: 'fd00::1' }, 'gateway'],
    [{ device: 'x'.repeat(16) }, 'device'],
    [{ priority: 100 }, 'priority 100'],
    [{ priority: 32766 }, 'priority 32766'],
    [{ netns: '../x' }, 'netns'],
  ])('refuses %j', async (patch, message) => {
    const error = await installSourceRoute({ ...base, ...patch }).catch((e: unknown) => e);
    expect(isLinksError(error, 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(message);
    await expect(removeSourceRoute({ ...base, ...patch })).rejects.toMatchObject({ code: 'LINKS_INVALID_ARGUMENT' });
  });

  it('compares IPv6 addresses in canonical form', () => {
    expect(canonicalAddress('FD00:0:0::0002')).toBe('fd00::2');
    expect(canonicalAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalAddress('fe80::1%eth0')).toBe('fe80::1%eth0');
  });
});

reportNotRoot();

describe.runIf(root.ok)('policy routing in a lab', () => {
  let lab: Lab;
  let netns: string;
  beforeAll(async () => {
    lab = await createLab({
      nodes: { c: {}, s: {} },
      links: [
        { name: 'up1', a: { node: 'c', ipv4: '10.210.1.2/24', ipv6: 'fd21:1::2/64' }, b: { node: 's', ipv4: '10.210.1.1/24', ipv6: 'fd21:1::1/64' } },
        { name: 'up2', a: { node: 'c', ipv4: '10.210.2.2/24', ipv6: 'fd21:2::2/64' }, b: { node: 's', ipv4: '10.210.2.1/24', ipv6: 'fd21:2::1/64' } },
      ],
      routes: [
        { node: 'c', to: 'default', via: '10.210.1.1' },
        { node: 'c', to: 'default6', via: 'fd21:1::1' },
      ],
    });
    netns = lab.namespace('c');
    await lab.exec('s', 'ip', ['address', 'add', '10.210.9.1/32', 'dev', 'lo']);
    await lab.exec('s', 'ip', ['address', 'add', 'fd21:9::1/128', 'dev', 'lo']);
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
  });

  const rules = async (family: 4 | 6) => (await lab.exec('c', 'ip', [`-${family}`, 'rule', 'show'])).stdout;
  const table = async (family: 4 | 6, n: number) => (await lab.exec('c', 'ip', [`-${family}`, 'route', 'show', 'table', String(n)], { check: false })).stdout;
  const routeGet = async (from: string, to: string) => (await lab.exec('c', 'ip', ['route', 'get', to, 'from', from])).stdout;

  it('installs rule + default route tagged as ours, idempotently, and removes exactly them (IPv4 and IPv6)', async () => {
    const v4: SourceRouteInit = { source: '10.210.2.2', table: 102, gateway: '10.210.2.1', device: 'up2', priority: 20002, netns };
    const v6: SourceRouteInit = { source: 'fd21:2::2', table: 102, gateway: 'fd21:2::1', device: 'up2', priority: 20002, netns };
    expect(await routeGet('10.210.2.2', '10.210.9.1')).toContain('dev up1'); // main table's default
    const a = await installSourceRoute(v4);
    const b = await installSourceRoute(v4); // again: same state, no duplicate rule
    const c = await installSourceRoute(v6);
    expect([a.ruleAdded, b.ruleAdded, c.ruleAdded, a.family, c.family]).toEqual([true, false, true, 4, 6]);
    expect(await rules(4)).toContain(`20002:\tfrom 10.210.2.2 lookup 102 proto ${POLICY_ROUTE_PROTOCOL}`);
    expect((await rules(4)).match(/from 10\.210\.2\.2/g)).toHaveLength(1);
    expect(await rules(6)).toContain(`from fd21:2::2 lookup 102 proto ${POLICY_ROUTE_PROTOCOL}`);
    expect(await table(4, 102)).toContain(`default via 10.210.2.1 dev up2 proto ${POLICY_ROUTE_PROTOCOL}`);
    expect(await table(6, 102)).toContain(`default via fd21:2::1 dev up2 proto ${POLICY_ROUTE_PROTOCOL}`);
    expect(await routeGet('10.210.2.2', '10.210.9.1')).toContain('dev up2');
    expect(await listSourceRoutes({ netns })).toEqual([
      { family: 4, source: '10.210.2.2', table: 102, priority: 20002 },
      { family: 6, source: 'fd21:2::2', table: 102, priority: 20002 },
    ]);

    // someone else's rule for the same source and a route in another table stay untouched
    await lab.exec('c', 'ip', ['rule', 'add', 'from', '10.210.2.2', 'table', '150', 'priority', '20002']);
    await lab.exec('c', 'ip', ['route', 'add', 'default', 'via', '10.210.2.1', 'dev', 'up2', 'table', '150']);
    await a.remove();
    await a.remove();
    await b.remove(); // already gone: no error
    await c.remove();
    expect(await rules(4)).not.toContain('lookup 102');
    expect(await rules(6)).not.toContain('lookup 102');
    expect(await rules(4)).toContain('from 10.210.2.2 lookup 150');
    expect(await table(4, 102)).toBe('');
    expect(await table(4, 150)).toContain('default via 10.210.2.1 dev up2');
    expect(await listSourceRoutes({ netns })).toEqual([]);
    await lab.exec('c', 'ip', ['rule', 'del', 'from', '10.210.2.2', 'table', '150', 'priority', '20002']);
  });

  it('refuses a table whose default route is not ours, and reports ip failures', async () => {
    const error = await installSourceRoute({ source: '10.210.2.2', table: 150, gateway: '10.210.2.1', device: 'up2', priority: 20003, netns }).catch((e: unknown) => e);
    expect(isLinksError(error, 'LINKS_ROUTE_CONFLICT')).toBe(true);
    expect((error as Error).message).toContain('table 150 already has a default route (default via 10.210.2.1 dev up2)');
    expect(await table(4, 150)).toContain('default via 10.210.2.1 dev up2');
    expect(await rules(4)).not.toContain('20003');
    // a gateway not on the device: ip refuses
    const failed = await installSourceRoute({ source: '10.210.2.2', table: 103, gateway: '10.99.99.1', device: 'up2', priority: 20003, netns }).catch((e: unknown) => e);
    expect(isLinksError(failed, 'LINKS_COMMAND_FAILED')).toBe(true);
    expect((failed as Error).message).toMatch(/ip -n \S+ -4 route replace default via 10\.99\.99\.1 dev up2 table 103 proto 235 failed: .*(unreachable|Nexthop)/i);
    // a point-to-point style route: dev only
    const p2p = await installSourceRoute({ source: '10.210.2.2', table: 104, device: 'up2', priority: 20004, netns });
    expect(await table(4, 104)).toContain(`default dev up2 proto ${POLICY_ROUTE_PROTOCOL}`);
    await p2p.remove();
    await lab.exec('c', 'ip', ['route', 'flush', 'table', '150']);
  });

  const runLinks = async (withTables: boolean, family: 4 | 6) => {
    const port = 47000 + (withTables ? 0 : 1) + (family === 6 ? 10 : 0);
    const service = family === 4 ? '10.210.9.1' : 'fd21:9::1';
    const [src1, src2, gw1, gw2] = family === 4 ? ['10.210.1.2', '10.210.2.2', '10.210.1.1', '10.210.2.1'] : ['fd21:1::2', 'fd21:2::2', 'fd21:1::1', 'fd21:2::1'];
    const echo = lab.spawn('s', process.execPath, [...TSX, ECHO, service, String(port)]);
    let echoOut = '';
    echo.stdout!.on('data', (c: Buffer) => (echoOut += c.toString()));
    await waitFor(() => echoOut.includes('listening'), 10_000);
    const before = await rxPackets(lab);
    const spec = {
      remote: { address: service, port },
      links: [
        { init: { id: 'l1', localAddress: src1, ...(withTables ? { table: 201, gateway: gw1, interface: 'up1' } : {}) }, count: 300 },
        { init: { id: 'l2', localAddress: src2, ...(withTables ? { table: 202, gateway: gw2, interface: 'up2' } : {}) }, count: 700 },
      ],
    };
    const res = await lab.exec('c', process.execPath, [...TSX, CLIENT, JSON.stringify(spec)], { timeoutMs: 20_000 });
    const after = await rxPackets(lab);
    echo.kill('SIGTERM');
    await waitFor(() => echoOut.includes('bySource'), 5000);
    const client = JSON.parse(res.stdout) as { stats: { id: string; txPackets: number; rxPackets: number; sendErrors: number; ruleAdded?: boolean }[]; echoed: number[]; rules: string };
    const bySource = (JSON.parse(echoOut.split('\n').find((l) => l.includes('bySource'))!) as { bySource: Record<string, number> }).bySource;
    return { client, bySource, delta: { up1: after.up1 - before.up1, up2: after.up2 - before.up2 }, src1, src2 };
  };

  it.each([4, 6] as const)('IPv%i: each link leaves by its own uplink with source routes, by the main default without', async (family) => {
    const routed = await runLinks(true, family);
    expect(routed.client.stats.map((s) => [s.id, s.txPackets, s.sendErrors, s.ruleAdded])).toEqual([
      ['l1', 300, 0, true],
      ['l2', 700, 0, true],
    ]);
    expect(routed.client.echoed).toEqual([300, 700]);
    expect(routed.client.rules).toContain('lookup 202 proto 235');
    expect(routed.bySource).toEqual({ [routed.src1]: 300, [routed.src2]: 700 });
    // interface counters on the server: 300 on up1, 700 on up2 (plus a few ND/RS packets)
    expect(routed.delta.up1).toBeGreaterThanOrEqual(300);
    expect(routed.delta.up1).toBeLessThan(330);
    expect(routed.delta.up2).toBeGreaterThanOrEqual(700);
    expect(routed.delta.up2).toBeLessThan(730);
    // the links removed what they installed
    expect(await rules(family)).not.toContain('proto 235');

    const unrouted = await runLinks(false, family);
    expect(unrouted.bySource).toEqual({ [unrouted.src1]: 300, [unrouted.src2]: 700 });
    expect(unrouted.delta.up1).toBeGreaterThanOrEqual(1000); // everything by the main default
    expect(unrouted.delta.up2).toBeLessThan(30);
  });
});

async function rxPackets(lab: Lab): Promise<{ up1: number; up2: number }> {
  const out = JSON.parse((await lab.exec('s', 'ip', ['-j', '-s', 'link', 'show'])).stdout) as { ifname: string; stats64: { rx: { packets: number } } }[];
  const get = (name: string) => out.find((l) => l.ifname === name)!.stats64.rx.packets;
  return { up1: get('up1'), up2: get('up2') };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
