/**
 * Serial-number arithmetic on 32-bit wrapping counters (RFC 1982 style), for per-link sequence
 * numbers and 32-bit millisecond timestamps on the wire.
 */

/**
 * Signed distance `a - b` between two u32 counters, in -2^31 .. 2^31 - 1: positive when `a` is
 * after `b` modulo 2^32. Plain arithmetic, no allocation.
 *
 * @example
 * seqDiff32(3, 0xffff_fffe);       // 5: 3 comes 5 after 0xfffffffe across the wrap
 * seqDiff32(0xffff_fffe, 3);       // -5
 * const elapsedMs = seqDiff32(nowMs32, header.sentMs32); // 32-bit ms timestamps
 */
export function seqDiff32(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * True when `value` is an integer in 0 .. 2^32 - 1.
 *
 * @example
 * if (!isU32(seq)) return dropInvalid();
 */
export function isU32(value: number): boolean {
  return value >>> 0 === value;
}
