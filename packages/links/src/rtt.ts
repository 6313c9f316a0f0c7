/**
 * Per-link round-trip time: SRTT, RTTVAR and RTO per RFC 6298 §2, plus the link's baseline
 * (minimum RTT over a window). Samples come from echoed timestamps on data and probes
 * (`onEcho`), which are unambiguous, so Karn's rule (RFC 6298 §3) is not needed.
 *
 *   first sample R (§2.2):   SRTT = R          RTTVAR = R / 2
 *   later samples R' (§2.3): RTTVAR = (1 - β) RTTVAR + β |SRTT - R'|   (with the old SRTT)
 *                            SRTT   = (1 - α) SRTT   + α R'
 *   always:                  RTO = clamp(SRTT + max(G, K · RTTVAR), minRto, maxRto)   (§2.4, §2.5)
 *   timer expiry (§5.5):     RTO = min(2 · RTO, maxRto) until the next sample
 *
 * α = 1/8, β = 1/4, K = 4. Every call is plain arithmetic on numbers: no allocation.
 */
import {
  MIN_RTT_WINDOW_MS,
  RTO_INITIAL_MS,
  RTO_MAX_MS,
  RTO_MIN_MS,
  RTT_ALPHA,
  RTT_BETA,
  RTT_CLOCK_GRANULARITY_MS,
  RTT_K,
  RTT_MAX_SAMPLE_MS,
  WINDOWED_FILTER_BUCKETS,
} from './constants.js';
import { LinksInvalidArgumentError } from './errors.js';
import { numberIn, positive } from './validate.js';
import { createWindowedFilter, type WindowedFilter } from './windowed-filter.js';

/** Options of createRttEstimator(); defaults in constants.ts. */
export interface RttEstimatorInit {
  /** RTO before the first sample (default RTO_INITIAL_MS = 1000). */
  initialRtoMs?: number;
  /** Lower RTO clamp (default RTO_MIN_MS = 200; RFC 6298 says 1000). */
  minRtoMs?: number;
  /** Upper RTO clamp (default RTO_MAX_MS = 60000). */
  maxRtoMs?: number;
  /** Clock granularity G (default 1 ms). */
  clockGranularityMs?: number;
  /** Samples above this are rejected (default RTT_MAX_SAMPLE_MS = 60000). */
  maxSampleMs?: number;
  /** Window of the minimum RTT (default MIN_RTT_WINDOW_MS = 10000). */
  minRttWindowMs?: number;
  /** Slots of the min-RTT window (default 10). */
  minRttBuckets?: number;
}

/** RFC 6298 estimator for one link. Read fields freely; they are plain numbers. */
export interface RttEstimator {
  /** Smoothed RTT in ms; 0 before the first sample (check sampleCount). */
  readonly srttMs: number;
  /** RTT variation in ms; 0 before the first sample. */
  readonly rttVarMs: number;
  /** Retransmission / probe timeout in ms, clamped to [minRto, maxRto]. */
  readonly rtoMs: number;
  /** The latest accepted sample in ms; 0 before the first. */
  readonly latestRttMs: number;
  /**
   * Minimum RTT over the window ending at the latest sample: the link's baseline. 0 before the
   * first sample; keeps its last value if the window empties.
   */
  readonly minRttMs: number;
  /** Samples accepted so far. */
  readonly sampleCount: number;
  /** Samples rejected (negative, non-finite, above maxSampleMs). */
  readonly rejectedCount: number;
  /**
   * Feed one RTT sample measured at `nowMs`. Returns false (and counts it) for a sample that is
   * negative, not finite or above maxSampleMs.
   */
  addSample(rttMs: number, nowMs: number): boolean;
  /**
   * Feed the RTT from an echoed timestamp: `nowMs - echoedMs - holdMs`, where `echoedMs` is our
   * own send time the peer echoed back and `holdMs` how long the peer held it before replying.
   */
  onEcho(echoedMs: number, nowMs: number, holdMs?: number): boolean;
  /** RFC 6298 §5.5: the timer expired; double the RTO (up to maxRto) and return it. */
  backoff(): number;
  /** Forget all samples (the link was re-created or its path changed). */
  reset(): void;
}

class Rfc6298Estimator implements RttEstimator {
  srttMs = 0;
  rttVarMs = 0;
  rtoMs = 0; // a number from the start: V8 keeps double fields unboxed only if never undefined
  latestRttMs = 0;
  minRttMs = 0;
  sampleCount = 0;
  rejectedCount = 0;
  private readonly initialRtoMs: number;
  private readonly minRtoMs: number;
  private readonly maxRtoMs: number;
  private readonly granularityMs: number;
  private readonly maxSampleMs: number;
  private readonly minFilter: WindowedFilter;

