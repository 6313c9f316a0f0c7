/**
 * Lowest-latency scheduler: the packet goes to the candidate with the best rank
 *
 *   (up before degraded, lowest SRTT — links without an RTT sample last —, lowest index)
 *
 * among the READY links of the tier. A link whose rate cap lacks the packet's bytes is FULL,
 * not READY, so the packet spills to the next-ranked link, then to the overflow tier. One
 * O(links) scan per pick, no sorting, no allocation.
 */
import { SchedulerBase } from './scheduler-base.js';

export class LowestLatencyScheduler extends SchedulerBase {
  readonly kind = 'lowest-latency' as const;

  protected resize(): void {
    // no per-link state beyond the base's
  }

  protected select(tier: number, want: number, _bytes: number, out: Int32Array | number[]): number {
    const links = this.links;
    const cls = this.cls;
    const tiers = this.tier;
    let best = -1;
    let bestClass = 2;
    let bestRtt = Infinity;
    for (let i = 0; i < links.length; i++) {
      if (cls[i] !== want || tiers[i] !== tier) continue;
      const link = links[i]!;
      const klass = link.state === 'degraded' ? 1 : 0;
      const rtt = link.estimators.rtt;
      const srtt = rtt.sampleCount > 0 ? rtt.srttMs : Infinity;
      if (best < 0 || klass < bestClass || (klass === bestClass && srtt < bestRtt)) {
        best = i;
        bestClass = klass;
        bestRtt = srtt;
      }
    }
    if (best < 0) return 0;
    out[0] = best;
    return 1;
  }
}
