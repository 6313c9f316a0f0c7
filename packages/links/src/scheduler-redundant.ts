/**
 * Redundant scheduler: every READY link of the first tier that has one, each exactly once, in
 * link order. The receiver keeps the first copy and drops the rest (its replay window / reorder
 * buffer sees duplicates). Tier, rate-cap and data-cap rules are the base's, so a metered
 * backup link still stays idle while a primary link is available.
 */
import { SchedulerBase } from './scheduler-base.js';

export class RedundantScheduler extends SchedulerBase {
  readonly kind = 'redundant' as const;

  protected resize(): void {
    // no per-link state beyond the base's
  }

  protected select(tier: number, want: number, _bytes: number, out: Int32Array | number[]): number {
    const cls = this.cls;
    const tiers = this.tier;
    let count = 0;
    for (let i = 0; i < this.links.length; i++) {
      if (cls[i] === want && tiers[i] === tier) out[count++] = i;
    }
    return count;
  }
}
