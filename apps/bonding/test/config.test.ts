// The `bonding` config section: defaults, cross-field rules, and errors that name the path,
// the value and the expectation (through @edgebox/runtime's validateConfig).
import { describe, expect, it } from 'vitest';
import { validateConfig } from '@edgebox/runtime';
import { BondingConfigSchema, canonicalIpv6, decodePsk, ipv6Bytes, parseCidr, parseHostPort } from '../src/config.js';
import type { BondingConfig } from '../src/config.js';

const PSK = Buffer.alloc(32, 1).toString('base64');

const client = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  mode: 'client',
  identity: { psk: PSK },
  tun: { address: '10.99.0.2/24' },
  client: { name: 'site-a', server: '198.51.100.1:51820', links: [{ name: 'wan0', source: '192.0.2.10' }] },
  ...over,
});

const server = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  mode: 'server',
  tun: { address: '10.99.0.1/24' },
  server: { listen: '198.51.100.1:51820', clients: [{ name: 'site-a', psk: PSK, tunAddress: '10.99.0.2' }] },
  ...over,
});

async function issues(value: unknown): Promise<string[]> {
  try {
    await validateConfig(BondingConfigSchema, value, { section: 'bonding' });
  } catch (err) {
    return ((err as { issues?: { path: string; expected: string }[] }).issues ?? []).map((i) => `${i.path}: ${i.expected}`);
  }
  return [];
}

