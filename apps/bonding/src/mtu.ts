/**
 * MTU arithmetic and the TCP MSS clamp (bonding.md §7).
 *
 *   link path MTU ┌ IP 20/40 ┬ UDP 8 ┬ outer 16 ┬ inner 24 ┬ TUN packet ┬ tag 16 ┐
 *   TUN MTU = min over links (path MTU − overhead of that link's IP family)
 *   MSS     = TUN MTU − inner IP header (20 / 40) − TCP header 20
 *
 * clampTcpMss() rewrites the MSS option of a TCP SYN (or SYN-ACK) in place when it exceeds what
 * the tunnel carries, and patches the TCP checksum incrementally (RFC 1624 eqn. 3) instead of
 * recomputing it. It reads only inside the packet and never throws on packet bytes.
 */
import {
  DATAGRAM_OVERHEAD_BYTES,
  IPV4_HEADER_BYTES,
  IPV6_HEADER_BYTES,
  MTU_MAX,
  MTU_MIN,
  TCP_HEADER_BYTES,
  UDP_HEADER_BYTES,
} from './constants.js';
import { invalidArgument } from './errors.js';

/** IP version of a link's outer packets or of a tunnelled packet. */
export type IpFamily = 4 | 6;

/** One link's path MTU and the IP family its datagrams travel over. */
export interface LinkPathMtu {
  /** Path MTU in bytes (the interface MTU until probing finds a smaller one). */
  mtu: number;
  family: IpFamily;
}

function checkFamily(family: IpFamily): number {
  if (family === 4) return IPV4_HEADER_BYTES;
  if (family === 6) return IPV6_HEADER_BYTES;
  throw invalidArgument('IP family', family, '4 or 6');
}

function checkMtu(name: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MTU_MIN || mtu > MTU_MAX) throw invalidArgument(name, mtu, `an integer in ${MTU_MIN}..${MTU_MAX}`);
}

/**
 * Bytes a link adds around each TUN packet: IP + UDP + outer header + inner header + tag
 * (72 over IPv4, 92 over IPv6).
 *
 * @example tunnelOverheadBytes(4); // 72
 */
export function tunnelOverheadBytes(family: IpFamily): number {
  return checkFamily(family) + UDP_HEADER_BYTES + DATAGRAM_OVERHEAD_BYTES;
}

/**
 * The TUN MTU that fits every link: the smallest path MTU minus that link's overhead.
 * Throws BONDING_INVALID_ARGUMENT for no links or an MTU outside 576..65535.
 *
 * @example tunMtuFor([{ mtu: 1500, family: 4 }, { mtu: 1500, family: 6 }]); // 1396
 */
export function tunMtuFor(links: readonly LinkPathMtu[]): number {
  if (links.length === 0) throw invalidArgument('links', '[]', 'at least one link');
  let best = Infinity;
  for (let i = 0; i < links.length; i++) {
    const l = links[i]!;
    checkMtu(`links[${i}].mtu`, l.mtu);
    const m = l.mtu - tunnelOverheadBytes(l.family);
    if (m < best) best = m;
  }
  return best;
}

/**
 * The MSS to announce for `family` packets through a TUN of `tunMtu`: MTU − IP header − 20.
 *
 * @example tcpMssFor(1428, 4); // 1388
 */
export function tcpMssFor(tunMtu: number, family: IpFamily): number {
  checkMtu('tunMtu', tunMtu);
  return tunMtu - checkFamily(family) - TCP_HEADER_BYTES;
}

const PROTO_TCP = 6;
const TCP_SYN = 0x02;
const OPT_END = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
/** Extension headers walked before giving up (a sane packet has a handful). */
const MAX_EXTENSION_HEADERS = 8;

/**
 * Offset of the TCP header of an unfragmented (or first-fragment) IPv4/IPv6 packet, with the
 * end of the IP payload in `end.value`; -1 when the packet is not TCP or does not parse.
 */
