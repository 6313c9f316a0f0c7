/**
 * Plain reference replay window: a Set of every counter ever accepted plus the top. Obviously
 * correct, unbounded memory; the optimised bitmap ring in src/replay-window.ts must agree
 * with it on every sequence (test/replay-window.test.ts).
 */
export class ReferenceReplayWindow {
  top = -1;
  private readonly seen = new Set<number>();

  constructor(readonly size: number) {}

  check(c: number): boolean {
    if (!Number.isSafeInteger(c) || c < 0) return false;
    if (c > this.top) return true;
    return this.top - c < this.size && !this.seen.has(c);
  }

  update(c: number): boolean {
    if (!this.check(c)) return false;
    this.seen.add(c);
    if (c > this.top) this.top = c;
    return true;
  }
}
