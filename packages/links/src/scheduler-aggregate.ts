/**
 * Aggregate scheduler: split bytes across the links of a tier in proportion to
 *
 *   w_i = weight_i × rate_i × (degraded ? degradedWeight : 1)
 *   rate_i = min(measured delivery rate, capBytesPerSec), or the mean measured rate of the
 *            candidates when the link has no measurement yet (1 for all when none has),
 *            and at least minRateFraction × the fastest candidate
 *
 * with start-time fair queueing (SFQ, Goyal et al. 1996) on bytes, which is deterministic and
 * smooth (no bursts, no Math.random):
 *
 *   S_i = max(F_i, V)                 start tag of link i's next packet
 *   pick i with the least S_i         (ties: lowest index)
 *   F_i = S_i + bytes / w_i,  V = S_i
 *
 * Over any interval where links stay candidates, bytes_i / w_i differ by at most one packet's
 * worth between links. A link that was not a candidate (capped, down) restarts at V, so it
 * gets no burst to "catch up". Tags are relative; they are shifted down when V grows large.
 */
import { SchedulerBase } from './scheduler-base.js';

/** Shift tags down past this (float64 keeps 2^-22 resolution there, far below a byte). */
const REBASE_AT = 2 ** 30;
/** Smallest normalised weight: tags stay finite whatever the rates. */
const MIN_NORMALISED_WEIGHT = 1e-9;

export class AggregateScheduler extends SchedulerBase {
  readonly kind = 'aggregate' as const;
  private finish = new Float64Array(0);
  private w = new Float64Array(0);
  private virtual = 0;

  protected resize(n: number, carried: Int32Array): void {
    const finish = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const j = carried[i]!;
      finish[i] = j >= 0 ? this.finish[j]! : this.virtual;
    }
    this.finish = finish;
    this.w = new Float64Array(n);
  }

  protected select(tier: number, want: number, bytes: number, out: Int32Array | number[]): number {
    const links = this.links;
    const cls = this.cls;
    const tiers = this.tier;
    const w = this.w;
    const n = links.length;
    // pass 1: measured rates (capped) -> max and mean
    let maxRate = 0;
    let sumRate = 0;
    let measured = 0;
    let candidates = 0;
    for (let i = 0; i < n; i++) {
      if (cls[i] !== want || tiers[i] !== tier || !(links[i]!.weight > 0)) {
        w[i] = -1; // not a candidate
        continue;
      }
      candidates++;
      const r = this.rateOf(i);
      w[i] = r;
      if (r > 0) {
        measured++;
        sumRate += r;
        if (r > maxRate) maxRate = r;
      }
    }
    if (candidates === 0) return 0;
    const fallback = measured === 0 ? 1 : sumRate / measured;
    const floor = measured === 0 ? 0 : maxRate * this.opts.minRateFraction;
    // pass 2: weights, then the least start tag
    const v = this.virtual;
    let best = -1;
    let bestStart = Infinity;
    let maxW = 0;
    for (let i = 0; i < n; i++) {
      const r0 = w[i]!;
      if (r0 < 0) continue;
      let r = r0 > 0 ? r0 : fallback;
      if (r < floor) r = floor;
      const link = links[i]!;
      const wi = link.weight * r * (link.state === 'degraded' ? this.opts.degradedWeight : 1);
      w[i] = wi;
      if (wi > maxW) maxW = wi;
      const f = this.finish[i]!;
      const start = f > v ? f : v;
      if (wi > 0 && start < bestStart) {
        bestStart = start;
        best = i;
      }
    }
    if (best < 0) return 0; // every candidate weighs 0 (degradedWeight 0)
    // tags advance by bytes / normalised weight (the fastest candidate has weight 1)
    const wn = w[best]! / maxW;
    this.finish[best] = bestStart + bytes / (wn > MIN_NORMALISED_WEIGHT ? wn : MIN_NORMALISED_WEIGHT);
    this.virtual = bestStart;
    if (bestStart > REBASE_AT) this.rebase();
    out[0] = best;
    return 1;
  }

  /** Link i's measured delivery rate, capped by its rate cap; 0 if unmeasured. */
  private rateOf(i: number): number {
    const link = this.links[i]!;
    const r = link.estimators.deliveryRate.rateBytesPerSec;
    const rate = r > 0 && r < Infinity ? r : 0;
    const cap = link.capBytesPerSec;
    return cap !== undefined && rate > cap ? cap : rate;
  }

  private rebase(): void {
    const v = this.virtual;
    for (let i = 0; i < this.finish.length; i++) {
      const f = this.finish[i]! - v;
      this.finish[i] = f > 0 ? f : 0;
    }
    this.virtual = 0;
  }
}
