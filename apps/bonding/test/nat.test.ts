// The server's NAT ruleset: our own table, replaced as a whole, masquerading the TUN subnet.
import { describe, expect, it } from 'vitest';
import { NAT_TABLE, natRuleset, subnet6Of, subnetOf } from '../src/nat.js';

describe('NAT ruleset', () => {
  it('masquerades the TUN subnet in its own table, replaced atomically', () => {
    const rules = natRuleset({ tunName: 'bond0', tunCidr: '10.99.0.1/24' });
    expect(NAT_TABLE).toBe('edgebox_bonding');
    expect(rules.split('\n').slice(0, 3)).toEqual(['table ip edgebox_bonding', 'delete table ip edgebox_bonding', 'table ip edgebox_bonding {']);
    expect(rules).toContain('type nat hook postrouting priority srcnat; policy accept;');
    expect(rules).toContain('ip saddr 10.99.0.0/24 oifname != "bond0" masquerade');
    expect(rules).not.toMatch(/flush/);
  });

  it('limits the masquerade to outInterface when given', () => {
    expect(natRuleset({ tunName: 'bond0', tunCidr: '10.99.0.1/24', outInterface: 'eth0' })).toContain('ip saddr 10.99.0.0/24 oifname "eth0" masquerade');
  });

  it('masquerades the IPv6 TUN subnet in an ip6 table of the same name when the bond carries IPv6', () => {
    const rules = natRuleset({ tunName: 'bond0', tunCidr: '10.99.0.1/24', tunCidr6: 'fd00:99::1/64' });
    expect(rules).toContain('ip saddr 10.99.0.0/24 oifname != "bond0" masquerade');
    expect(rules).toContain('table ip6 edgebox_bonding {');
    expect(rules).toContain('delete table ip6 edgebox_bonding');
    expect(rules).toContain('ip6 saddr fd00:99:0:0:0:0:0:0/64 oifname != "bond0" masquerade');
    expect(subnet6Of('fd00:99:1:2:3:4:5:6/52')).toBe('fd00:99:1:0:0:0:0:0/52');
    expect(subnet6Of('fd00:99:1fff::1/36')).toBe('fd00:99:1000:0:0:0:0:0/36');
    expect(() => subnet6Of('10.0.0.1/8')).toThrow(/IPv6 address with prefix/);
  });

  it('computes subnets and refuses what is not IPv4 with a prefix', () => {
    expect(subnetOf('10.99.7.130/25')).toBe('10.99.7.128/25');
    expect(subnetOf('192.0.2.1/32')).toBe('192.0.2.1/32');
    expect(subnetOf('10.1.2.3/0')).toBe('0.0.0.0/0');
    expect(() => subnetOf('fd00::1/64')).toThrow(/IPv4 address with prefix/);
  });
});
