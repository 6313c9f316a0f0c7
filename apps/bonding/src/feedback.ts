/**
 * FEEDBACK payloads (bonding.md §5): the receiver's cumulative per-link counters, sent every
 * 100 ms on each usable link. All fields big-endian:
 *
 *   0       1
 *   +-------+---- count × 18 bytes ---------------------------------------------------+
 *   | count | link id u8 | reserved u8 | received u32 | lost u32 | bytes u64          |
 *   +-------+-----------------------------------------------------------------------------+
 *
 * Strict: the payload is exactly 1 + 18·count bytes, count ≤ 16, link ids ≤ 15 and distinct,
 * bytes ≤ 2^53 − 1 (a plain number). Decoding fills a reused report; no allocation.
 */
import { FEEDBACK_ENTRY_BYTES, FEEDBACK_MAX_ENTRIES, LINK_ID_MAX } from './constants.js';
import { invalidArgument, malformed } from './errors.js';

const TWO_32 = 0x1_0000_0000;
/** bytes' high word below this keeps hi·2^32 + lo a safe integer. */
const SAFE_HI_LIMIT = 0x20_0000;

/** One link's cumulative receive counters as the reporting side saw them. */
export interface FeedbackEntry {
  /** 0..15, the client's link numbering. */
  linkId: number;
  /** Datagrams received on the link, mod 2^32. */
  received: number;
  /** Datagrams missing from the link's sequence, mod 2^32. */
  lost: number;
  /** Bytes received on the link (a safe integer). */
  bytes: number;
}

/** A FEEDBACK payload: `count` valid entries at the front of a fixed array of 16. */
export interface FeedbackReport {
  count: number;
  readonly entries: readonly FeedbackEntry[];
}

class FeedbackEntryImpl implements FeedbackEntry {
  linkId = 0;
  received = 0;
  lost = 0;
  bytes = 0;
}

/**
 * A reusable report with 16 preallocated entries and count 0.
 *
 * @example
 * const report = createFeedbackReport();
 * Object.assign(report.entries[0]!, { linkId: 0, received: 1000, lost: 3, bytes: 1_400_000 });
 * report.count = 1;
 */
export function createFeedbackReport(): FeedbackReport {
  const entries: FeedbackEntry[] = [];
  for (let i = 0; i < FEEDBACK_MAX_ENTRIES; i++) entries.push(new FeedbackEntryImpl());
  return { count: 0, entries };
}

/**
 * Bytes of a FEEDBACK payload with `count` entries: 1 + 18·count.
 *
 * @example const n = feedbackLength(3); // 55
 */
export function feedbackLength(count: number): number {
  return 1 + count * FEEDBACK_ENTRY_BYTES;
}

/**
 * Write `report` into `target` at `offset`; returns the offset after it. Throws
 * BONDING_INVALID_ARGUMENT for a count or field out of range, duplicate link ids or no room.
 *
 * @example const end = encodeFeedback(report, plaintext, INNER_HEADER_BYTES);
 */
export function encodeFeedback(report: FeedbackReport, target: Uint8Array, offset = 0): number {
  const count = report.count;
  if (!Number.isInteger(count) || count < 0 || count > FEEDBACK_MAX_ENTRIES) {
    throw invalidArgument('feedback count', count, `an integer in 0..${FEEDBACK_MAX_ENTRIES}`);
  }
  const n = feedbackLength(count);
  if (!Number.isInteger(offset) || offset < 0 || offset + n > target.length) {
    throw invalidArgument('feedback target', `length ${target.length} at offset ${offset}`, `room for ${n} bytes`);
  }
  let seen = 0;
  for (let i = 0; i < count; i++) {
    const e = report.entries[i]!;
    if (!Number.isInteger(e.linkId) || e.linkId < 0 || e.linkId > LINK_ID_MAX) throw invalidArgument(`feedback entry ${i} linkId`, e.linkId, `an integer in 0..${LINK_ID_MAX}`);
    if ((seen & (1 << e.linkId)) !== 0) throw invalidArgument(`feedback entry ${i} linkId`, e.linkId, 'distinct from the other entries');
    seen |= 1 << e.linkId;
    if (e.received >>> 0 !== e.received) throw invalidArgument(`feedback entry ${i} received`, e.received, 'a u32');
    if (e.lost >>> 0 !== e.lost) throw invalidArgument(`feedback entry ${i} lost`, e.lost, 'a u32');
    if (!Number.isSafeInteger(e.bytes) || e.bytes < 0) throw invalidArgument(`feedback entry ${i} bytes`, e.bytes, 'an integer in 0..2^53-1');
  }
  const t = target;
  t[offset] = count;
  let o = offset + 1;
  for (let i = 0; i < count; i++) {
    const e = report.entries[i]!;
    t[o] = e.linkId;
    t[o + 1] = 0;
    writeU32(t, o + 2, e.received);
    writeU32(t, o + 6, e.lost);
    const lo = e.bytes % TWO_32;
    writeU32(t, o + 10, (e.bytes - lo) / TWO_32);
    writeU32(t, o + 14, lo);
    o += FEEDBACK_ENTRY_BYTES;
  }
  return o;
}