describe('bonding config', () => {
  it('a minimal client gets the defaults', () => {
    const c: BondingConfig = BondingConfigSchema.parse(client());
    expect(c.tun).toEqual({ name: 'bond0', address: '10.99.0.2/24', mtu: 'auto' });
    expect(c.client!.scheduler).toBe('aggregate');
    expect(c.client!.reorder).toEqual({ capacity: 4096, minWaitMs: 1 });
    expect(c.client!.links[0]).toMatchObject({ tier: 'primary', weight: 1 });
    expect(c.ops).toEqual({ host: '127.0.0.1', port: 9470 });
  });

  it('a minimal server gets the defaults', () => {
    const c = BondingConfigSchema.parse(server());
    expect(c.server).toMatchObject({ maxClients: 64, scheduler: 'aggregate', nat: { enabled: false } });
  });

  it('certificate identities need ca, cert and key', async () => {
    expect(await issues(client({ identity: { ca: '/ca.pem', cert: '/c.pem', key: '/c.key' } }))).toEqual([]);
    expect(await issues(client({ identity: { ca: '/ca.pem', cert: '/c.pem' } }))).toEqual([expect.stringMatching(/^bonding\.identity\.key: .*ca, cert and key/)]);
    expect(await issues(client({ identity: { psk: PSK, ca: '/ca.pem', cert: '/c.pem', key: '/k' } }))).toEqual([expect.stringMatching(/^bonding\.identity: .*not both/)]);
  });

  it('errors name the path and the expectation', async () => {
    expect(await issues(client({ identity: { psk: 'short' } }))).toEqual([expect.stringMatching(/^bonding\.identity\.psk: .*32 bytes in base64/)]);
    expect(await issues(client({ tun: { address: '10.99.0.2' } }))).toEqual([expect.stringMatching(/^bonding\.tun\.address: .*prefix/)]);
    expect(await issues(client({ client: { name: 'a', server: 'nowhere', links: [{ name: 'x', source: '192.0.2.1' }] } }))).toEqual([expect.stringMatching(/^bonding\.client\.server: .*host:port/)]);
    expect(await issues({ mode: 'client', identity: { psk: PSK }, tun: { address: '10.0.0.1/24' } })).toEqual([expect.stringMatching(/^bonding\.client: the client section/)]);
    expect(await issues(client({ tun: { address: '10.0.0.1/24', mtu: 100 } }))).toEqual([expect.stringMatching(/^bonding\.tun\.mtu/)]);
  });

  it('a PSK client needs a name; link names are unique', async () => {
    expect(await issues(client({ client: { server: '198.51.100.1:1', links: [{ name: 'a', source: '192.0.2.1' }] } }))).toEqual([expect.stringMatching(/^bonding\.client\.name: /)]);
    const twice = client({ client: { name: 'x', server: '198.51.100.1:1', links: [{ name: 'a', source: '192.0.2.1' }, { name: 'a', source: '192.0.2.2' }] } });
    expect(await issues(twice)).toEqual([expect.stringMatching(/^bonding\.client\.links\[1\]\.name: .*used twice/)]);
  });

  it('server clients: per-link downstream settings by link id, defaults filled, ids distinct', async () => {
    const ok = BondingConfigSchema.parse(server({ server: { listen: '10.0.0.1:1', clients: [{ name: 'a', psk: PSK, tunAddress: '10.99.0.2', links: [{ id: 2, tier: 'backup' }] }] } }));
    expect(ok.server!.clients[0]!.links).toEqual([{ id: 2, tier: 'backup', weight: 1 }]);
    expect(BondingConfigSchema.parse(server()).server!.clients[0]!.links).toEqual([]);
    expect(await issues(server({ server: { listen: '10.0.0.1:1', clients: [{ name: 'a', psk: PSK, tunAddress: '10.99.0.2', links: [{ id: 1 }, { id: 1 }] }] } }))).toEqual([
      expect.stringMatching(/^bonding\.server\.clients\[0\]\.links: .*link ids must be distinct/),
    ]);
  });

  it('server clients: exactly one key kind, unique names and addresses, no server PSK', async () => {
    const clients = [
      { name: 'a', psk: PSK, tunAddress: '10.99.0.2' },
      { name: 'a', tunAddress: '10.99.0.2' },
    ];
    expect(await issues(server({ server: { listen: '10.0.0.1:1', clients } }))).toEqual([
      expect.stringMatching(/^bonding\.server\.clients\[1\]\.name: .*used twice/),
      expect.stringMatching(/^bonding\.server\.clients\[1\]\.tunAddress: .*used twice/),
      expect.stringMatching(/^bonding\.server\.clients\[1\]: exactly one of psk, pskFile or subject/),
    ]);
    expect(await issues(server({ identity: { psk: PSK } }))).toEqual([expect.stringMatching(/^bonding\.identity: no PSK identity in server mode/)]);
    expect(await issues(server({ server: { listen: '10.0.0.1:1', clients: [{ name: 'c', subject: 'box', tunAddress: '10.99.0.5' }] } }))).toEqual([
      expect.stringMatching(/^bonding\.server\.clients\[0\]\.subject: .*certificate identity/),
    ]);
  });

  it('IPv6 inside the bond: tun.address6 and per-client tunAddress6, unique and only with a server address6', async () => {
    const ok = BondingConfigSchema.parse(
      server({ tun: { address: '10.99.0.1/24', address6: 'fd00:99::1/64' }, server: { listen: '10.0.0.1:1', clients: [{ name: 'a', psk: PSK, tunAddress: '10.99.0.2', tunAddress6: 'fd00:99::2' }] } }),
    );
    expect(ok.tun.address6).toBe('fd00:99::1/64');
    expect(ok.server?.clients[0]?.tunAddress6).toBe('fd00:99::2');
    const clients = [
      { name: 'a', psk: PSK, tunAddress: '10.99.0.2', tunAddress6: 'fd00:99::2' },
      { name: 'b', psk: PSK, tunAddress: '10.99.0.3', tunAddress6: 'fd00:99:0:0::0002' },
    ];
    expect(await issues(server({ tun: { address: '10.99.0.1/24', address6: 'fd00:99::1/64' }, server: { listen: '10.0.0.1:1', clients } }))).toEqual([
      expect.stringMatching(/^bonding\.server\.clients\[1\]\.tunAddress6: .*fd00:99:0:0::0002 is used twice/),
    ]);
    expect(await issues(server({ server: { listen: '10.0.0.1:1', clients: [clients[0]] } }))).toEqual([expect.stringMatching(/^bonding\.server\.clients\[0\]\.tunAddress6: tun\.address6 on the server too/)]);
    expect(await issues(client({ tun: { address: '10.99.0.2/24', address6: '10.99.0.2/24' } }))).toEqual([expect.stringMatching(/^bonding\.tun\.address6: an IPv6 address with prefix/)]);
    expect(await issues(client({ tun: { address: 'fd00::2/64' } }))).toEqual([expect.stringMatching(/^bonding\.tun\.address: an IPv4 address with prefix/)]);
  });

  it('reads IPv6 addresses into bytes and one canonical spelling', () => {
    expect([...ipv6Bytes('fd00:99::2')]).toEqual([0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect([...ipv6Bytes('::ffff:192.0.2.1')]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    expect([...ipv6Bytes('::')]).toEqual(new Array(16).fill(0));
    expect(canonicalIpv6('FD00:0099:0::2')).toBe('fd00:99:0:0:0:0:0:2');
    expect(canonicalIpv6('fd00:99::2')).toBe(canonicalIpv6('fd00:99:0:0:0:0:0:2'));
  });

  it('parses host:port, CIDR and PSK text', () => {
    expect(parseHostPort('10.0.0.1:51820')).toEqual({ host: '10.0.0.1', port: 51820 });
    expect(parseHostPort('[fd00::1]:443')).toEqual({ host: 'fd00::1', port: 443 });
    expect(parseHostPort('fd00::1:443')).toBeNull();
    expect(parseHostPort('h:0')).toBeNull();
    expect(parseCidr('10.0.0.1/24')).toEqual({ address: '10.0.0.1', prefix: 24, family: 4 });
    expect(parseCidr('fd00::1/64')).toEqual({ address: 'fd00::1', prefix: 64, family: 6 });
    expect(parseCidr('10.0.0.1/33')).toBeNull();
    expect(decodePsk(PSK)).toHaveLength(32);
    expect(decodePsk(Buffer.alloc(31).toString('base64'))).toBeNull();
    expect(decodePsk('not base64!')).toBeNull();
  });
});
