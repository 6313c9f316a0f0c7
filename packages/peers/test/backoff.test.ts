// Backoff: delays stay within [min, max], exponential growth, decorrelated jitter statistics.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBackoff, type BackoffInit } from '../src/index.js';
import { seededRandom } from './helpers.js';

describe('backoff bounds', () => {
  it('property: every strategy keeps every delay an integer in [minMs, maxMs], for any random source', () => {
    const strategyArb = fc.constantFrom<BackoffInit>(
      { strategy: 'decorrelated' },
      { strategy: 'exponential', jitter: 'none' },
      { strategy: 'exponential', jitter: 'full' },
      { strategy: 'exponential', jitter: 'equal' },
      { strategy: 'exponential', jitter: 'full', factor: 1.5 },
    );
    // the random source may misbehave (1, negatives, NaN): bounds must hold anyway
    const randomArb = fc.array(fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.constantFrom(1, -0.5, 2, Number.NaN)), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(strategyArb, fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 1_000_000 }), randomArb, fc.integer({ min: 1, max: 80 }), (s, minMs, extra, rs, steps) => {
        let i = 0;
        const b = createBackoff({ ...s, minMs, maxMs: minMs + extra }, { random: () => rs[i++ % rs.length]! });
        for (let k = 0; k < steps; k++) {
          const d = b.next();
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(minMs);
          expect(d).toBeLessThanOrEqual(minMs + extra);
        }
        expect(b.attempt).toBe(steps);
      }),
      { numRuns: 300 },
    );
  });

  it('exponential without jitter doubles from min and stops at max; reset starts over', () => {
    const b = createBackoff({ strategy: 'exponential', minMs: 100, maxMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(100);
    // many attempts: no overflow, no NaN
    for (let i = 0; i < 5000; i++) b.next();
    expect(b.next()).toBe(1000);
  });

  it('full and equal jitter draw inside the exponential ceiling', () => {
    const full = createBackoff({ strategy: 'exponential', jitter: 'full', minMs: 100, maxMs: 10_000 }, { random: () => 0.5 });
    expect([full.next(), full.next(), full.next()]).toEqual([100, 150, 250]); // ceilings 100, 200, 400
    const equal = createBackoff({ strategy: 'exponential', jitter: 'equal', minMs: 100, maxMs: 10_000 }, { random: () => 0.5 });
    expect([equal.next(), equal.next(), equal.next()]).toEqual([100, 150, 300]); // c/2 + 0.5*c/2, at least min
  });

  it('decorrelated jitter follows min(max, uniform(min, 3 * previous)) and resets to min', () => {
    const rs = [0.5, 0.5, 0.0, 0.999];
    let i = 0;
    const b = createBackoff({ minMs: 100, maxMs: 1000 }, { random: () => rs[i++]! });
    expect(b.strategy).toBe('decorrelated');
    expect(b.next()).toBe(200); // uniform(100, 300) at 0.5
    expect(b.next()).toBe(350); // uniform(100, 600) at 0.5
    expect(b.next()).toBe(100); // uniform(100, 1050) at 0
    b.reset();
    expect(b.next()).toBe(299); // uniform(100, 300) at 0.999 after reset
  });
});

describe('decorrelated jitter statistics', () => {
  const runs = 20_000;

  it('first delay is uniform on [min, 3*min]: mean ~2*min, spread over the whole range', () => {
    const random = seededRandom(42);
    const firsts: number[] = [];
    for (let r = 0; r < runs; r++) firsts.push(createBackoff({ minMs: 1000, maxMs: 60_000 }, { random }).next());
    const mean = firsts.reduce((a, b) => a + b, 0) / runs;
    expect(mean).toBeGreaterThan(1950);
    expect(mean).toBeLessThan(2050);
    expect(Math.min(...firsts)).toBeLessThan(1010);
    expect(Math.max(...firsts)).toBeGreaterThan(2990);
    // roughly uniform: each third of the range holds about a third of the draws
    const thirds = [0, 0, 0];
    for (const d of firsts) thirds[Math.min(2, Math.floor((d - 1000) / (2000 / 3)))]!++;
    for (const t of thirds) expect(Math.abs(t / runs - 1 / 3)).toBeLessThan(0.02);
  });

  it('grows about 1.5x per attempt before the cap, then wanders below it instead of sticking to it', () => {
    const random = seededRandom(7);
    const steps = 30;
    const cap = 30_000;
    const sums = new Array<number>(steps).fill(0);
    const late: number[] = [];
    for (let r = 0; r < 2000; r++) {
      const b = createBackoff({ minMs: 100, maxMs: cap }, { random });
      for (let k = 0; k < steps; k++) {
        const d = b.next();
        sums[k]! += d;
        if (k >= 25) late.push(d);
      }
    }
    const means = sums.map((s) => s / 2000);
    // E[next] = (min + 3*E[prev])/2 while the cap cannot be reached (100 * 3^4 < cap)
    expect(Math.abs(means[0]! / 200 - 1)).toBeLessThan(0.02);
    for (let k = 1; k < 4; k++) expect(Math.abs(means[k]! / ((100 + 3 * means[k - 1]!) / 2) - 1)).toBeLessThan(0.06);
    // steady state: from the cap, 2/3 of draws hit it again and 1/3 fall anywhere below, so the
    // walk keeps coming down: mean well inside (min, cap), a fair share exactly at the cap
    const lateMean = late.reduce((a, b) => a + b, 0) / late.length;
    expect(lateMean).toBeGreaterThan(0.3 * cap);
    expect(lateMean).toBeLessThan(0.6 * cap);
    const atCap = late.filter((d) => d === cap).length / late.length;
    expect(atCap).toBeGreaterThan(0.15);
    expect(atCap).toBeLessThan(0.6);
    // decorrelated: clients that failed together retry at different times
    expect(new Set(late).size).toBeGreaterThan(late.length * 0.3);
  });

  it('different random sources give different sequences; the same one gives the same', () => {
    const seq = (seed: number): number[] => {
      const b = createBackoff({}, { random: seededRandom(seed) });
      return Array.from({ length: 8 }, () => b.next());
    };
    expect(seq(1)).toEqual(seq(1));
    expect(seq(1)).not.toEqual(seq(2));
  });
});

describe('backoff options', () => {
  it('has defaults of 500 ms .. 60 s and uses Math.random when no source is given', () => {
    const b = createBackoff();
    expect([b.minMs, b.maxMs]).toEqual([500, 60_000]);
    const d = b.next();
    expect(d).toBeGreaterThanOrEqual(500);
    expect(d).toBeLessThanOrEqual(1500);
    expect(createBackoff({ minMs: 100_000 }).maxMs).toBe(100_000);
  });

  it('refuses bad options naming field, value and expectation', () => {
    expect(() => createBackoff({ minMs: 0 })).toThrow('minMs 0 is not an integer in 1..2147483647');
    expect(() => createBackoff({ minMs: 10, maxMs: 5 })).toThrow('maxMs 5 is not an integer in 10..2147483647');
    expect(() => createBackoff({ maxMs: 2 ** 31 })).toThrow(/maxMs 2147483648/);
    expect(() => createBackoff({ factor: 0.5 })).toThrow('factor 0.5 is not a number in 1..1000');
    expect(() => createBackoff({ strategy: 'linear' as 'exponential' })).toThrow(`strategy "linear" is not 'exponential' or 'decorrelated'`);
    expect(() => createBackoff({ jitter: 'half' as 'full' })).toThrow(`jitter "half" is not 'none', 'full' or 'equal'`);
  });
});
