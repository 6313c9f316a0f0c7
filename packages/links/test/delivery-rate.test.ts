import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDeliveryRateEstimator } from '../src/delivery-rate.js';

describe('delivery rate estimator', () => {
  it('turns bytes per closed interval into bytes/s on a fake clock', () => {
    let t = 0;
    const rate = createDeliveryRateEstimator({ intervalMs: 100 }, { now: () => t });
    rate.onDelivered(1000);
    t = 50;
    rate.onDelivered(1000);
    expect(rate.rateBytesPerSec).toBe(0); // interval 0 still open
    t = 100;
    rate.tick();
    expect(rate.rateBytesPerSec).toBe(20_000);
    expect(rate.lastIntervalBytesPerSec).toBe(20_000);
    expect(rate.maxRateBytesPerSec).toBe(20_000);
    expect(rate.deliveredBytes).toBe(2000);
    expect(rate.sampleCount).toBe(1);
  });

  it('smooths with the EWMA gain and keeps the windowed max', () => {
    const rate = createDeliveryRateEstimator({ intervalMs: 100, gain: 0.5, maxWindowMs: 1000, maxBuckets: 10 });
    rate.onDelivered(1000, 0); // 10 kB/s
    rate.onDelivered(3000, 100); // 30 kB/s
    rate.tick(200);
    expect(rate.rateBytesPerSec).toBe(20_000);
    expect(rate.maxRateBytesPerSec).toBe(30_000);
    rate.onDelivered(500, 1500);
    rate.tick(1600);
    expect(rate.maxRateBytesPerSec).toBe(5000); // the 30 kB/s interval has left the window
  });

  it('does not count idle intervals as samples', () => {
    const rate = createDeliveryRateEstimator({ intervalMs: 100 });
    rate.onDelivered(1000, 0);
    rate.tick(5000);
    expect(rate.rateBytesPerSec).toBe(10_000);
    expect(rate.sampleCount).toBe(1);
    rate.onDelivered(2000, 5000);
    rate.tick(5100);
    expect(rate.rateBytesPerSec).toBe(10_000 + (20_000 - 10_000) / 4);
    expect(rate.maxRateBytesPerSec).toBe(20_000);
  });

  it('ignores non-positive or non-finite byte counts and times that step back', () => {
    const rate = createDeliveryRateEstimator({ intervalMs: 100 });
    rate.onDelivered(0, 0);
    rate.onDelivered(-5, 0);
    rate.onDelivered(Number.NaN, 0);
    rate.onDelivered(Number.POSITIVE_INFINITY, 0);
    expect(rate.deliveredBytes).toBe(0);
    rate.onDelivered(100, 1000);
    rate.onDelivered(100, 500); // counted in the current interval
    rate.tick(Number.NaN);
    rate.tick(1100);
    expect(rate.rateBytesPerSec).toBe(2000);
    rate.reset();
    expect([rate.rateBytesPerSec, rate.maxRateBytesPerSec, rate.deliveredBytes, rate.sampleCount]).toEqual([0, 0, 0, 0]);
  });

  it('uses performance.now by default', () => {
    const rate = createDeliveryRateEstimator({ intervalMs: 1 });
    rate.onDelivered(10);
    expect(rate.deliveredBytes).toBe(10);
  });

  it('refuses bad init', () => {
    expect(() => createDeliveryRateEstimator({ intervalMs: 0 })).toThrow(/intervalMs 0/);
    expect(() => createDeliveryRateEstimator({ gain: 0 })).toThrow(/gain 0/);
    expect(() => createDeliveryRateEstimator({ gain: 1.5 })).toThrow(/gain 1.5/);
    expect(() => createDeliveryRateEstimator({ maxWindowMs: -1 })).toThrow(/windowMs -1/);
  });

  it('converges to a constant offered rate (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 100_000_000 }), fc.integer({ min: 1, max: 20 }), (bytesPerSec, packetsPerInterval) => {
        const rate = createDeliveryRateEstimator({ intervalMs: 100 });
        const per = (bytesPerSec / 10) / packetsPerInterval;
        for (let i = 0; i < 100; i++) for (let k = 0; k < packetsPerInterval; k++) rate.onDelivered(per, i * 100 + (k * 100) / packetsPerInterval);
        rate.tick(100 * 100);
        expect(Math.abs(rate.rateBytesPerSec - bytesPerSec) / bytesPerSec).toBeLessThan(1e-6);
        expect(Math.abs(rate.maxRateBytesPerSec - bytesPerSec) / bytesPerSec).toBeLessThan(1e-6);
      }),
    );
  });
});
