// Reorder buffer (bonding.md §4): unit cases for each rule, then fast-check: agreement with
// the plain reference (test/reorder-reference.ts) on random arrivals, duplicates, drops and
// clock steps, and the properties the spec promises: no sequence delivered twice, everything
// that arrives delivered (in order when within the wait), no packet held longer than
// maxWait + one tick, never more than capacity held; across the u32 wrap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReorderBuffer, reorderWaitMs, type ReorderBuffer, type ReorderInit } from '../src/reorder.js';
import { ReferenceReorder } from './reorder-reference.js';

interface Delivery {
  seq: number;
  byte: number;
  at: number;
}

/** A buffer whose deliveries are recorded with the clock of the call that made them. */
function recorder(init: Omit<ReorderInit, 'deliver'> = {}) {
  const log: Delivery[] = [];
  const clock = { now: 0 };
  const buf = createReorderBuffer({ ...init, deliver: (p, seq) => log.push({ seq, byte: p[0] ?? -1, at: clock.now }) });
  const push = (seq: number, now = clock.now) => {
    clock.now = now;
    buf.push(seq, new Uint8Array([seq & 0xff, 0xaa]), now);
  };
  const poll = (now: number) => {
    clock.now = now;
    buf.poll(now);
  };
  return { buf, log, push, poll, seqs: () => log.map((d) => d.seq) };
}

