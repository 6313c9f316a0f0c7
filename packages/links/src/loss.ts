/**
 * Per-link loss from per-link sequence numbers (u32, wrapping), at the receiver. Each link
 * numbers its own packets, so a gap on one link is loss on that link and not reordering across
 * links.
 *
 * The estimator extends the u32 numbers to a monotonic counter (by their signed distance from
 * the highest one seen, seqDiff32) and keeps one bit per number in the window of the last N:
 *
 *   extended seq:      first ...  top-N | top-N+1 ...  ...  top | (next fresh)
 *   window:                             |<------- N numbers ---->|
 *   ring bit of s:     (s mod N), 32 per Uint32 word; 1 = received
 *
 *   fresh     s > top:          numbers between top and s open a gap (missing); the window slides,
 *                               and numbers sliding out still missing are counted lost (final)
 *   late      in window, bit 0: fills a gap; counted received, never a loss
 *   duplicate in window, bit 1: counted, ignored
 *   old       s <= top - N, or before the first number seen: too late to tell; counted, ignored
 *   invalid   not a u32: counted, ignored (wire input never throws)
 *
 * lossRatio = missing / span over the window (span = numbers in the window since the first
 * packet, at most N). A slide of d numbers touches O(min(d, N) / 32) words; the usual d = 1 is
 * O(1). No allocation after construction. A jump of 2^31 or more reads as old (serial-number
 * arithmetic cannot tell the two apart).
 */
import { LOSS_WINDOW_DEFAULT, LOSS_WINDOW_MAX } from './constants.js';
import { LinksInvalidArgumentError } from './errors.js';

const TWO_32 = 4294967296;

/** What onReceive() made of one sequence number. */
export type LossOutcome = 'fresh' | 'late' | 'duplicate' | 'old' | 'invalid';

/** Options of createLossEstimator(). */
export interface LossEstimatorInit {
  /** Sequence numbers in the window: a multiple of 32 in 32..65536 (default 1024). */
  windowSize?: number;
}

/** Loss estimator of one link (receiver side). Fields are plain numbers. */
export interface LossEstimator {
  readonly windowSize: number;
  /** Missing / span over the last windowSize numbers; 0 before the first packet. */
  readonly lossRatio: number;
  /** Numbers in the window not (yet) received. */
  readonly missing: number;
  /** Numbers in the window since the first packet (<= windowSize). */
  readonly span: number;
  /** Distinct numbers received (fresh + late). */
  readonly received: number;
  /** Numbers that left the window without arriving: final losses. */
  readonly lost: number;
  /** Numbers from the first to the highest seen (RFC 3550's "expected"). */
  readonly expected: number;
  /** Arrivals below the highest number that filled a gap. */
  readonly late: number;
  /** Arrivals of a number already received. */
  readonly duplicates: number;
  /** Arrivals older than the window (or before the first number seen). */
  readonly old: number;
  /** Inputs that were not a u32. */
  readonly invalid: number;
  /** Highest sequence number seen (u32), -1 before the first packet. */
  readonly highest: number;
  /** Record one received sequence number. Never throws. */
  onReceive(seq: number): LossOutcome;
  /** Forget everything (the peer restarted its numbering). */
  reset(): void;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

class BitmapLossEstimator implements LossEstimator {
  readonly windowSize: number;
  received = 0;
  lost = 0;
  late = 0;
  duplicates = 0;
  old = 0;
  invalid = 0;
  private readonly ring: Uint32Array;
  /** Extended numbers (first packet at 2^32 + seq so earlier ones stay positive); -1 = none. */
  private first = -1;
  private top = -1;
  private topU32 = 0;
  private windowReceived = 0;

  constructor(windowSize: number) {
    this.windowSize = windowSize;
    this.ring = new Uint32Array(windowSize / 32);
  }

  get highest(): number {
    return this.top < 0 ? -1 : this.topU32;
  }

  get span(): number {
    if (this.top < 0) return 0;
    const s = this.top - this.first + 1;
    return s < this.windowSize ? s : this.windowSize;
  }

  get missing(): number {
    return this.span - this.windowReceived;
  }

  get lossRatio(): number {
    const span = this.span;
    return span === 0 ? 0 : (span - this.windowReceived) / span;
  }

