import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJitterEstimator } from '../src/jitter.js';

describe('interarrival jitter (RFC 3550 §6.4.1)', () => {
  it('is zero for a constant transit time, whatever the clock offset', () => {
    const j = createJitterEstimator();
    for (let i = 0; i < 50; i++) j.update(1_000_000 + i * 20, 5 + i * 20);
    expect(j.jitterMs).toBe(0);
    expect(j.sampleCount).toBe(50);
  });

  it('moves 1/16 of the way toward |D| per packet', () => {
    const j = createJitterEstimator();
    j.update(0, 10); // transit 10
    expect(j.jitterMs).toBe(0);
    j.update(20, 46); // transit 26: D = 16
    expect(j.jitterMs).toBe(1);
    j.update(40, 50); // transit 10: D = -16
    expect(j.jitterMs).toBe(1 + (16 - 1) / 16);
  });

  it('ignores non-finite input and resets', () => {
    const j = createJitterEstimator();
    expect(j.update(Number.NaN, 1)).toBe(false);
    expect(j.update(0, Number.POSITIVE_INFINITY)).toBe(false);
    expect(j.sampleCount).toBe(0);
    j.update(0, 1);
    j.update(1, 9);
    expect(j.jitterMs).toBeGreaterThan(0);
    j.reset();
    expect([j.jitterMs, j.sampleCount]).toEqual([0, 0]);
  });

  it('matches the RFC recurrence on random arrivals and stays within the largest |D|', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 300 })), { minLength: 1, maxLength: 200 }), (pkts) => {
        const j = createJitterEstimator();
        let s = 0;
        let ref = 0;
        let prev: number | undefined;
        let maxD = 0;
        for (const [gap, delay] of pkts) {
          s += gap;
          j.update(s, s + delay);
          if (prev !== undefined) {
            const d = Math.abs(delay - prev);
            maxD = Math.max(maxD, d);
            ref = ref + (d - ref) / 16;
          }
          prev = delay;
          expect(Math.abs(j.jitterMs - ref)).toBeLessThan(1e-9);
          expect(j.jitterMs).toBeLessThanOrEqual(maxD + 1e-9);
        }
      }),
    );
  });
});
