/**
 * Per-link loss from per-link sequence numbers (u32, wrapping), at the receiver. Each link
 * numbers its own packets, so a gap on one link is loss on that link and not reordering across
 * links.
 *
 * The estimator works on the signed distance of each number from the highest one seen (serial
 * arithmetic, seqDiff32) and keeps one bit per number in the window of the last N:
 *
 *   numbers:        first ...  top-N | top-N+1 ...  ...  top | (next fresh)
 *   window:                          |<------- N numbers ---->|
 *   ring:           N bits, 32 per Uint32 word, top at topPos, top-k at topPos-k (mod N);
 *                   1 = received. Only the span since the first packet (<= N) counts.
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
 * O(1). No allocation after construction, and the private helpers take ring positions and
 * offsets (small integers), never 2^32-sized counters that V8 would box. A jump of 2^31 or
 * more reads as old (serial-number arithmetic cannot tell the two apart).
 */
import { LOSS_WINDOW_DEFAULT, LOSS_WINDOW_MAX } from './constants.js';
import { LinksInvalidArgumentError } from './errors.js';

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
  expected = 0;
  /** Numbers in the window since the first packet: (top - span, top]; 0 = nothing yet. */
  span = 0;
  private readonly ring: Uint32Array;
  private topU32 = 0;
  /** Ring position of top: top mod N, kept incrementally so helpers take small integers. */
  private topPos = 0;
  private windowReceived = 0;

  constructor(windowSize: number) {
    this.windowSize = windowSize;
    this.ring = new Uint32Array(windowSize / 32);
  }

  get highest(): number {
    return this.span === 0 ? -1 : this.topU32;
  }

  get missing(): number {
    return this.span - this.windowReceived;
  }

  get lossRatio(): number {
    const span = this.span;
    return span === 0 ? 0 : (span - this.windowReceived) / span;
  }

  onReceive(seq: number): LossOutcome {
    if (seq >>> 0 !== seq) {
      this.invalid++;
      return 'invalid';
    }
    if (this.span === 0) {
      this.topU32 = seq;
      this.topPos = 0;
      this.ring.fill(0);
      this.ring[0] = 1;
      this.span = 1;
      this.expected = 1;
      this.windowReceived = 1;
      this.received++;
      return 'fresh';
    }
    const diff = (seq - this.topU32) | 0; // signed serial distance from top
    if (diff > 0) {
      this.advance(diff);
      this.topU32 = seq;
      this.received++;
      return 'fresh';
    }
    // diff <= 0: inside the window since the first packet iff -diff < span
    if (-diff >= this.span) {
      this.old++;
      return 'old';
    }
    const n = this.windowSize;
    const pos = (this.topPos + diff + n) % n;
    const w = pos >>> 5;
    const bit = 1 << (pos & 31);
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

  /**
   * Slide the window forward by d (> 0) numbers and mark the new top received. Offsets are
   * relative to the old top, so every argument below is a small integer (no boxed doubles).
   */
  private advance(d: number): void {
    const n = this.windowSize;
    const span = this.span;
    // 1. old-window numbers at offsets (-span, min(0, d - n)] leave the window
    const leaving = (d - n < 0 ? d - n : 0) + span;
    if (leaving > 0) {
      const got = this.bits((this.topPos - span + 1 + n) % n, leaving, false);
      this.windowReceived -= got;
      this.lost += leaving - got;
    }
    // 2. numbers at offsets 1..d-n never entered the window
    if (d > n) this.lost += d - n;
    // 3. clear the new numbers inside the new window: offsets max(1, d-n+1)..d
    const fresh = d < n ? d : n;
    this.bits((this.topPos + (d - fresh + 1)) % n, fresh, true);
    const top = (this.topPos + d) % n;
    this.ring[top >>> 5]! |= 1 << (top & 31);
    this.topPos = top;
    this.windowReceived++;
    this.span = span + d < n ? span + d : n;
    this.expected += d;
  }

  /** Count (clear = false) or clear (clear = true) `len` (<= n) bits from ring position `pos`. */
  private bits(pos: number, len: number, clear: boolean): number {
    const n = this.windowSize;
    const ring = this.ring;
    let count = 0;
    let p = pos;
    let left = len;
    while (left > 0) {
      const lo = p & 31;
      const room = 32 - lo;
      const take = left < room ? left : room;
      const mask = take === 32 ? 0xffffffff : ((1 << take) - 1) << lo;
      const w = p >>> 5;
      if (clear) ring[w]! &= ~mask;
      else count += popcount32(ring[w]! & mask);
      left -= take;
      p += take;
      if (p === n) p = 0;
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
    this.expected = 0;
    this.span = 0;
    this.topU32 = 0;
    this.topPos = 0;
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
