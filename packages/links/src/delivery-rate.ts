/**
 * Delivery rate (bytes/s) of one link: bytes acknowledged or received are summed per aligned
 * interval (default 100 ms); each interval that carried bytes becomes one sample, bytes ·
 * 1000 / intervalMs, which feeds
 *   - an EWMA (gain 1/4 per interval): `rateBytesPerSec`, what the aggregate scheduler weighs;
 *   - a windowed max over the last maxWindowMs (default 2 s): `maxRateBytesPerSec`, the best the
 *     link has shown lately.
 *
 *   time ->  |  i-2  |  i-1  |   i   |          interval index i = floor(now / intervalMs)
 *   bytes:   | 41 kB |   0   | 12 kB.|..        the current interval is open; i-1 was idle
 *   samples: 410 kB/s  (none)  (when i closes)
 *
 * An idle interval (no bytes) is not a sample: it says the link had nothing to carry, not that
 * it could carry nothing (a down link is the state machine's business). The clock is injected
 * (`components.now`, default performance.now) so tests run on fake time; the hot call
 * `onDelivered(bytes, nowMs)` takes the time when the caller already has it. Memory is bounded
 * (the windowed filter's slots); no allocation per call.
 */
import { DELIVERY_RATE_GAIN, DELIVERY_RATE_INTERVAL_MS, DELIVERY_RATE_MAX_WINDOW_MS, WINDOWED_FILTER_BUCKETS } from './constants.js';
import { numberIn, positive } from './validate.js';
import { createWindowedFilter, type WindowedFilter } from './windowed-filter.js';

/** Options of createDeliveryRateEstimator(); defaults in constants.ts. */
export interface DeliveryRateInit {
  /** Interval length in ms (default DELIVERY_RATE_INTERVAL_MS = 100). */
  intervalMs?: number;
  /** EWMA gain per non-idle interval, in (0, 1] (default DELIVERY_RATE_GAIN = 1/4). */
  gain?: number;
  /** Window of the windowed max in ms (default DELIVERY_RATE_MAX_WINDOW_MS = 2000). */
  maxWindowMs?: number;
  /** Slots of the windowed max (default 10). */
  maxBuckets?: number;
}

/** Dependencies of createDeliveryRateEstimator(). */
export interface DeliveryRateComponents {
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/** Delivery-rate estimator of one link. Fields are plain numbers. */
export interface DeliveryRateEstimator {
  /** EWMA of per-interval rates in bytes/s; 0 before the first interval closed. */
  readonly rateBytesPerSec: number;
  /** Windowed max of per-interval rates in bytes/s, as of the last closed interval; 0 if none. */
  readonly maxRateBytesPerSec: number;
  /** Rate of the last closed non-idle interval in bytes/s. */
  readonly lastIntervalBytesPerSec: number;
  /** Total bytes delivered. */
  readonly deliveredBytes: number;
  /** Non-idle intervals closed so far (samples). */
  readonly sampleCount: number;
  /** Record `bytes` delivered (acknowledged or received) at `nowMs` (default components.now()). */
  onDelivered(bytes: number, nowMs?: number): void;
  /** Close the current interval if `nowMs` is past it, so the fields are current (cold path). */
  tick(nowMs?: number): void;
  /** Forget everything. */
  reset(): void;
}

class IntervalDeliveryRate implements DeliveryRateEstimator {
  rateBytesPerSec = 0;
  maxRateBytesPerSec = 0;
  lastIntervalBytesPerSec = 0;
  deliveredBytes = 0;
  sampleCount = 0;
  private readonly intervalMs: number;
  private readonly gain: number;
  private readonly maxFilter: WindowedFilter;
  private readonly now: () => number;
  private index = -Infinity;
  private bytes = 0;

  constructor(intervalMs: number, gain: number, maxFilter: WindowedFilter, now: () => number) {
    this.intervalMs = intervalMs;
    this.gain = gain;
    this.maxFilter = maxFilter;
    this.now = now;
  }

  onDelivered(bytes: number, nowMs?: number): void {
    if (!(bytes > 0 && bytes < Number.MAX_SAFE_INTEGER)) return;
    this.roll(nowMs ?? this.now());
    this.bytes += bytes;
    this.deliveredBytes += bytes;
  }

  tick(nowMs?: number): void {
    this.roll(nowMs ?? this.now());
  }

  /** Move to the interval of `nowMs`, closing the current one if it is over. */
  private roll(nowMs: number): void {
    const i = Math.floor(nowMs / this.intervalMs);
    if (!(i > this.index)) return; // same interval, clock stepped back, or NaN
    if (this.bytes > 0) {
      const sample = (this.bytes * 1000) / this.intervalMs;
      this.rateBytesPerSec = this.sampleCount === 0 ? sample : this.rateBytesPerSec + (sample - this.rateBytesPerSec) * this.gain;
      this.lastIntervalBytesPerSec = sample;
      this.sampleCount++;
      this.maxFilter.update(sample, (this.index + 1) * this.intervalMs);
    }
    const max = this.maxFilter.value(nowMs);
    this.maxRateBytesPerSec = max === max ? max : 0;
    this.index = i;
    this.bytes = 0;
  }

  reset(): void {
    this.rateBytesPerSec = 0;
    this.maxRateBytesPerSec = 0;
    this.lastIntervalBytesPerSec = 0;
    this.deliveredBytes = 0;
    this.sampleCount = 0;
    this.index = -Infinity;
    this.bytes = 0;
    this.maxFilter.reset();
  }
}

/**
 * Create a delivery-rate estimator.
 *
 * @example
 * const rate = createDeliveryRateEstimator({ intervalMs: 100 });
 * rate.onDelivered(ack.bytes, now);           // per acknowledged (or received) batch
 * scheduler weight ∝ rate.rateBytesPerSec;    // EWMA, bytes/s
 *
 * // tests: fake time
 * let t = 0;
 * const fake = createDeliveryRateEstimator({}, { now: () => t });
 */
export function createDeliveryRateEstimator(init: DeliveryRateInit = {}, components: DeliveryRateComponents = {}): DeliveryRateEstimator {
  const intervalMs = positive('intervalMs', init.intervalMs, DELIVERY_RATE_INTERVAL_MS);
  const gain = numberIn('gain', init.gain, DELIVERY_RATE_GAIN, Number.MIN_VALUE, 1);
  const maxFilter = createWindowedFilter({
    kind: 'max',
    windowMs: init.maxWindowMs ?? DELIVERY_RATE_MAX_WINDOW_MS,
    buckets: init.maxBuckets ?? WINDOWED_FILTER_BUCKETS,
  });
  const now = components.now ?? (() => performance.now());
  return new IntervalDeliveryRate(intervalMs, gain, maxFilter, now);
}
