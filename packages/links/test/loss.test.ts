import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLossEstimator, type LossEstimator } from '../src/loss.js';
import { ReferenceLoss } from './loss-reference.js';

const TWO_32 = 2 ** 32;
const u32 = (s: number): number => ((s % TWO_32) + TWO_32) % TWO_32;

function feed(loss: LossEstimator, seqs: number[]): string[] {
  return seqs.map((s) => loss.onReceive(u32(s)));
}

describe('loss estimator: behaviour', () => {
  it('reports nothing before the first packet', () => {
    const loss = createLossEstimator();
    expect([loss.lossRatio, loss.missing, loss.span, loss.received, loss.expected, loss.highest]).toEqual([0, 0, 0, 0, 0, -1]);
  });

  it('counts a gap as missing and a late arrival that fills it as received, not lost', () => {
    const loss = createLossEstimator({ windowSize: 64 });
    expect(feed(loss, [10, 11, 14])).toEqual(['fresh', 'fresh', 'fresh']);
    expect(loss.missing).toBe(2);
    expect(loss.lossRatio).toBeCloseTo(2 / 5);
    expect(loss.onReceive(12)).toBe('late');
    expect(loss.onReceive(13)).toBe('late');
    expect([loss.missing, loss.lossRatio, loss.late, loss.received, loss.lost]).toEqual([0, 0, 2, 5, 0]);
  });

  it('counts duplicates without counting them received', () => {
    const loss = createLossEstimator({ windowSize: 32 });
    expect(feed(loss, [5, 5, 6, 5, 6])).toEqual(['fresh', 'duplicate', 'fresh', 'duplicate', 'duplicate']);
    expect([loss.received, loss.duplicates]).toEqual([2, 3]);
  });

  it('makes a gap final once it slides out of the window, and calls later arrivals old', () => {
    const loss = createLossEstimator({ windowSize: 32 });
    feed(loss, [0, 2]);
    expect(loss.lost).toBe(0);
    for (let s = 3; s <= 33; s++) loss.onReceive(s);
    expect(loss.lost).toBe(1); // 1 left the window (2..33) missing
    expect(loss.missing).toBe(0);
    expect(loss.onReceive(1)).toBe('old');
    expect(loss.old).toBe(1);
    expect(loss.expected).toBe(34);
  });

  it('handles a jump larger than the window', () => {
    const loss = createLossEstimator({ windowSize: 32 });
    feed(loss, [0, 1, 1000]);
    expect(loss.lost).toBe(1000 - 32 - 1); // 2..968 never arrived
    expect(loss.missing).toBe(31);
    expect(loss.span).toBe(32);
  });

  it('treats numbers before the first one as old', () => {
    const loss = createLossEstimator({ windowSize: 32 });
    feed(loss, [100, 101]);
    expect(loss.onReceive(99)).toBe('old');
  });

  it('works across the u32 wrap', () => {
    const loss = createLossEstimator({ windowSize: 64 });
    expect(feed(loss, [TWO_32 - 2, TWO_32 - 1, TWO_32 + 1, TWO_32 + 2])).toEqual(['fresh', 'fresh', 'fresh', 'fresh']);
    expect(loss.highest).toBe(2);
    expect(loss.missing).toBe(1);
    expect(loss.onReceive(0)).toBe('late');
    expect(loss.missing).toBe(0);
  });

  it('counts invalid input instead of throwing', () => {
    const loss = createLossEstimator();
    for (const bad of [-1, 1.5, TWO_32, Number.NaN, Number.POSITIVE_INFINITY]) expect(loss.onReceive(bad)).toBe('invalid');
    expect(loss.invalid).toBe(5);
    expect(loss.received).toBe(0);
  });

  it('reset starts over', () => {
    const loss = createLossEstimator({ windowSize: 32 });
    feed(loss, [1, 5, 5, 100]);
    loss.reset();
    expect([loss.received, loss.lost, loss.duplicates, loss.missing, loss.highest]).toEqual([0, 0, 0, 0, -1]);
    expect(loss.onReceive(7)).toBe('fresh');
    expect(loss.lossRatio).toBe(0);
  });

  it('refuses a window that is not a multiple of 32 in range', () => {
    for (const windowSize of [0, 31, 100, 65_568, 1.5]) {
      expect(() => createLossEstimator({ windowSize })).toThrow(expect.objectContaining({ code: 'LINKS_INVALID_ARGUMENT' }));
    }
  });
});

describe('loss estimator: agrees with a Set-based reference', () => {
  const windows = fc.constantFrom(32, 64, 96, 1024);
  const bases = fc.constantFrom(0, 1000, TWO_32 - 300, 5 * TWO_32 - 40);

  function check(n: number, seqs: number[]): void {
    const loss = createLossEstimator({ windowSize: n });
    const ref = new ReferenceLoss(n);
    for (const s of seqs) {
      expect(loss.onReceive(u32(s))).toBe(ref.receive(s));
      expect(loss.missing).toBe(ref.missing());
      expect(loss.span).toBe(ref.span());
      expect(loss.lost).toBe(ref.lost());
      expect(loss.highest).toBe(u32(ref.top));
    }
    expect(loss.received).toBe(ref.got.size);
    expect(loss.late).toBe(ref.late);
    expect(loss.duplicates).toBe(ref.duplicates);
    expect(loss.old).toBe(ref.old);
    expect(loss.lossRatio).toBeCloseTo(ref.span() === 0 ? 0 : ref.missing() / ref.span(), 12);
  }

  it('on locally shuffled streams with drops and duplicates (across the wrap)', () => {
    fc.assert(
      fc.property(
        windows,
        bases,
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 40 })), { minLength: 400, maxLength: 400 }),
        (n, base, count, noise) => {
          // 0..count-1, then drop ~10%, duplicate ~10%, displace each by up to 40 places
          const seqs: { s: number; key: number }[] = [];
          for (let i = 0; i < count; i++) {
            const [roll, shift] = noise[i]!;
            if (roll < 10) continue;
            seqs.push({ s: base + i, key: i + shift });
            if (roll >= 90) seqs.push({ s: base + i, key: i + shift + (roll % 7) });
          }
          seqs.sort((a, b) => a.key - b.key);
          check(n, seqs.map((x) => x.s));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on random walks with big jumps and backward steps', () => {
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -3, max: 5 }) },
      { weight: 2, arbitrary: fc.integer({ min: -200, max: 200 }) },
      { weight: 1, arbitrary: fc.integer({ min: -5000, max: 20_000 }) },
    );
    fc.assert(
      fc.property(windows, bases, fc.array(step, { maxLength: 300 }), (n, base, steps) => {
        let s = base;
        const seqs = steps.map((d) => (s = Math.max(0, s + d)));
        check(n, seqs);
      }),
      { numRuns: 300 },
    );
  });

  it('on any permutation of a small range', () => {
    fc.assert(
      fc.property(windows, bases, fc.integer({ min: 1, max: 150 }).chain((k) => fc.shuffledSubarray([...Array(k).keys()], { minLength: 0, maxLength: k })), (n, base, perm) => {
        check(n, perm.map((i) => base + i));
      }),
      { numRuns: 300 },
    );
  });
});
