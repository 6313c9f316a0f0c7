/**
 * Interarrival jitter per RFC 3550 §6.4.1, from the sender's timestamp and our receive time
 * of each packet on one link:
 *
 *   D(i-1, i) = (R_i - R_{i-1}) - (S_i - S_{i-1}) = (R_i - S_i) - (R_{i-1} - S_{i-1})
 *   J <- J + (|D(i-1, i)| - J) / 16
 *
 * The two clocks need not agree: only differences of the transit time R - S are used, so a
 * constant offset cancels. Times are ms (fractions allowed); the RFC's integer form in RTP
 * timestamp units is the same recurrence scaled by 16. Plain numbers, no allocation.
 */
import { JITTER_GAIN } from './constants.js';

/** RFC 3550 interarrival jitter of one link. */
export interface JitterEstimator {
  /** Smoothed jitter in ms; 0 until two packets arrived. */
  readonly jitterMs: number;
  /** Packets fed so far (accepted). */
  readonly sampleCount: number;
  /**
   * Feed one packet: the sender's timestamp and our receive time, both in ms. Non-finite
   * input is ignored (returns false).
   */
  update(sentMs: number, receivedMs: number): boolean;
  /** Forget the previous transit time and the jitter. */
  reset(): void;
}

class Rfc3550Jitter implements JitterEstimator {
  jitterMs = 0;
  sampleCount = 0;
  private lastTransitMs = 0;

  update(sentMs: number, receivedMs: number): boolean {
    const transit = receivedMs - sentMs;
    if (!Number.isFinite(transit)) return false;
    if (this.sampleCount > 0) {
      const d = transit - this.lastTransitMs;
      this.jitterMs += ((d < 0 ? -d : d) - this.jitterMs) * JITTER_GAIN;
    }
    this.lastTransitMs = transit;
    this.sampleCount++;
    return true;
  }

  reset(): void {
    this.jitterMs = 0;
    this.sampleCount = 0;
    this.lastTransitMs = 0;
  }
}

/**
 * Create an RFC 3550 §6.4.1 interarrival jitter estimator.
 *
 * @example
 * const jitter = createJitterEstimator();
 * jitter.update(header.sentMs, performance.now()); // per received packet
 * console.log(jitter.jitterMs.toFixed(2));
 */
export function createJitterEstimator(): JitterEstimator {
  return new Rfc3550Jitter();
}
