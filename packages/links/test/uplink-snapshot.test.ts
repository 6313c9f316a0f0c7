// Uplink candidates from recorded `ip -j` output, the events between snapshots, and the
// interface-name globs. Pure: no root, no processes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSnapshot, compileGlob, diffSnapshots, isLinksError, matchesAny, type UplinkCandidate, type UplinkFilters } from '../src/index.js';
import type { IpAddrJson, IpRouteJson } from '../src/uplink-snapshot.js';

const none: UplinkFilters = { include: [], exclude: [], labels: [] };

const addrs: IpAddrJson[] = [
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, operstate: 'UNKNOWN', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }, { family: 'inet', local: '10.9.9.9', prefixlen: 32, scope: 'global' }] },
  {
    ifindex: 2,
    ifname: 'eth0',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1500,
    operstate: 'UP',
    addr_info: [
      { family: 'inet6', local: 'fd00::2', prefixlen: 64, scope: 'global' },
      { family: 'inet', local: '192.0.2.10', prefixlen: 24, scope: 'global' },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
      { family: 'inet6', local: 'fd00::3', prefixlen: 64, scope: 'global', tentative: true },
      { family: 'inet6', local: 'fd00::4', prefixlen: 64, scope: 'global', dadfailed: true },
    ],
  },
  { ifindex: 3, ifname: 'wwan0', flags: ['POINTOPOINT', 'UP', 'LOWER_UP'], mtu: 1428, operstate: 'UNKNOWN', addr_info: [{ family: 'inet', local: '100.64.1.2', prefixlen: 32, scope: 'global' }] },
  { ifindex: 4, ifname: 'eth1', flags: ['BROADCAST', 'UP'], mtu: 1500, operstate: 'LOWERLAYERDOWN', addr_info: [{ family: 'inet', local: '198.51.100.2', prefixlen: 24, scope: 'global' }] },
  { ifindex: 5, ifname: 'eth2', flags: ['BROADCAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', addr_info: [{ family: 'inet6', local: 'fe80::2', prefixlen: 64, scope: 'link' }] },
  { ifname: 'odd', flags: [], addr_info: [{ family: 'inet', local: '203.0.113.1', scope: 'global' }, { family: 'link', local: 'x', scope: 'global' }] },
];
const routes4: IpRouteJson[] = [
  { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', metric: 200 },
  { dst: 'default', gateway: '192.0.2.254', dev: 'eth0', metric: 100 },
  { dst: 'default', dev: 'wwan0', metric: 300 },
  { dst: 'default', nexthops: [{ gateway: '198.51.100.1', dev: 'eth1' }, { gateway: '192.0.2.9' }] },
  { dst: '10.0.0.0/8', gateway: '192.0.2.3', dev: 'eth0' },
];
const routes6: IpRouteJson[] = [{ dst: 'default', gateway: 'fe80::1', dev: 'eth0', metric: 1024 }];

describe('buildSnapshot', () => {
  it('keeps non-loopback interfaces with usable global addresses, with their default gateways', () => {
    const snap = buildSnapshot(addrs, routes4, routes6, none);
    expect([...snap.keys()]).toEqual(['eth0', 'wwan0', 'eth1', 'odd']);
    expect(snap.get('eth0')).toEqual({
      name: 'eth0',
      index: 2,
      label: undefined,
      up: true,
      operState: 'UP',
      mtu: 1500,
      addresses: [
        { address: '192.0.2.10', prefixLength: 24, family: 4 },
        { address: 'fd00::2', prefixLength: 64, family: 6 },
      ],
      gateway4: '192.0.2.254', // the lowest metric wins
      gateway6: 'fe80::1',
      defaultRoute4: true,
      defaultRoute6: true,
    });
    expect(snap.get('wwan0')).toMatchObject({ up: true, operState: 'UNKNOWN', gateway4: undefined, defaultRoute4: true, defaultRoute6: false });
    expect(snap.get('eth1')).toMatchObject({ up: false, operState: 'LOWERLAYERDOWN', gateway4: '198.51.100.1', defaultRoute4: true });
    expect(snap.get('odd')).toMatchObject({ index: 0, mtu: 0, operState: 'UNKNOWN', up: false, addresses: [{ address: '203.0.113.1', prefixLength: 32, family: 4 }] });
  });

  it('applies include, exclude and the first matching label', () => {
    const filters: UplinkFilters = {
      include: ['eth*', 'wwan?'].map(compileGlob),
      exclude: ['eth1'].map(compileGlob),
      labels: [
        [compileGlob('eth0'), 'fiber'],
        [compileGlob('eth*'), 'copper'],
        [compileGlob('wwan[0-9]'), 'lte'],
      ],
    };
    const snap = buildSnapshot(addrs, routes4, routes6, filters);
    expect([...snap.values()].map((c) => [c.name, c.label])).toEqual([
      ['eth0', 'fiber'],
      ['wwan0', 'lte'],
    ]);
  });
});

describe('diffSnapshots', () => {
  const base = buildSnapshot(addrs, routes4, routes6, none);
  const edit = (name: string, patch: Partial<UplinkCandidate>) => {
    const next = new Map(base);
    next.set(name, { ...base.get(name)!, ...patch });
    return next;
  };

  it('reports nothing for equal snapshots and everything as added from empty', () => {
    expect(diffSnapshots(base, buildSnapshot(addrs, routes4, routes6, none))).toEqual([]);
    expect(diffSnapshots(new Map(), base).map((e) => [e.type, e.uplink.name])).toEqual([
      ['added', 'eth0'],
      ['added', 'wwan0'],
      ['added', 'eth1'],
      ['added', 'odd'],
    ]);
  });

  it('names each kind of change and orders removed, changed, added', () => {
    expect(diffSnapshots(base, edit('eth0', { addresses: [{ address: '192.0.2.10', prefixLength: 25, family: 4 }] }))[0]!.changes).toEqual(['addresses']);
    expect(diffSnapshots(base, edit('eth0', { addresses: [] }))[0]!.changes).toEqual(['addresses']);
    expect(diffSnapshots(base, edit('eth0', { up: false, operState: 'DOWN' }))[0]!.changes).toEqual(['up']);
    expect(diffSnapshots(base, edit('eth0', { gateway6: undefined }))[0]!.changes).toEqual(['gateway']);
    expect(diffSnapshots(base, edit('eth0', { mtu: 1400, label: 'x', index: 9 }))[0]!.changes).toEqual(['mtu', 'label', 'index']);
    const next = edit('eth1', { up: true });
    next.delete('wwan0');
    next.set('ppp0', { ...base.get('wwan0')!, name: 'ppp0' });
    const events = diffSnapshots(base, next);
    expect(events.map((e) => [e.type, e.uplink.name, e.previous?.name, e.changes])).toEqual([
      ['removed', 'wwan0', 'wwan0', []],
      ['changed', 'eth1', 'eth1', ['up']],
      ['added', 'ppp0', undefined, []],
    ]);
  });
});

describe('compileGlob', () => {
  it('matches *, ?, sets and negated sets on the whole name', () => {
    expect(compileGlob('eth*').test('eth0')).toBe(true);
    expect(compileGlob('eth*').test('veth0')).toBe(false);
    expect(compileGlob('wwan?').test('wwan1')).toBe(true);
    expect(compileGlob('wwan?').test('wwan10')).toBe(false);
    expect(compileGlob('en[op]*').test('enp3s0')).toBe(true);
    expect(compileGlob('eth[!0]').test('eth0')).toBe(false);
    expect(compileGlob('eth[!0]').test('eth1')).toBe(true);
    expect(compileGlob('a[').test('a[')).toBe(true);
    expect(compileGlob('a.b').test('axb')).toBe(false);
    expect(matchesAny('eth0', [compileGlob('x'), compileGlob('e*')])).toBe(true);
    expect(matchesAny('eth0', [])).toBe(false);
  });

  it('matches a name without wildcards exactly itself', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_.:@+$^(){}|\\-]{1,15}$/), fc.stringMatching(/^[A-Za-z0-9_.-]{1,15}$/), (name, other) => {
        const glob = compileGlob(name);
        expect(glob.test(name)).toBe(true);
        expect(glob.test(other)).toBe(other === name);
      }),
    );
  });

  it.each(['', 'x'.repeat(65)])('refuses %j', (pattern) => {
    expect(() => compileGlob(pattern)).toThrow(expect.objectContaining({ code: 'LINKS_INVALID_ARGUMENT' }) as unknown as Error);
    try {
      compileGlob(pattern);
    } catch (e) {
      expect(isLinksError(e, 'LINKS_INVALID_ARGUMENT')).toBe(true);
    }
  });
});