  constructor(initialRtoMs: number, minRtoMs: number, maxRtoMs: number, granularityMs: number, maxSampleMs: number, minFilter: WindowedFilter) {
    this.initialRtoMs = initialRtoMs;
    this.minRtoMs = minRtoMs;
    this.maxRtoMs = maxRtoMs;
    this.granularityMs = granularityMs;
    this.maxSampleMs = maxSampleMs;
    this.minFilter = minFilter;
    this.rtoMs = this.clampRto(initialRtoMs);
  }

  private clampRto(rto: number): number {
    return rto < this.minRtoMs ? this.minRtoMs : rto > this.maxRtoMs ? this.maxRtoMs : rto;
  }

  addSample(rttMs: number, nowMs: number): boolean {
    // common valid case first: a finite sample in [0, maxSample]
    if (!(rttMs >= 0 && rttMs <= this.maxSampleMs)) {
      this.rejectedCount++;
      return false;
    }
    if (this.sampleCount === 0) {
      this.srttMs = rttMs;
      this.rttVarMs = rttMs / 2;
    } else {
      const err = this.srttMs - rttMs;
      this.rttVarMs = (1 - RTT_BETA) * this.rttVarMs + RTT_BETA * (err < 0 ? -err : err);
      this.srttMs = (1 - RTT_ALPHA) * this.srttMs + RTT_ALPHA * rttMs;
    }
    const k = RTT_K * this.rttVarMs;
    this.rtoMs = this.clampRto(this.srttMs + (k > this.granularityMs ? k : this.granularityMs));
    this.latestRttMs = rttMs;
    this.sampleCount++;
    this.minFilter.update(rttMs, nowMs);
    const min = this.minFilter.value(nowMs);
    if (min === min) this.minRttMs = min; // not NaN
    return true;
  }

  onEcho(echoedMs: number, nowMs: number, holdMs = 0): boolean {
    return this.addSample(nowMs - echoedMs - holdMs, nowMs);
  }

  backoff(): number {
    const next = this.rtoMs * 2;
    this.rtoMs = next > this.maxRtoMs ? this.maxRtoMs : next;
    return this.rtoMs;
  }

  reset(): void {
    this.srttMs = 0;
    this.rttVarMs = 0;
    this.latestRttMs = 0;
    this.minRttMs = 0;
    this.sampleCount = 0;
    this.rejectedCount = 0;
    this.rtoMs = this.clampRto(this.initialRtoMs);
    this.minFilter.reset();
  }
}

/**
 * Create an RFC 6298 RTT estimator with a windowed minimum RTT.
 *
 * @example
 * const rtt = createRttEstimator();
 * // a packet from the peer echoes the timestamp we sent, held 2 ms on its side
 * rtt.onEcho(header.echoMs, performance.now(), header.holdMs);
 * if (rtt.sampleCount > 0) console.log(rtt.srttMs, rtt.rttVarMs, rtt.rtoMs, rtt.minRttMs);
 */
export function createRttEstimator(init: RttEstimatorInit = {}): RttEstimator {
  const minRtoMs = numberIn('minRtoMs', init.minRtoMs, RTO_MIN_MS, 0);
  const maxRtoMs = numberIn('maxRtoMs', init.maxRtoMs, RTO_MAX_MS, 0);
  if (maxRtoMs < minRtoMs) throw new LinksInvalidArgumentError('maxRtoMs', maxRtoMs, `>= minRtoMs ${minRtoMs}`);
  const initialRtoMs = positive('initialRtoMs', init.initialRtoMs, RTO_INITIAL_MS);
  const granularityMs = numberIn('clockGranularityMs', init.clockGranularityMs, RTT_CLOCK_GRANULARITY_MS, 0);
  const maxSampleMs = positive('maxSampleMs', init.maxSampleMs, RTT_MAX_SAMPLE_MS);
  const minFilter = createWindowedFilter({
    kind: 'min',
    windowMs: init.minRttWindowMs ?? MIN_RTT_WINDOW_MS,
    buckets: init.minRttBuckets ?? WINDOWED_FILTER_BUCKETS,
  });
  return new Rfc6298Estimator(initialRtoMs, minRtoMs, maxRtoMs, granularityMs, maxSampleMs, minFilter);
}
