/**
 * IP addresses and CIDR blocks as integers, for access-list matching and multiaddr checks.
 * IPv4 is a 32-bit and IPv6 a 128-bit bigint; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * also matched against IPv4 blocks, since dual-stack sockets report IPv4 peers that way.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { PeersError, describeValue } from './errors.js';

/** A parsed IP address. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

/** A parsed CIDR block, host bits cleared. */
export interface Cidr {
  version: 4 | 6;
  /** Network address with the host bits cleared. */
  network: bigint;
  prefix: number;
  /** Canonical text: `10.0.0.0/8`, `2001:db8::/32`. */
  text: string;
}

/**
 * Parse an IPv4 or IPv6 address (an IPv6 zone `%eth0` is ignored); undefined if it is neither.
 *
 * @example parseIp('192.0.2.1') // { version: 4, value: 3221225985n }
 */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (isIPv4(text)) return { version: 4, value: ipv4Value(text) };
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(bare)) return undefined;
  return { version: 6, value: ipv6Value(bare) };
}

function ipv4Value(text: string): bigint {
  let v = 0n;
  for (const part of text.split('.')) v = (v << 8n) | BigInt(Number(part));
  return v;
}

function ipv6Value(text: string): bigint {
  // Expand an embedded IPv4 tail into two groups, then the :: into zero groups.
  let t = text;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4Value(tail);
    t = `${t.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = t.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  return v;
}

/**
 * Text form of an address: dotted IPv4, or RFC 5952 IPv6 (lowercase, longest zero run as ::).
 *
 * @example formatIp({ version: 6, value: 1n }) // '::1'
 */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((ip.value >> s) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address carries, or undefined.
 *
 * @example formatIp(unmapIpv4(parseIp('::ffff:192.0.2.1')!)!) // '192.0.2.1'
 */
export function unmapIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.version === 6 && ip.value >> 32n === 0xffffn) return { version: 4, value: ip.value & 0xffffffffn };
  return undefined;
}

/**
 * Parse a CIDR block (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a /32 or /128 block.
 * Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`). Throws PEERS_INVALID_ADDRESS.
 *
 * @example parseCidr('192.168.0.0/16').text // '192.168.0.0/16'
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string' || text.length > 64) throw badCidr(text, 'is not a string of at most 64 characters');
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined || text.includes('%')) throw badCidr(text, 'does not start with an IPv4 or IPv6 address');
  const bits = ip.version === 4 ? 32 : 128;
  let prefix = bits;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) throw badCidr(text, `has prefix length ${JSON.stringify(p)}, expected 0..${bits}`);
    prefix = Number(p);
  }
  const network = ip.value & mask(bits, prefix);
  return { version: ip.version, network, prefix, text: `${formatIp({ version: ip.version, value: network })}/${prefix}` };
}

function mask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

function badCidr(text: unknown, why: string): PeersError {
  return new PeersError('PEERS_INVALID_ADDRESS', `CIDR ${describeValue(text)} ${why}`, { details: { field: 'cidr' } });
}

/**
 * True when `ip` lies inside `cidr`; an IPv4-mapped IPv6 address also matches IPv4 blocks.
 *
 * @example cidrContains(parseCidr('10.0.0.0/8'), parseIp('::ffff:10.1.2.3')!) // true
 */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  let addr: IpAddress = ip;
  if (cidr.version !== ip.version) {
    const mapped = cidr.version === 4 ? unmapIpv4(ip) : undefined;
    if (mapped === undefined) return false;
    addr = mapped;
  }
  const bits = cidr.version === 4 ? 32 : 128;
  return (addr.value & mask(bits, cidr.prefix)) === cidr.network;
}
