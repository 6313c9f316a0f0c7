/**
 * The 12-byte inner header (bonding.md §3): encrypted with the payload, so only the session's
 * peer sees link and data sequences and the timestamps.
 *
 *   0       1               3                               7
 *   +---+---+---------------+-------------------------------+
 *   |lid|flg| link seq (u16)|     data sequence (u32 BE)    |
 *   +---+---+---------------+-------------------------------+
 *   7               9               11      12
 *   +---------------+---------------+-------+
 *   | send ts (u16) | echo ts (u16) | hold  |
 *   +---------------+---------------+-------+
 *
 * Byte 0: link id in the high nibble (0..15), flags in the low nibble. Every field carries
 * only as many bits as its receiver needs (bonding.md §3): per-link sequences and timestamps
 * wrap and are extended at the receiver, RTP-style (RFC 3550 §A.1). Twelve bytes instead of
 * the first draft's 24: on a 1500-byte link that is 12 more bytes of every packet's payload.
 *
 * Encoding and decoding go to / from one reused object; no allocation. No flag bit is defined
 * yet, so flags pass through as is.
 */
import { ECHO_HOLD_NONE, INNER_FLAGS_MAX, INNER_HEADER_BYTES, LINK_ID_MAX } from './constants.js';
import { invalidArgument, malformed } from './errors.js';

/** Fields of an inner header, as on the wire. One object is reused per send or receive loop. */
export interface InnerHeader {
  /** Link the datagram was sent on, in the client's numbering: 0..15. */
  linkId: number;
  /** 0..15; no bit is defined in version 1. */
  flags: number;
  /** Per (direction, link) sequence, +1 per datagram of any type, mod 2^16. */
  linkSeq: number;
  /** Per direction sequence of DATA packets (redundant copies share it); 0 for other types: u32. */
  dataSeq: number;
  /** Sender's monotonic clock in ms, mod 2^16. */
  sendTimeMs: number;
  /** Latest send timestamp received on this link, mod 2^16. */
  echoTimeMs: number;
  /** ms the echoed timestamp was held before this send, 0..254; 255 = nothing to echo. */
  echoHoldMs: number;
}

class InnerHeaderImpl implements InnerHeader {
  linkId = 0;
  flags = 0;
  linkSeq = 0;
  dataSeq = 0;
  sendTimeMs = 0;
  echoTimeMs = 0;
  echoHoldMs = ECHO_HOLD_NONE;
}

/**
 * A fresh inner header (every field 0, echo hold "nothing to echo"), with `fields` applied.
 *
 * @example
 * const tx = createInnerHeader({ linkId: 2 });
 * tx.linkSeq = (tx.linkSeq + 1) & 0xffff;
 */
export function createInnerHeader(fields: Partial<InnerHeader> = {}): InnerHeader {
  return Object.assign(new InnerHeaderImpl(), fields);
}

const isU16 = (v: number): boolean => (v & 0xffff) === v;

/** Cold: name the first bad field. */
function badField(h: InnerHeader): never {
  if (!Number.isInteger(h.linkId) || h.linkId < 0 || h.linkId > LINK_ID_MAX) throw invalidArgument('linkId', h.linkId, `an integer in 0..${LINK_ID_MAX}`);
  if ((h.flags & INNER_FLAGS_MAX) !== h.flags) throw invalidArgument('flags', h.flags, `an integer in 0..${INNER_FLAGS_MAX}`);
  if (!isU16(h.linkSeq)) throw invalidArgument('linkSeq', h.linkSeq, 'a u16 (the link sequence mod 2^16)');
  if (h.dataSeq >>> 0 !== h.dataSeq) throw invalidArgument('dataSeq', h.dataSeq, 'a u32');
  if (!isU16(h.sendTimeMs)) throw invalidArgument('sendTimeMs', h.sendTimeMs, 'a u16 (ms mod 2^16)');
  if (!isU16(h.echoTimeMs)) throw invalidArgument('echoTimeMs', h.echoTimeMs, 'a u16 (ms mod 2^16)');
  throw invalidArgument('echoHoldMs', h.echoHoldMs, 'an integer in 0..255');
}

/**
 * Write `h` into `target` at `offset`; returns the offset after it (offset + 12). Throws
 * BONDING_INVALID_ARGUMENT for a field out of range or too little room.
 *
 * @example const at = encodeInnerHeader(tx, plaintext, 0); plaintext.set(packet, at);
 */