function tcpOffset(p: Uint8Array, end: { value: number }): number {
  const n = p.length;
  if (n < IPV4_HEADER_BYTES) return -1;
  const version = p[0]! >> 4;
  if (version === 4) {
    const ihl = (p[0]! & 0x0f) * 4;
    const total = (p[2]! << 8) | p[3]!;
    const fragmentOffset = ((p[6]! & 0x1f) << 8) | p[7]!;
    if (ihl < IPV4_HEADER_BYTES || total < ihl || total > n || p[9] !== PROTO_TCP || fragmentOffset !== 0) return -1;
    end.value = total;
    return ihl;
  }
  if (version !== 6 || n < IPV6_HEADER_BYTES) return -1;
  const last = IPV6_HEADER_BYTES + ((p[4]! << 8) | p[5]!);
  if (last > n) return -1;
  let next = p[6]!;
  let o = IPV6_HEADER_BYTES;
  for (let k = 0; k < MAX_EXTENSION_HEADERS && next !== PROTO_TCP; k++) {
    if (o + 8 > last) return -1;
    let len: number;
    if (next === 0 || next === 43 || next === 60) {
      len = (p[o + 1]! + 1) * 8; // hop-by-hop, routing, destination options
    } else if (next === 44) {
      if ((((p[o + 2]! << 8) | p[o + 3]!) & 0xfff8) !== 0) return -1; // not the first fragment
      len = 8;
    } else if (next === 51) {
      len = (p[o + 1]! + 2) * 4; // authentication header
    } else {
      return -1;
    }
    next = p[o]!;
    o += len;
  }
  if (next !== PROTO_TCP) return -1;
  end.value = last;
  return o;
}

const scratchEnd = { value: 0 };

/**
 * If `packet` is an IPv4 or IPv6 TCP SYN whose MSS option exceeds what a TUN of `tunMtu`
 * carries (tcpMssFor), lower it in place and fix the TCP checksum (RFC 1624). Returns true
 * when the packet changed. Anything else (not TCP, not SYN, no MSS option, a later fragment,
 * truncated or malformed) is left untouched.
 *
 * @example if (clampTcpMss(packet, tunMtu)) counters.mssClamped++;
 */
export function clampTcpMss(packet: Uint8Array, tunMtu: number): boolean {
  if (!Number.isInteger(tunMtu) || tunMtu < MTU_MIN || tunMtu > MTU_MAX) checkMtu('tunMtu', tunMtu);
  const p = packet;
  const tcp = tcpOffset(p, scratchEnd);
  if (tcp < 0) return false;
  const end = scratchEnd.value;
  if (tcp + TCP_HEADER_BYTES > end || (p[tcp + 13]! & TCP_SYN) === 0) return false;
  const optionsEnd = tcp + (p[tcp + 12]! >> 4) * 4;
  if (optionsEnd < tcp + TCP_HEADER_BYTES || optionsEnd > end) return false;
  const limit = tunMtu - (p[0]! >> 4 === 4 ? IPV4_HEADER_BYTES : IPV6_HEADER_BYTES) - TCP_HEADER_BYTES;
  let o = tcp + TCP_HEADER_BYTES;
  while (o < optionsEnd) {
    const kind = p[o]!;
    if (kind === OPT_END) return false;
    if (kind === OPT_NOP) {
      o++;
      continue;
    }
    if (o + 2 > optionsEnd) return false;
    const len = p[o + 1]!;
    if (len < 2 || o + len > optionsEnd) return false;
    if (kind === OPT_MSS) {
      if (len !== 4) return false;
      const mss = (p[o + 2]! << 8) | p[o + 3]!;
      if (mss <= limit) return false;
      p[o + 2] = limit >> 8;
      p[o + 3] = limit & 0xff;
      // The checksum sums 16-bit words from the TCP header's start: a value at an odd offset
      // straddles two words and counts byte-swapped (ones' complement sums commute with swaps).
      const odd = ((o + 2 - tcp) & 1) === 1;
      const csum = (p[tcp + 16]! << 8) | p[tcp + 17]!;
      const fixed = checksumReplace(csum, odd ? swap16(mss) : mss, odd ? swap16(limit) : limit);
      p[tcp + 16] = fixed >> 8;
      p[tcp + 17] = fixed & 0xff;
      return true;
    }
    o += len;
  }
  return false;
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >> 8);
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word m replaced by m'.
 *
 * @example const hc2 = checksumReplace(hc, oldWord, newWord);
 */
export function checksumReplace(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