  get expected(): number {
    return this.top < 0 ? 0 : this.top - this.first + 1;
  }

  onReceive(seq: number): LossOutcome {
    if (seq >>> 0 !== seq) {
      this.invalid++;
      return 'invalid';
    }
    if (this.top < 0) {
      const t = TWO_32 + seq;
      this.first = t;
      this.top = t;
      this.topU32 = seq;
      this.ring.fill(0);
      this.setBit(t);
      this.windowReceived = 1;
      this.received++;
      return 'fresh';
    }
    const diff = (seq - this.topU32) | 0;
    const s = this.top + diff;
    if (diff > 0) {
      this.advance(s);
      this.topU32 = seq;
      this.received++;
      return 'fresh';
    }
    if (s <= this.top - this.windowSize || s < this.first) {
      this.old++;
      return 'old';
    }
    const idx = s % this.windowSize;
    const w = idx >>> 5;
    const bit = 1 << (idx & 31);
    const word = this.ring[w]!;
    if ((word & bit) !== 0) {
      this.duplicates++;
      return 'duplicate';
    }
    this.ring[w] = word | bit;
    this.windowReceived++;
    this.received++;
    this.late++;
    return 'late';
  }

  /** Slide the window so that `t` (> top) is the new top, and mark t received. */
  private advance(t: number): void {
    const n = this.windowSize;
    const oldTop = this.top;
    // 1. numbers leaving the window: (oldTop - n, t - n] within [first, oldTop]
    const leaveFrom = Math.max(oldTop - n + 1, this.first);
    const leaveTo = Math.min(t - n, oldTop);
    if (leaveTo >= leaveFrom) {
      const got = this.bits(leaveFrom, leaveTo, false);
      this.windowReceived -= got;
      this.lost += leaveTo - leaveFrom + 1 - got;
    }
    // 2. numbers skipped past the window entirely: (oldTop, t - n]
    if (t - n > oldTop) this.lost += t - n - oldTop;
    // 3. clear the bits of the new numbers (oldTop, t] that are inside the new window
    this.bits(Math.max(oldTop + 1, t - n + 1), t, true);
    this.setBit(t);
    this.windowReceived++;
    this.top = t;
  }

  private setBit(s: number): void {
    const idx = s % this.windowSize;
    this.ring[idx >>> 5]! |= 1 << (idx & 31);
  }

  /** Count (clear = false) or clear (clear = true) the bits of numbers a..b (b - a < n). */
  private bits(a: number, b: number, clear: boolean): number {
    const n = this.windowSize;
    const ring = this.ring;
    let count = 0;
    let s = a;
    while (s <= b) {
      const idx = s % n;
      const lo = idx & 31;
      const room = 32 - lo;
      const left = b - s + 1;
      const len = left < room ? left : room;
      const mask = len === 32 ? 0xffffffff : ((1 << len) - 1) << lo;
      const w = idx >>> 5;
      if (clear) ring[w]! &= ~mask;
      else count += popcount32(ring[w]! & mask);
      s += len;
    }
    return count;
  }

  reset(): void {
    this.received = 0;
    this.lost = 0;
    this.late = 0;
    this.duplicates = 0;
    this.old = 0;
    this.invalid = 0;
    this.first = -1;
    this.top = -1;
    this.topU32 = 0;
    this.windowReceived = 0;
    this.ring.fill(0);
  }
}

/**
 * Create a per-link loss estimator over the last `windowSize` sequence numbers.
 *
 * @example
 * const loss = createLossEstimator({ windowSize: 1024 });
 * switch (loss.onReceive(header.linkSeq)) {
 *   case 'duplicate': case 'old': case 'invalid': return drop();
 * }
 * metrics.lossRatio.set(loss.lossRatio); // missing / span in the last 1024 numbers
 */
export function createLossEstimator(init: LossEstimatorInit = {}): LossEstimator {
  const size = init.windowSize ?? LOSS_WINDOW_DEFAULT;
  if (!Number.isInteger(size) || size < 32 || size > LOSS_WINDOW_MAX || size % 32 !== 0) {
    throw new LinksInvalidArgumentError('windowSize', size, `a multiple of 32 in 32..${LOSS_WINDOW_MAX}`);
  }
  return new BitmapLossEstimator(size);
}
