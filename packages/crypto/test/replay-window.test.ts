import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReplayWindow } from '../src/replay-window.js';
import { ReferenceReplayWindow } from './replay-window-reference.js';

const sizes = fc.constantFrom(32, 64, 96, 2048);

describe('replay window: agrees with the plain reference', () => {
  it('on random sequences of check/update (small counters, dense collisions)', () => {
    fc.assert(
      fc.property(
        sizes,
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 })), { maxLength: 400 }),
        (size, ops) => {
          const w = createReplayWindow({ size });
          const ref = new ReferenceReplayWindow(size);
          for (const [isUpdate, c] of ops) {
            if (isUpdate) expect(w.update(c)).toBe(ref.update(c));
            else expect(w.check(c)).toBe(ref.check(c));
            expect(w.top).toBe(ref.top);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on mostly-increasing traffic with jitter, big jumps and 2^32 / 2^53 boundaries', () => {
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: -100, max: 40 }) },
      { weight: 1, arbitrary: fc.integer({ min: -3000, max: 3000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }) },
    );
    const base = fc.constantFrom(0, 2 ** 32 - 700, 2 ** 53 - 5_000_000);
    fc.assert(
      fc.property(sizes, base, fc.array(step, { maxLength: 300 }), (size, b, steps) => {
        const w = createReplayWindow({ size });
        const ref = new ReferenceReplayWindow(size);
        let c = b;
        for (const s of steps) {
          c = Math.max(0, c + s);
          expect(w.check(c)).toBe(ref.check(c));
          expect(w.update(c)).toBe(ref.update(c));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('replay window properties', () => {
  it('never accepts a duplicate', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 10_000 }), { maxLength: 300 }), (cs) => {
        const w = createReplayWindow();
        const accepted = new Set<number>();
        for (const c of cs) {
          if (w.update(c)) {
            expect(accepted.has(c)).toBe(false);
            accepted.add(c);
          }
          expect(w.check(c)).toBe(false);
          expect(w.update(c)).toBe(false);
        }
      }),
    );
  });

  it('accepts any reordering of distinct counters inside the window', () => {
    fc.assert(
      fc.property(
        sizes,
        fc.nat({ max: 2 ** 40 }),
        fc.uniqueArray(fc.nat({ max: 2047 }), { minLength: 1, maxLength: 200 }),
        (size, base, offsets) => {
          const w = createReplayWindow({ size });
          // distinct counters spanning less than the window, in arbitrary order
          const counters = [...new Set(offsets.map((o) => base + (o % size)))];
          for (const c of counters) expect(w.update(c)).toBe(true);
          for (const c of counters) expect(w.check(c)).toBe(false);
        },
      ),
    );
  });

  it('rejects everything older than the window, accepts the oldest slot inside it', () => {
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: 10_000 }), (size, top, older) => {
        const w = createReplayWindow({ size });
        expect(w.update(top + size)).toBe(true);
        expect(w.check(top - older)).toBe(false);
        expect(w.update(top - older)).toBe(false);
        expect(w.check(top + 1)).toBe(true);
        expect(w.update(top + 1)).toBe(true);
      }),
    );
  });

  it('checks bounds at size-1 and size exactly', () => {
    const w = createReplayWindow({ size: 2048 });
    expect(w.size).toBe(2048);
    expect(w.update(10_000)).toBe(true);
    expect(w.check(10_000 - 2047)).toBe(true);
    expect(w.check(10_000 - 2048)).toBe(false);
    expect(w.update(10_000 - 2047)).toBe(true);
    expect(w.update(10_000 - 2047)).toBe(false);
  });

  it('check() never changes state; rejects non-integers and negatives', () => {
    const w = createReplayWindow({ size: 64 });
    expect(w.check(5)).toBe(true);
    expect(w.check(5)).toBe(true);
    expect(w.top).toBe(-1);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(w.check(bad)).toBe(false);
      expect(w.update(bad)).toBe(false);
    }
    expect(w.update(5)).toBe(true);
    w.reset();
    expect(w.top).toBe(-1);
    expect(w.update(5)).toBe(true);
  });

  it('validates the size', () => {
    for (const size of [0, 31, 33, 65_568, 1.5]) {
      expect(() => createReplayWindow({ size })).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT' }));
    }
    expect(() => createReplayWindow({ size: 100 })).toThrow('replay window size 100 is not a multiple of 32 in 32..65536');
  });
});