describe('reorder buffer rules', () => {
  it('delivers in-order packets at once and holds the ones after a gap', () => {
    const r = recorder({ maxWaitMs: 50 });
    r.push(10);
    r.push(11);
    r.push(13);
    r.push(14);
    expect(r.seqs()).toEqual([10, 11]);
    expect(r.buf.held).toBe(2);
    r.push(12);
    expect(r.seqs()).toEqual([10, 11, 12, 13, 14]);
    expect(r.buf.held).toBe(0);
    expect(r.buf.nextSeq).toBe(15);
    expect(r.buf.counters).toMatchObject({ delivered: 5, inOrder: 3, buffered: 2, skipped: 0 });
  });

  it('delivers a copy: the caller may reuse its buffer after push', () => {
    const got: string[] = [];
    const buf = createReorderBuffer({ deliver: (p) => got.push(Buffer.from(p).toString('hex')), firstSeq: 0 });
    const scratch = new Uint8Array([1, 2, 3]);
    buf.push(1, scratch, 0);
    scratch.fill(9);
    buf.push(0, scratch, 0);
    expect(got).toEqual(['090909', '010203']);
  });

  it('allocates packet memory as packets wait, in chunks of 64, and reuses it after delivery and reset', () => {
    const r = recorder({ maxWaitMs: 50, firstSeq: 0, capacity: 256 });
    expect(r.buf.allocatedSlots).toBe(0);
    r.push(0);
    expect(r.buf.allocatedSlots).toBe(0); // in order: delivered from the caller's buffer
    for (let s = 2; s < 70; s++) r.push(s);
    expect(r.buf.allocatedSlots).toBe(128); // 68 held
    r.push(1);
    expect(r.seqs()).toHaveLength(70);
    for (let round = 0; round < 10; round++) {
      const base = 70 + round * 10;
      for (let s = base + 1; s < base + 10; s++) r.push(s);
      r.push(base);
    }
    expect(r.buf.allocatedSlots).toBe(128);
    for (let s = 172; s < 180; s++) r.push(s);
    r.buf.reset();
    for (let s = 2; s < 60; s++) r.push(1000 + s);
    expect(r.buf.allocatedSlots).toBe(128);
  });

  it('skips a gap after maxWait, by poll() or by the next push()', () => {
    const r = recorder({ maxWaitMs: 50, firstSeq: 0 });
    r.push(1, 0);
    r.push(2, 10);
    expect(r.buf.nextDeadlineMs()).toBe(50);
    r.poll(49);
    expect(r.seqs()).toEqual([]);
    r.poll(50);
    expect(r.seqs()).toEqual([1, 2]);
    expect(r.buf.counters).toMatchObject({ skipped: 1, timeouts: 1 });
    expect(r.buf.nextDeadlineMs()).toBe(Infinity);
    r.push(5, 60);
    r.push(4, 111); // arrives after 5 waited 51 ms: the push itself skips gap 3
    expect(r.seqs()).toEqual([1, 2, 4, 5]);
    expect(r.buf.counters).toMatchObject({ skipped: 2, timeouts: 2 });
  });

  it('a packet arriving after its gap was skipped is delivered at once, counted late; its duplicate is dropped', () => {
    const r = recorder({ maxWaitMs: 10, firstSeq: 0 });
    r.push(1, 0);
    r.poll(10);
    r.push(0, 11);
    r.push(0, 12);
    r.push(1, 12);
    expect(r.seqs()).toEqual([1, 0]);
    expect(r.buf.counters).toMatchObject({ late: 1, duplicate: 2, delivered: 2 });
  });

  it('drops duplicates of held packets (redundant copies)', () => {
    const r = recorder({ firstSeq: 0 });
    r.push(3);
    r.push(3);
    r.push(0);
    r.push(0);
    expect(r.buf.counters.duplicate).toBe(2);
    expect(r.buf.held).toBe(1);
  });

  it('a full buffer skips the oldest gap to make room', () => {
    const r = recorder({ capacity: 4, firstSeq: 0, maxWaitMs: 200 });
    r.push(1);
    r.push(3);
    expect(r.buf.held).toBe(2);
    r.push(4); // window is [0, 4): 4 needs next = 1, so gap 0 is skipped
    expect(r.seqs()).toEqual([1]);
    expect(r.buf.nextSeq).toBe(2);
    r.push(6); // needs next = 3: gap 2 skipped, 3 and 4 delivered
    expect(r.seqs()).toEqual([1, 3, 4]);
    expect(r.buf.counters).toMatchObject({ skipped: 2, overflows: 2 });
    expect(r.buf.held).toBe(1);
  });

  it('a far jump skips everything in between in O(capacity) and keeps no stale history', () => {
    const r = recorder({ capacity: 8, firstSeq: 0 });
    r.push(2);
    r.push(0);
    r.push(5);
    r.push(1_000_000);
    expect(r.seqs()).toEqual([0, 2, 5]);
    expect(r.buf.nextSeq).toBe(1_000_000 - 7);
    expect(r.buf.counters.skipped).toBe(1_000_000 - 7 - 3); // 1 .. 999_992 but 2 and 5
    // history is [next - 8, next) = [999_985, 999_993): all skipped, so late, never "duplicate"
    r.push(1_000_000 - 8);
    r.push(1_000_000 - 15);
    r.push(1_000_000 - 16); // older than history
    expect(r.buf.counters).toMatchObject({ late: 2, tooOld: 1, duplicate: 0 });
  });

  it('drops packets older than the history window and packets over slotBytes', () => {
    const r = recorder({ capacity: 4, firstSeq: 10, slotBytes: 2 });
    r.push(10); // history is now [11 - 4, 11) = [7, 11)
    r.push(7); // in history, never delivered: late
    r.push(6); // older than history: too old
    r.buf.push(11, new Uint8Array(3), 0);
    expect(r.seqs()).toEqual([10, 7]);
    expect(r.buf.counters).toMatchObject({ tooOld: 1, oversize: 1, late: 1 });
  });

  it('syncs to the first packet unless firstSeq is given', () => {
    const r = recorder();
    expect(r.buf.nextSeq).toBe(-1);
    r.push(500);
    expect(r.buf.nextSeq).toBe(501);
    r.push(499);
    expect(r.buf.counters.late).toBe(1);
  });

  it('orders across the u32 wrap', () => {
    const r = recorder({ firstSeq: 0xffff_fffe });
    r.push(0);
    r.push(0xffff_ffff);
    r.push(1);
    r.push(0xffff_fffe);
    expect(r.seqs()).toEqual([0xffff_fffe, 0xffff_ffff, 0, 1]);
    expect(r.buf.nextSeq).toBe(2);
  });

  it('flush() delivers everything held in order; reset() forgets everything', () => {
    const r = recorder({ firstSeq: 0 });
    r.push(5);
    r.push(3);
    r.push(9);
    r.buf.flush();
    expect(r.seqs()).toEqual([3, 5, 9]);
    expect(r.buf.counters.skipped).toBe(7);
    r.push(20);
    r.buf.reset();
    expect(r.buf.held).toBe(0);
    expect(r.buf.nextSeq).toBe(-1);
    r.push(0); // back to firstSeq
    expect(r.seqs()).toEqual([3, 5, 9, 0]);
  });

  it('refuses re-entry from deliver and survives a throwing deliver', () => {
    let mode: 'reenter' | 'throw' = 'reenter';
    const buf: ReorderBuffer = createReorderBuffer({
      firstSeq: 0,
      deliver: () => {
        if (mode === 'reenter') buf.push(9, new Uint8Array(1), 0);
        else throw new Error('tun write failed');
      },
    });
    expect(() => buf.push(0, new Uint8Array(1), 0)).toThrow(/re-entered/);
    mode = 'throw';
    expect(() => buf.push(1, new Uint8Array(1), 0)).toThrow(/tun write failed/);
    buf.push(3, new Uint8Array(1), 0); // not wedged
    expect(buf.held).toBe(1);
    expect(() => buf.poll(1000)).toThrow(/tun write failed/);
    expect(() => buf.flush()).not.toThrow();
  });

  it('maxWaitMs is clamped to 1..200 ms', () => {
    const r = recorder({ maxWaitMs: 0 });
    expect(r.buf.maxWaitMs).toBe(1);
    r.buf.maxWaitMs = 1000;
    expect(r.buf.maxWaitMs).toBe(200);
    r.buf.maxWaitMs = 12.5;
    expect(r.buf.maxWaitMs).toBe(12.5);
    expect(() => {
      r.buf.maxWaitMs = Number.NaN;
    }).toThrow(/maxWaitMs/);
  });

  it('reorderWaitMs = clamp(rttSpread + 4·jitter, 1, 200)', () => {
    expect(reorderWaitMs(10, 2)).toBe(18);
    expect(reorderWaitMs(0, 0)).toBe(1);
    expect(reorderWaitMs(150, 20)).toBe(200);
    expect(reorderWaitMs(Number.NaN, 1)).toBe(1);
  });

  it.each([
    ['capacity', { capacity: 3 }],
    ['capacity', { capacity: 1 }],
    ['capacity', { capacity: 131_072 }],
    ['slotBytes', { slotBytes: 0 }],
    ['slotBytes', { slotBytes: 70_000 }],
    ['firstSeq', { firstSeq: -1 }],
    ['deliver', { deliver: undefined }],
  ] as const)('refuses a bad %s', (name, init) => {
    expect(() => createReorderBuffer({ deliver: () => undefined, ...init } as ReorderInit)).toThrow(name);
  });

  it('refuses a sequence that is not a u32', () => {
    const r = recorder();
    expect(() => r.buf.push(2 ** 32, new Uint8Array(1), 0)).toThrow(/data sequence/);
  });
});