export function encodeInnerHeader(h: InnerHeader, target: Uint8Array, offset = 0): number {
  const { linkId, flags, linkSeq, dataSeq, sendTimeMs, echoTimeMs, echoHoldMs } = h;
  if (
    (linkId & LINK_ID_MAX) !== linkId ||
    (flags & INNER_FLAGS_MAX) !== flags ||
    (linkSeq & 0xffff) !== linkSeq ||
    dataSeq >>> 0 !== dataSeq ||
    (sendTimeMs & 0xffff) !== sendTimeMs ||
    (echoTimeMs & 0xffff) !== echoTimeMs ||
    (echoHoldMs & 0xff) !== echoHoldMs
  ) {
    badField(h);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + INNER_HEADER_BYTES > target.length) {
    throw invalidArgument('inner header target', `length ${target.length} at offset ${offset}`, `room for ${INNER_HEADER_BYTES} bytes`);
  }
  const t = target;
  const o = offset;
  t[o] = (linkId << 4) | flags;
  t[o + 1] = linkSeq >>> 8;
  t[o + 2] = linkSeq & 0xff;
  t[o + 3] = dataSeq >>> 24;
  t[o + 4] = (dataSeq >>> 16) & 0xff;
  t[o + 5] = (dataSeq >>> 8) & 0xff;
  t[o + 6] = dataSeq & 0xff;
  t[o + 7] = sendTimeMs >>> 8;
  t[o + 8] = sendTimeMs & 0xff;
  t[o + 9] = echoTimeMs >>> 8;
  t[o + 10] = echoTimeMs & 0xff;
  t[o + 11] = echoHoldMs;
  return o + INNER_HEADER_BYTES;
}

/**
 * Read an inner header from `source` at `offset` into `into`. Returns false (and leaves `into`
 * unspecified) when fewer than 12 bytes remain: never throws on wire input (every value of
 * every field is valid).
 *
 * @example if (!tryDecodeInnerHeader(plain, 0, rx)) return drop('malformed');
 */
export function tryDecodeInnerHeader(source: Uint8Array, offset: number, into: InnerHeader): boolean {
  const s = source;
  const o = offset;
  if (o < 0 || s.length - o < INNER_HEADER_BYTES) return false;
  const first = s[o]!;
  into.linkId = first >>> 4;
  into.flags = first & INNER_FLAGS_MAX;
  into.linkSeq = (s[o + 1]! << 8) | s[o + 2]!;
  into.dataSeq = ((s[o + 3]! << 24) | (s[o + 4]! << 16) | (s[o + 5]! << 8) | s[o + 6]!) >>> 0;
  into.sendTimeMs = (s[o + 7]! << 8) | s[o + 8]!;
  into.echoTimeMs = (s[o + 9]! << 8) | s[o + 10]!;
  into.echoHoldMs = s[o + 11]!;
  return true;
}

/**
 * Like tryDecodeInnerHeader but throws BONDING_MALFORMED naming the problem; returns `into`
 * (default: a new header). For tools and tests; receive loops use the try form.
 *
 * @example const h = decodeInnerHeader(plaintext);
 */
export function decodeInnerHeader(source: Uint8Array, offset = 0, into: InnerHeader = createInnerHeader()): InnerHeader {
  if (tryDecodeInnerHeader(source, offset, into)) return into;
  const left = source.length - offset;
  throw malformed('inner header', `${left} bytes < ${INNER_HEADER_BYTES}`, { length: left });
}

/**
 * The echo hold to send: ms between receiving the echoed timestamp and now, or ECHO_HOLD_NONE
 * when that is over 254 ms (the u8 cannot say it, and a clipped hold would inflate the RTT).
 *
 * @example tx.echoHoldMs = echoHoldMs(now, link.peerSendAtMs);
 */
export function echoHoldMs(nowMs: number, receivedAtMs: number): number {
  const held = Math.floor(nowMs - receivedAtMs);
  return held <= 0 ? 0 : held >= ECHO_HOLD_NONE ? ECHO_HOLD_NONE : held;
}

/**
 * The RTT sample a received header gives (bonding.md §3): `now − echo − hold` mod 2^16, or -1
 * when it echoes nothing or the result is "negative" (≥ 2^15: a clock or echo gone wrong).
 *
 * @example const rtt = rttSampleMs(Math.floor(now), rx); if (rtt >= 0) link.rtt.addSample(rtt, now);
 */
export function rttSampleMs(nowMs: number, h: InnerHeader): number {
  if (h.echoHoldMs === ECHO_HOLD_NONE) return -1;
  const rtt = (nowMs - h.echoTimeMs - h.echoHoldMs) & 0xffff;
  return rtt >= 0x8000 ? -1 : rtt;
}

/**
 * Extends a 16-bit wire sequence (or ms timestamp) to a u32, given the last extended value
 * (RFC 3550 §A.1): the step from the last value is taken as the signed 16-bit distance, so
 * arrivals up to 32767 apart in either direction extend right. Pass -1 as `last` for the first
 * value.
 *
 * @example link.rxLinkSeq = extend16(link.rxLinkSeq, header.linkSeq); link.loss.onReceive(link.rxLinkSeq);
 */
export function extend16(last: number, wire: number): number {
  if (last < 0) return wire;
  return (last + ((((wire - last) & 0xffff) << 16) >> 16)) >>> 0;
}
