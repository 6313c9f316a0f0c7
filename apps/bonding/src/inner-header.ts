/**
 * The 24-byte inner header (bonding.md §3): encrypted with the payload, so only the session's
 * peer sees link and data sequences and the timestamps.
 *
 *   0       1       2               4                               8
 *   +-------+-------+---------------+-------------------------------+
 *   |link id| flags |   reserved    |   link sequence (u32 BE)      |
 *   +-------+-------+---------------+-------------------------------+
 *   |   data sequence (u32 BE)      |   send timestamp (u32 BE, ms) |
 *   +-------------------------------+---------------+---------------+
 *   |   echo timestamp (u32 BE, ms) | echo hold (ms)|   reserved    |
 *   +-------------------------------+---------------+---------------+
 *   16                              20              22              24
 *
 * Encoding and decoding go to / from one reused object; no allocation. Reserved bytes are
 * written 0 and ignored on receipt; no flag bit is defined yet, so flags pass through as is.
 */
import { ECHO_HOLD_NONE, INNER_HEADER_BYTES, LINK_ID_MAX } from './constants.js';
import { invalidArgument, malformed } from './errors.js';

/** Fields of an inner header. One object is reused per send or receive loop. */
export interface InnerHeader {
  /** Link the datagram was sent on, in the client's numbering: 0..15. */
  linkId: number;
  /** u8; no bit is defined in version 1. */
  flags: number;
  /** Per (direction, link) sequence, +1 per datagram of any type: u32. */
  linkSeq: number;
  /** Per direction sequence of DATA packets (redundant copies share it); 0 for other types: u32. */
  dataSeq: number;
  /** Sender's monotonic clock in ms, mod 2^32. */
  sendTimeMs: number;
  /** Latest send timestamp received on this link, mod 2^32. */
  echoTimeMs: number;
  /** ms the echoed timestamp was held before this send, u16 saturating; 0xFFFF = nothing to echo. */
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
 * tx.linkSeq = (tx.linkSeq + 1) >>> 0;
 */
export function createInnerHeader(fields: Partial<InnerHeader> = {}): InnerHeader {
  return Object.assign(new InnerHeaderImpl(), fields);
}

const isU32 = (v: number): boolean => v >>> 0 === v;

/** Cold: name the first bad field. */
function badField(h: InnerHeader): never {
  if (!Number.isInteger(h.linkId) || h.linkId < 0 || h.linkId > LINK_ID_MAX) throw invalidArgument('linkId', h.linkId, `an integer in 0..${LINK_ID_MAX}`);
  if ((h.flags & 0xff) !== h.flags) throw invalidArgument('flags', h.flags, 'an integer in 0..255');
  if (!isU32(h.linkSeq)) throw invalidArgument('linkSeq', h.linkSeq, 'a u32');
  if (!isU32(h.dataSeq)) throw invalidArgument('dataSeq', h.dataSeq, 'a u32');
  if (!isU32(h.sendTimeMs)) throw invalidArgument('sendTimeMs', h.sendTimeMs, 'a u32 (ms mod 2^32)');
  if (!isU32(h.echoTimeMs)) throw invalidArgument('echoTimeMs', h.echoTimeMs, 'a u32 (ms mod 2^32)');
  throw invalidArgument('echoHoldMs', h.echoHoldMs, 'an integer in 0..65535');
}

/**
 * Write `h` into `target` at `offset`; returns the offset after it (offset + 24). Throws
 * BONDING_INVALID_ARGUMENT for a field out of range or too little room.
 *
 * @example const at = encodeInnerHeader(tx, plaintext, 0); plaintext.set(packet, at);
 */
export function encodeInnerHeader(h: InnerHeader, target: Uint8Array, offset = 0): number {
  const { linkId, flags, linkSeq, dataSeq, sendTimeMs, echoTimeMs, echoHoldMs } = h;
  if (
    (linkId & 0xff) !== linkId ||
    linkId > LINK_ID_MAX ||
    (flags & 0xff) !== flags ||
    linkSeq >>> 0 !== linkSeq ||
    dataSeq >>> 0 !== dataSeq ||
    sendTimeMs >>> 0 !== sendTimeMs ||
    echoTimeMs >>> 0 !== echoTimeMs ||
    (echoHoldMs & 0xffff) !== echoHoldMs
  ) {
    badField(h);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + INNER_HEADER_BYTES > target.length) {
    throw invalidArgument('inner header target', `length ${target.length} at offset ${offset}`, `room for ${INNER_HEADER_BYTES} bytes`);
  }
  const t = target;
  const o = offset;
  t[o] = linkId;
  t[o + 1] = flags;
  t[o + 2] = 0;
  t[o + 3] = 0;
  writeU32(t, o + 4, linkSeq);
  writeU32(t, o + 8, dataSeq);
  writeU32(t, o + 12, sendTimeMs);
  writeU32(t, o + 16, echoTimeMs);
  t[o + 20] = echoHoldMs >>> 8;
  t[o + 21] = echoHoldMs & 0xff;
  t[o + 22] = 0;
  t[o + 23] = 0;
  return o + INNER_HEADER_BYTES;
}

/**
 * Read an inner header from `source` at `offset` into `into`. Returns false (and leaves `into`
 * unspecified) when fewer than 24 bytes remain or the link id is over 15: never throws on
 * wire input.
 *
 * @example if (!tryDecodeInnerHeader(plain, 0, rx)) return drop('malformed');
 */
export function tryDecodeInnerHeader(source: Uint8Array, offset: number, into: InnerHeader): boolean {
  const s = source;
  const o = offset;
  if (o < 0 || s.length - o < INNER_HEADER_BYTES || s[o]! > LINK_ID_MAX) return false;
  into.linkId = s[o]!;
  into.flags = s[o + 1]!;
  into.linkSeq = readU32(s, o + 4);
  into.dataSeq = readU32(s, o + 8);
  into.sendTimeMs = readU32(s, o + 12);
  into.echoTimeMs = readU32(s, o + 16);
  into.echoHoldMs = (s[o + 20]! << 8) | s[o + 21]!;
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
  if (left < INNER_HEADER_BYTES) throw malformed('inner header', `${left} bytes < ${INNER_HEADER_BYTES}`, { length: left });
  throw malformed('inner header', `link id ${source[offset]} > max ${LINK_ID_MAX}`, { linkId: source[offset] });
}

/**
 * The echo hold to send: ms between receiving the echoed timestamp and now, saturating at
 * 0xFFFE (0xFFFF means "nothing to echo").
 *
 * @example tx.echoHoldMs = echoHoldMs(now, link.lastReceivedAtMs);
 */
export function echoHoldMs(nowMs: number, receivedAtMs: number): number {
  const held = Math.floor(nowMs - receivedAtMs);
  return held <= 0 ? 0 : held >= ECHO_HOLD_NONE ? ECHO_HOLD_NONE - 1 : held;
}

/**
 * The RTT sample a received header gives (bonding.md §3): `now − echo − hold` mod 2^32, or -1
 * when it echoes nothing or the result is negative (a clock or echo gone wrong).
 *
 * @example const rtt = rttSampleMs(now >>> 0, rx); if (rtt >= 0) link.rtt.sample(rtt);
 */
export function rttSampleMs(nowMs32: number, h: InnerHeader): number {
  if (h.echoHoldMs === ECHO_HOLD_NONE) return -1;
  const rtt = (nowMs32 - h.echoTimeMs - h.echoHoldMs) | 0;
  return rtt < 0 ? -1 : rtt;
}

function writeU32(t: Uint8Array, o: number, v: number): void {
  t[o] = v >>> 24;
  t[o + 1] = (v >>> 16) & 0xff;
  t[o + 2] = (v >>> 8) & 0xff;
  t[o + 3] = v & 0xff;
}

function readU32(s: Uint8Array, o: number): number {
  return ((s[o]! << 24) | (s[o + 1]! << 16) | (s[o + 2]! << 8) | s[o + 3]!) >>> 0;
}