// -- decoding: classify() finds the problem without allocating; the throwing form names it

const OK = 0;
const R_EMPTY = 1;
const R_COUNT = 2;
const R_LENGTH = 3;
const R_LINK_ID = 4;
const R_DUPLICATE = 5;
const R_BYTES = 6;

/** Returns OK, or a reason; `at` receives the entry index of an entry-level problem. */
function classify(p: Uint8Array, at: { index: number }): number {
  if (p.length < 1) return R_EMPTY;
  const count = p[0]!;
  if (count > FEEDBACK_MAX_ENTRIES) return R_COUNT;
  if (p.length !== 1 + count * FEEDBACK_ENTRY_BYTES) return R_LENGTH;
  let seen = 0;
  for (let i = 0, o = 1; i < count; i++, o += FEEDBACK_ENTRY_BYTES) {
    const id = p[o]!;
    at.index = i;
    if (id > LINK_ID_MAX) return R_LINK_ID;
    if ((seen & (1 << id)) !== 0) return R_DUPLICATE;
    seen |= 1 << id;
    if (readU32(p, o + 10) >= SAFE_HI_LIMIT) return R_BYTES;
  }
  return OK;
}

const scratchAt = { index: 0 };

function fill(p: Uint8Array, into: FeedbackReport): void {
  const count = p[0]!;
  const entries = into.entries;
  for (let i = 0, o = 1; i < count; i++, o += FEEDBACK_ENTRY_BYTES) {
    const e = entries[i]!;
    e.linkId = p[o]!;
    e.received = readU32(p, o + 2);
    e.lost = readU32(p, o + 6);
    e.bytes = readU32(p, o + 10) * TWO_32 + readU32(p, o + 14);
  }
  into.count = count;
}

/**
 * Decode a whole FEEDBACK payload into `into` (from createFeedbackReport()). Returns false,
 * leaving `into` unchanged, on any violation of the strict layout: never throws on wire input.
 *
 * @example if (!tryDecodeFeedback(opened.payload, report)) return drop('malformed');
 */
export function tryDecodeFeedback(payload: Uint8Array, into: FeedbackReport): boolean {
  if (classify(payload, scratchAt) !== OK) return false;
  fill(payload, into);
  return true;
}

/**
 * Like tryDecodeFeedback but throws BONDING_MALFORMED naming the problem; returns `into`
 * (default: a new report).
 *
 * @example const report = decodeFeedback(payload);
 */
export function decodeFeedback(payload: Uint8Array, into: FeedbackReport = createFeedbackReport()): FeedbackReport {
  const at = { index: 0 };
  const reason = classify(payload, at);
  if (reason === OK) {
    fill(payload, into);
    return into;
  }
  const p = payload;
  const count = p[0] ?? 0;
  const o = 1 + at.index * FEEDBACK_ENTRY_BYTES;
  switch (reason) {
    case R_EMPTY:
      throw malformed('feedback', 'empty payload: no count byte', { length: 0 });
    case R_COUNT:
      throw malformed('feedback', `count ${count} > max ${FEEDBACK_MAX_ENTRIES}`, { count });
    case R_LENGTH:
      throw malformed('feedback', `length ${p.length} != 1 + ${FEEDBACK_ENTRY_BYTES}·${count} = ${1 + count * FEEDBACK_ENTRY_BYTES}`, { length: p.length, count });
    case R_LINK_ID:
      throw malformed('feedback', `entry ${at.index} link id ${p[o]} > max ${LINK_ID_MAX}`, { index: at.index, linkId: p[o] });
    case R_DUPLICATE:
      throw malformed('feedback', `entry ${at.index} repeats link id ${p[o]}`, { index: at.index, linkId: p[o] });
    default:
      throw malformed('feedback', `entry ${at.index} bytes high word ${readU32(p, o + 10)} makes it > 2^53-1`, { index: at.index });
  }
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
