/**
 * Plain reference reorder buffer: a Map of held packets (insertion order = arrival order),
 * a Set of every sequence ever delivered, and the rules of bonding.md §4 written as directly
 * as possible. Unbounded memory, O(n) steps; src/reorder.ts must agree with it on every
 * sequence of operations (test/reorder.test.ts).
 */
import type { ReorderCounters } from '../src/reorder.js';

const diff = (a: number, b: number): number => (a - b) | 0;
const add = (a: number, n: number): number => (a + n) >>> 0;

export class ReferenceReorder {
  readonly counters: ReorderCounters = {
    delivered: 0,
    inOrder: 0,
    buffered: 0,
    late: 0,
    duplicate: 0,
    tooOld: 0,
    oversize: 0,
    skipped: 0,
    timeouts: 0,
    overflows: 0,
    lossSkips: 0,
    deferred: 0,
  };
  maxWaitMs: number;
  private next = -1;
  private readonly held = new Map<number, { bytes: Uint8Array; arrival: number }>();
  private readonly delivered = new Set<number>();

  constructor(
    private readonly deliver: (packet: Uint8Array, seq: number) => void,
    readonly capacity: number,
    readonly slotBytes: number,
    maxWaitMs: number,
    private readonly firstSeq = -1,
  ) {
    this.maxWaitMs = maxWaitMs;
  }

  get heldCount(): number {
    return this.held.size;
  }

  get nextSeq(): number {
    return this.next;
  }

  push(seq: number, packet: Uint8Array, now: number): void {
    if (packet.length > this.slotBytes) {
      this.counters.oversize++;
      return;
    }
    if (this.next < 0) this.next = this.firstSeq < 0 ? seq : this.firstSeq;
    if (diff(seq, this.next) >= this.capacity) {
      this.advanceTo(add(seq, 1 - this.capacity));
      this.drain();
      this.counters.overflows++;
    }
    const d = diff(seq, this.next);
    if (d === 0) {
      this.counters.inOrder++;
      this.emit(seq, packet);
      this.next = add(seq, 1);
      this.drain();
    } else if (d < 0) {
      if (-d > this.capacity) this.counters.tooOld++;
      else if (this.delivered.has(seq)) this.counters.duplicate++;
      else {
        this.counters.late++;
        this.emit(seq, packet);
      }
    } else if (this.held.has(seq)) {
      this.counters.duplicate++;
    } else {
      this.held.set(seq, { bytes: packet.slice(), arrival: now });
      this.counters.buffered++;
    }
    this.poll(now);
  }

  poll(now: number): void {
    for (;;) {
      const first = this.held.entries().next();
      if (first.done === true) return;
      const [seq, p] = first.value;
      if (now - p.arrival < this.maxWaitMs) return;
      this.advanceTo(seq);
      this.drain();
      this.counters.timeouts++;
    }
  }

  nextDeadlineMs(): number {
    const first = this.held.values().next();
    return first.done === true ? Infinity : first.value.arrival + this.maxWaitMs;
  }

  flush(): void {
    while (this.held.size > 0) {
      let lowest = -1;
      for (const seq of this.held.keys()) if (lowest < 0 || diff(seq, lowest) < 0) lowest = seq;
      this.advanceTo(lowest);
      this.drain();
    }
  }

  /** Move the delivery point to `target`: held packets before it delivered in order, the rest skipped. */
  private advanceTo(target: number): void {
    const n = diff(target, this.next);
    const before = [...this.held.keys()].filter((s) => diff(s, this.next) < n).sort((a, b) => diff(a, this.next) - diff(b, this.next));
    let pos = 0;
    for (const s of before) {
      const d = diff(s, this.next);
      this.counters.skipped += d - pos;
      this.emit(s, this.held.get(s)!.bytes);
      this.held.delete(s);
      pos = d + 1;
    }
    this.counters.skipped += n - pos;
    this.next = target;
  }

  private drain(): void {
    for (let p = this.held.get(this.next); p !== undefined; p = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.emit(this.next, p.bytes);
      this.next = add(this.next, 1);
    }
  }

  private emit(seq: number, packet: Uint8Array): void {
    this.delivered.add(seq);
    this.counters.delivered++;
    this.deliver(packet, seq);
  }
}