// -- property tests ------------------------------------------------------------------------------

type Op = { kind: 'push'; offset: number; dt: number } | { kind: 'poll'; dt: number } | { kind: 'wait'; ms: number };

const opArb = (span: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('push' as const), offset: fc.integer({ min: -4, max: span }), dt: fc.constantFrom(0, 0, 0, 1, 3, 20) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('poll' as const), dt: fc.integer({ min: 0, max: 60 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 80 }) }) },
  );

const bases = fc.constantFrom(0, 1000, 0xffff_fff0, 0xffff_ff00);

describe('reorder buffer agrees with the reference', () => {
  it('on random arrivals, duplicates, drops, clock steps and wait changes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4, 8, 16, 64),
        bases,
        fc.boolean(),
        fc.array(opArb(40), { maxLength: 250 }),
        (capacity, base, pinned, ops) => {
          const fastLog: string[] = [];
          const refLog: string[] = [];
          const fast = createReorderBuffer({
            capacity,
            slotBytes: 8,
            maxWaitMs: 30,
            ...(pinned ? { firstSeq: base } : {}),
            deliver: (p, s) => fastLog.push(`${s}:${p.length}:${p[0]}`),
          });
          const ref = new ReferenceReorder((p, s) => refLog.push(`${s}:${p.length}:${p[0]}`), capacity, 8, 30, pinned ? base : -1);
          let now = 0;
          for (const op of ops) {
            if (op.kind === 'push') {
              now += op.dt;
              const seq = (base + op.offset) >>> 0;
              const packet = new Uint8Array(1 + (seq % 9)).fill(seq & 0xff); // 9-byte ones are oversize
              fast.push(seq, packet, now);
              ref.push(seq, packet, now);
            } else if (op.kind === 'poll') {
              now += op.dt;
              fast.poll(now);
              ref.poll(now);
            } else {
              fast.maxWaitMs = op.ms;
              ref.maxWaitMs = fast.maxWaitMs;
            }
            expect(fastLog).toEqual(refLog);
            expect(fast.held).toBe(ref.heldCount);
            expect(fast.nextSeq).toBe(ref.nextSeq);
            expect(fast.nextDeadlineMs()).toBe(ref.nextDeadlineMs());
          }
          fast.flush();
          ref.flush();
          expect(fastLog).toEqual(refLog);
          expect(fast.counters).toEqual(ref.counters);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('reorder buffer agrees with the reference on long runs', () => {
  it('a moving sequence with jitter, losses and redundant copies, across the wrap', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8, 32),
        bases,
        fc.array(fc.record({ jitter: fc.integer({ min: -12, max: 40 }), lost: fc.boolean(), copies: fc.integer({ min: 1, max: 2 }), dt: fc.nat({ max: 4 }) }), {
          minLength: 50,
          maxLength: 600,
        }),
        (capacity, base, steps) => {
          const fastLog: number[] = [];
          const refLog: number[] = [];
          const fast = createReorderBuffer({ capacity, slotBytes: 2, maxWaitMs: 9, deliver: (_p, s) => fastLog.push(s) });
          const ref = new ReferenceReorder((_p, s) => refLog.push(s), capacity, 2, 9);
          let now = 0;
          steps.forEach((st, i) => {
            now += st.dt;
            if (st.lost) return;
            const seq = (base + i + st.jitter) >>> 0;
            for (let c = 0; c < st.copies; c++) {
              fast.push(seq, new Uint8Array(1), now);
              ref.push(seq, new Uint8Array(1), now);
            }
            if (i % 7 === 0) {
              fast.poll(now);
              ref.poll(now);
            }
          });
          expect(fastLog).toEqual(refLog);
          expect(fast.counters).toEqual(ref.counters);
          expect(fast.held).toBe(ref.heldCount);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('reorder buffer properties', () => {
  it('never delivers a sequence twice and never holds more than capacity', () => {
    fc.assert(
      fc.property(fc.constantFrom(4, 16, 64), bases, fc.array(opArb(100), { maxLength: 300 }), (capacity, base, ops) => {
        const seen = new Set<number>();
        const buf = createReorderBuffer({
          capacity,
          slotBytes: 4,
          maxWaitMs: 25,
          deliver: (_p, s) => {
            expect(seen.has(s)).toBe(false);
            seen.add(s);
          },
        });
        let now = 0;
        for (const op of ops) {
          if (op.kind === 'push') buf.push((base + op.offset) >>> 0, new Uint8Array(1), (now += op.dt));
          else if (op.kind === 'poll') buf.poll((now += op.dt));
          expect(buf.held).toBeLessThan(capacity);
        }
        buf.flush();
        expect(buf.held).toBe(0);
      }),
    );
  });

  it('delivers every permutation in order when all of it arrives within the wait', () => {
    fc.assert(
      fc.property(
        bases,
        fc.integer({ min: 1, max: 256 }).chain((n) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })),
        (base, order) => {
          const got: number[] = [];
          const buf = createReorderBuffer({ capacity: 256, slotBytes: 4, maxWaitMs: 50, firstSeq: base, deliver: (_p, s) => got.push(s) });
          order.forEach((o, i) => buf.push((base + o) >>> 0, new Uint8Array(1), i * 0.1)); // all within 26 ms
          expect(got).toEqual(order.map((_, i) => (base + i) >>> 0));
          expect(buf.counters).toMatchObject({ late: 0, skipped: 0, duplicate: 0, timeouts: 0 });
        },
      ),
    );
  });

  it('delivers everything that arrives, each once, whatever the drops, copies and delays', () => {
    fc.assert(
      fc.property(
        bases,
        fc.array(fc.record({ offset: fc.nat({ max: 200 }), dt: fc.nat({ max: 15 }), copies: fc.integer({ min: 1, max: 3 }) }), { maxLength: 300 }),
        (base, arrivals) => {
          const got = new Map<number, number>();
          const buf = createReorderBuffer({ capacity: 256, slotBytes: 4, maxWaitMs: 20, firstSeq: base, deliver: (_p, s) => got.set(s, (got.get(s) ?? 0) + 1) });
          let now = 0;
          const sent = new Set<number>();
          for (const a of arrivals) {
            now += a.dt;
            const seq = (base + a.offset) >>> 0;
            sent.add(seq);
            for (let c = 0; c < a.copies; c++) buf.push(seq, new Uint8Array(1), now);
          }
          buf.flush();
          expect(new Set(got.keys())).toEqual(sent);
          expect([...got.values()].every((n) => n === 1)).toBe(true);
        },
      ),
    );
  });

  it('never holds a packet longer than maxWait plus one tick of the coarse timer', () => {
    fc.assert(
      fc.property(
        bases,
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.record({ offset: fc.nat({ max: 120 }), dt: fc.nat({ max: 7 }) }), { maxLength: 200 }),
        (base, wait, tick, arrivals) => {
          const arrivedAt = new Map<number, number>();
          let now = 0;
          const buf = createReorderBuffer({
            capacity: 128,
            slotBytes: 4,
            maxWaitMs: wait,
            firstSeq: base,
            deliver: (_p, s) => expect(now - arrivedAt.get(s)!).toBeLessThanOrEqual(wait + tick),
          });
          let nextTick = tick;
          for (const a of arrivals) {
            const t = now + a.dt;
            for (; nextTick <= t; nextTick += tick) buf.poll((now = nextTick)); // the coarse timer
            now = t;
            const seq = (base + a.offset) >>> 0;
            if (!arrivedAt.has(seq)) arrivedAt.set(seq, now);
            buf.push(seq, new Uint8Array(1), now);
          }
          for (let i = 0; i < 100 && buf.held > 0; i++, nextTick += tick) buf.poll((now = nextTick));
          expect(buf.held).toBe(0);
        },
      ),
    );
  });
});
