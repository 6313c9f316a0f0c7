import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenBucket, defaultBurstBytes } from '../src/token-bucket.js';
import { TOKEN_BUCKET_MIN_BURST_BYTES } from '../src/constants.js';

describe('token bucket', () => {
  it('starts full and refills at the rate up to the depth', () => {
    const b = createTokenBucket({ rateBytesPerSec: 1000, burstBytes: 500 });
    expect(b.available(0)).toBe(500);
    expect(b.tryTake(400, 0)).toBe(true);
    expect(b.tryTake(200, 0)).toBe(false);
    expect(b.tokens).toBe(100);
    expect(b.canTake(200, 100)).toBe(true); // +100 in 100 ms
    expect(b.available(10_000)).toBe(500);
  });

  it('lets take() run into debt, repaid by later refills', () => {
    const b = createTokenBucket({ rateBytesPerSec: 1000, burstBytes: 100 });
    b.take(300, 0);
    expect(b.tokens).toBe(-200);
    expect(b.canTake(1, 100)).toBe(false);
    expect(b.canTake(100, 300)).toBe(true);
  });

  it('refills nothing when the clock steps back', () => {
    const b = createTokenBucket({ rateBytesPerSec: 1000, burstBytes: 100 });
    b.take(100, 1000);
    expect(b.available(500)).toBe(0);
    expect(b.available(1050)).toBe(50);
  });

  it('never passes more than depth + rate · time (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1500, max: 200_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 9000 })), { maxLength: 300 }),
        (rate, burst, steps) => {
          const b = createTokenBucket({ rateBytesPerSec: rate, burstBytes: burst });
          let t = 0;
          let passed = 0;
          for (const [dt, bytes] of steps) {
            t += dt;
            if (b.tryTake(bytes, t)) passed += bytes;
          }
          expect(passed).toBeLessThanOrEqual(burst + (rate * t) / 1000 + 1e-6);
          expect(b.tokens).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('changes rate and depth, and defaults the depth to 50 ms of rate but at least 64 KiB', () => {
    expect(defaultBurstBytes(1000)).toBe(TOKEN_BUCKET_MIN_BURST_BYTES);
    expect(defaultBurstBytes(12_500_000)).toBe(625_000);
    const b = createTokenBucket({ rateBytesPerSec: 12_500_000 });
    expect(b.burstBytes).toBe(625_000);
    b.setRate(1000, 2000);
    expect([b.rateBytesPerSec, b.burstBytes, b.tokens]).toEqual([1000, 2000, 2000]);
    b.setRate(0);
    expect(b.burstBytes).toBe(TOKEN_BUCKET_MIN_BURST_BYTES);
    b.take(2000, 0);
    expect(b.canTake(1, 1e9)).toBe(false); // rate 0 never refills
  });

  it('refuses a negative or non-finite rate and a non-positive depth', () => {
    expect(() => createTokenBucket({ rateBytesPerSec: -1 })).toThrow(/rateBytesPerSec -1/);
    expect(() => createTokenBucket({ rateBytesPerSec: Number.NaN })).toThrow(/rateBytesPerSec NaN/);
    expect(() => createTokenBucket({ rateBytesPerSec: 1, burstBytes: 0 })).toThrow(/burstBytes 0/);
    expect(() => createTokenBucket({ rateBytesPerSec: 1 }).setRate(Number.POSITIVE_INFINITY)).toThrow(/rateBytesPerSec Infinity/);
  });
});
