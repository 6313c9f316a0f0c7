// IP/CIDR parsing and multiaddr validation: what the address book and access list accept.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, isMultiaddr, isPeersError, parseCidr, parseIp, parseMultiaddr, peerIdFromPublicKey } from '../src/index.js';

const peer = peerIdFromPublicKey(new Uint8Array(32).fill(7));

describe('IP addresses', () => {
  it('parses IPv4 and IPv6 (with :: and an IPv4 tail) and formats RFC 5952 text', () => {
    expect(parseIp('192.0.2.1')).toEqual({ version: 4, value: 0xc0000201n });
    expect(parseIp('::1')).toEqual({ version: 6, value: 1n });
    expect(parseIp('::')).toEqual({ version: 6, value: 0n });
    expect(parseIp('fe80::1%eth0')).toEqual({ version: 6, value: 0xfe80n << 112n | 1n });
    expect(formatIp(parseIp('::ffff:192.0.2.1')!)).toBe('::ffff:c000:201');
    expect(formatIp(parseIp('2001:0db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('1:2:3:4:5:6:7::')!)).toBe('1:2:3:4:5:6:7:0');
    for (const bad of ['1.2.3', '256.1.1.1', 'fe80:::1', 'example.com', '', 42 as unknown as string]) expect(parseIp(bad)).toBeUndefined();
  });

  it('formats any address to text that parses back to it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat(0xffffffff), (v6, v4) => {
        expect(parseIp(formatIp({ version: 6, value: v6 }))).toEqual({ version: 6, value: v6 });
        expect(parseIp(formatIp({ version: 4, value: BigInt(v4) }))).toEqual({ version: 4, value: BigInt(v4) });
      }),
    );
  });
});

describe('CIDR blocks', () => {
  it('clears host bits, treats a bare address as one host, and matches members only', () => {
    const net = parseCidr('10.1.2.3/8');
    expect(net.text).toBe('10.0.0.0/8');
    expect(cidrContains(net, parseIp('10.255.0.1')!)).toBe(true);
    expect(cidrContains(net, parseIp('11.0.0.1')!)).toBe(false);
    expect(parseCidr('192.0.2.7').text).toBe('192.0.2.7/32');
    expect(parseCidr('2001:db8::/32').text).toBe('2001:db8::/32');
    expect(cidrContains(parseCidr('2001:db8::/32'), parseIp('2001:db8:ffff::1')!)).toBe(true);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIp('203.0.113.1')!)).toBe(true);
    expect(cidrContains(parseCidr('::/0'), parseIp('203.0.113.1')!)).toBe(false);
  });

  it('matches IPv4-mapped IPv6 peers against IPv4 blocks (dual-stack sockets)', () => {
    expect(cidrContains(parseCidr('203.0.113.0/24'), parseIp('::ffff:203.0.113.9')!)).toBe(true);
    expect(cidrContains(parseCidr('203.0.113.0/24'), parseIp('2001:db8::1')!)).toBe(false);
  });

  it.each([
    ['10.0.0.0/33', /prefix length "33", expected 0..32/],
    ['::/129', /expected 0..128/],
    ['10.0.0.0/', /prefix length ""/],
    ['10.0.0.0/-1', /prefix length "-1"/],
    ['example.com/8', /does not start with an IPv4 or IPv6 address/],
    ['fe80::1%eth0/64', /does not start with an IPv4/],
    ['1'.repeat(65), /at most 64 characters/],
  ])('refuses %s', (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
    try {
      parseCidr(text);
    } catch (err) {
      expect(isPeersError(err, 'PEERS_INVALID_ADDRESS')).toBe(true);
    }
  });
});

describe('multiaddrs', () => {
  it.each([
    `/ip4/192.0.2.1/tcp/4001`,
    `/ip4/192.0.2.1/tcp/4001/p2p/${peer}`,
    `/ip6/2001:db8::1/udp/4001/quic-v1`,
    `/dns4/node-1.example.com/tcp/443/wss/p2p/${peer}`,
    `/dnsaddr/bootstrap.libp2p.io`,
    `/memory/address-1`,
    `/ip4/127.0.0.1/tcp/0/ws`,
    `/p2p/${peer}/p2p-circuit`,
    `/ip4/192.0.2.1/udp/4001/webrtc-direct/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ`,
  ])('accepts %s', (text) => {
    expect(isMultiaddr(text)).toBe(true);
    expect(parseMultiaddr(text).text).toBe(text);
  });

  it('reports the peer id and the first IP it carries', () => {
    const info = parseMultiaddr(`/ip6/::1/tcp/1/p2p/${peer}`);
    expect(info.peerId).toBe(peer);
    expect(info.ip).toEqual({ version: 6, value: 1n });
    expect(info.components).toEqual([{ protocol: 'ip6', value: '::1' }, { protocol: 'tcp', value: '1' }, { protocol: 'p2p', value: peer }]);
    expect(parseMultiaddr('/dns/x.example/tcp/1').ip).toBeUndefined();
  });

  it.each([
    ['', /1\.\.256 characters/],
    ['ip4/1.2.3.4', /does not start with "\/"/],
    ['/ip4/1.2.3.4/', /empty component/],
    ['/ip4//tcp/1', /empty component|no value/],
    ['/ip4/1.2.3.4/tcp', /no value after \/tcp/],
    ['/ip4/1.2.3.4/tcp/65536', /not a port 0\.\.65535/],
    ['/ip4/1.2.3.4/tcp/08x', /not a port/],
    ['/ip4/::1/tcp/1', /not an IPv4 address/],
    ['/ip6/1.2.3.4/tcp/1', /not an IPv6 address/],
    ['/ip6/fe80::1%eth0/tcp/1', /not an IPv6 address/],
    ['/dns4/bad_host!/tcp/1', /not a DNS name/],
    ['/ip4/1.2.3.4/tcpp/1', /unknown protocol "tcpp"/],
    ['/ip4/1.2.3.4/tcp/1/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', /invalid peer id: .*sha2-256/],
    ['/memory/a b', /not a plain token/],
    [`/ip4/1.2.3.4/tcp/1${'/ws'.repeat(100)}`, /1\.\.256 characters/],
  ])('refuses %j', (text, message) => {
    expect(() => parseMultiaddr(text)).toThrow(message);
    expect(isMultiaddr(text)).toBe(false);
  });

  it('fuzz: arbitrary strings raise only PEERS_INVALID_ADDRESS', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^(\/(ip4|ip6|tcp|udp|dns|p2p|ws|memory|x)(\/[0-9a-f.:]{0,8})?){0,5}$/)), (text) => {
        try {
          parseMultiaddr(text);
        } catch (err) {
          expect(isPeersError(err, 'PEERS_INVALID_ADDRESS')).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
    expect(isMultiaddr(7)).toBe(false);
  });
});
