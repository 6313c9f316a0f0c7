// A plain loss estimator on true (unwrapped) sequence numbers with a Set, to check src/loss.ts.
import type { LossOutcome } from '../src/loss.js';

export class ReferenceLoss {
  first: number | undefined;
  top = -1;
  readonly got = new Set<number>();
  late = 0;
  duplicates = 0;
  old = 0;

  constructor(readonly n: number) {}

  receive(s: number): LossOutcome {
    if (this.first === undefined) {
      this.first = s;
      this.top = s;
      this.got.add(s);
      return 'fresh';
    }
    if (s > this.top) {
      this.top = s;
      this.got.add(s);
      return 'fresh';
    }
    if (s <= this.top - this.n || s < this.first) {
      this.old++;
      return 'old';
    }
    if (this.got.has(s)) {
      this.duplicates++;
      return 'duplicate';
    }
    this.got.add(s);
    this.late++;
    return 'late';
  }

  /** Numbers in (top - n, top] since the first that never arrived. */
  missing(): number {
    if (this.first === undefined) return 0;
    let m = 0;
    for (let s = Math.max(this.first, this.top - this.n + 1); s <= this.top; s++) if (!this.got.has(s)) m++;
    return m;
  }

  span(): number {
    return this.first === undefined ? 0 : Math.min(this.n, this.top - this.first + 1);
  }

  /** Numbers in [first, top - n] that never arrived: final. */
  lost(): number {
    if (this.first === undefined || this.top - this.n < this.first) return 0;
    const edge = this.top - this.n;
    let inside = 0;
    for (const s of this.got) if (s <= edge) inside++;
    return edge - this.first + 1 - inside;
  }
}
