// The netlink source's model, from `ip -j addr show` output: operational states like networkd's,
// addresses global first, the interface filter.
import { describe, expect, it } from 'vitest';
import { linkState, snapshotFrom } from '../src/sources/netlink.js';
import type { IpLinkJson } from '../src/ip-command.js';

const v4 = { family: 'inet', local: '10.0.0.2', prefixlen: 24, scope: 'global' };
const ll = { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' };

describe('netlink link model', () => {
  it.each([
    [['BROADCAST'], [v4], 'off'],
    [['UP', 'NO-CARRIER'], [v4], 'no-carrier'],
    [['UP'], [v4], 'no-carrier'],
    [['UP', 'LOWER_UP'], [], 'carrier'],
    [['UP', 'LOWER_UP'], [ll], 'degraded'],
    [['UP', 'LOWER_UP'], [ll, v4], 'routable'],
    [['UP', 'LOWER_UP'], [{ ...v4, dadfailed: true }], 'carrier'],
  ])('flags %j with %j is %s', (flags, addrs, state) => {
    expect(linkState(flags, addrs)).toBe(state);
  });

  it('snapshots accepted interfaces with addresses, global first', () => {
    const links: IpLinkJson[] = [
      { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
      { ifindex: 3, ifname: 'eth0', flags: ['UP', 'LOWER_UP'], operstate: 'UP', mtu: 1500, address: 'aa:bb:cc:dd:ee:ff', addr_info: [ll, v4] },
    ];
    const snap = snapshotFrom(links, (n) => n !== 'lo');
    expect([...snap.keys()]).toEqual(['eth0']);
    expect(snap.get('eth0')).toEqual({ name: 'eth0', ifindex: 3, state: 'routable', addresses: ['10.0.0.2/24', 'fe80::1/64'], flags: ['UP', 'LOWER_UP'], operstate: 'UP', mtu: 1500, mac: 'aa:bb:cc:dd:ee:ff' });
  });
});
