/**
 * Windowed min / max of a stream of samples over the last `windowMs`, in bounded memory: the
 * window is cut into `buckets` aligned slots of windowMs/buckets; each slot keeps the best
 * sample of its time slice. Used for the baseline (minimum) RTT and the windowed-max delivery
 * rate.
 *
 *   time ->   | e-9 | e-8 | ... | e-1 |  e  |     e = floor(now / bucketMs)
 *   ring:     [ s1  ][ s2 ] ... [ s9  ][ s0  ]    slot = e mod buckets, tagged with its epoch
 *             |<------------ window ---------->|
 *
 * A slot counts while its epoch is in (e - buckets, e], so a sample stays in the window for
 * between (buckets - 1) and buckets slot lengths. The best value is cached and rebuilt (an
 * O(buckets) scan) only when the clock enters a new slot, so update() and value() are O(1)
 * amortised and allocation-free. The clock is assumed monotonic; if it steps back, the filter
 * keeps using the latest slot it saw.
 */
import { WINDOWED_FILTER_BUCKETS } from './constants.js';
import { LinksInvalidArgumentError } from './errors.js';
import { integerIn, positive } from './validate.js';

/** Options of createWindowedFilter(). */
export interface WindowedFilterInit {
  /** 'min' (baseline RTT) or 'max' (delivery rate). */
  kind: 'min' | 'max';
  /** Window length in ms. */
  windowMs: number;
  /** Slots in the window, 1..256 (default WINDOWED_FILTER_BUCKETS = 10). */
  buckets?: number;
}

/** Windowed min or max over the last windowMs. */
export interface WindowedFilter {
  readonly kind: 'min' | 'max';
  readonly windowMs: number;
  readonly buckets: number;
  /** Add a sample taken at `nowMs`. Non-finite samples are ignored. */
  update(value: number, nowMs: number): void;
  /** Best sample in the window ending at `nowMs`, or NaN when the window holds none. */
  value(nowMs: number): number;
  /** Forget every sample. */
  reset(): void;
}

class BucketedWindowedFilter implements WindowedFilter {
  readonly kind: 'min' | 'max';
  readonly windowMs: number;
  readonly buckets: number;
  private readonly isMin: boolean;
  private readonly bucketMs: number;
  private readonly epochs: Float64Array;
  private readonly values: Float64Array;
  private lastEpoch = -Infinity;
  private best = NaN;
  private bestEpoch = -Infinity;

  constructor(kind: 'min' | 'max', windowMs: number, buckets: number) {
    this.kind = kind;
    this.isMin = kind === 'min';
    this.windowMs = windowMs;
    this.buckets = buckets;
    this.bucketMs = windowMs / buckets;
    this.epochs = new Float64Array(buckets).fill(-Infinity);
    this.values = new Float64Array(buckets);
  }

  private epoch(nowMs: number): number {
    const e = Math.floor(nowMs / this.bucketMs);
    if (e > this.lastEpoch) this.lastEpoch = e;
    return this.lastEpoch;
  }

  update(value: number, nowMs: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(nowMs)) return;
    const e = this.epoch(nowMs);
    const n = this.buckets;
    const slot = ((e % n) + n) % n;
    if (this.epochs[slot] !== e) {
      this.epochs[slot] = e;
      this.values[slot] = value;
    } else {
      const old = this.values[slot]!;
      if (this.isMin ? value < old : value > old) this.values[slot] = value;
    }
    if (e !== this.bestEpoch) this.rebuild(e);
    else if (Number.isNaN(this.best) || (this.isMin ? value < this.best : value > this.best)) this.best = value;
  }

  value(nowMs: number): number {
    if (!Number.isFinite(nowMs)) return this.best;
    const e = this.epoch(nowMs);
    if (e !== this.bestEpoch) this.rebuild(e);
    return this.best;
  }

  private rebuild(e: number): void {
    const oldest = e - this.buckets;
    let best = NaN;
    for (let i = 0; i < this.buckets; i++) {
      if (this.epochs[i]! <= oldest) continue;
      const v = this.values[i]!;
      if (Number.isNaN(best) || (this.isMin ? v < best : v > best)) best = v;
    }
    this.best = best;
    this.bestEpoch = e;
  }

  reset(): void {
    this.epochs.fill(-Infinity);
    this.lastEpoch = -Infinity;
    this.best = NaN;
    this.bestEpoch = -Infinity;
  }
}

/**
 * Create a windowed min or max filter.
 *
 * @example
 * const maxRate = createWindowedFilter({ kind: 'max', windowMs: 2000 });
 * maxRate.update(bytesPerSec, now);
 * const best = maxRate.value(now); // NaN when nothing in the last 2 s
 */
export function createWindowedFilter(init: WindowedFilterInit): WindowedFilter {
  const kind = init.kind;
  if (kind !== 'min' && kind !== 'max') throw new LinksInvalidArgumentError('kind', kind, "'min' or 'max'");
  const windowMs = positive('windowMs', init.windowMs, NaN);
  const buckets = integerIn('buckets', init.buckets, WINDOWED_FILTER_BUCKETS, 1, 256);
  return new BucketedWindowedFilter(kind, windowMs, buckets);
}
