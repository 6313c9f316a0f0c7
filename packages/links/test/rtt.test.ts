import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRttEstimator } from '../src/rtt.js';
import { RTO_INITIAL_MS, RTO_MIN_MS } from '../src/constants.js';
import { ReferenceRtt } from './rtt-reference.js';

function close(a: number, b: number): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
}

describe('RTT estimator (RFC 6298)', () => {
  it('starts with the initial RTO and no samples', () => {
    const rtt = createRttEstimator();
    expect(rtt.rtoMs).toBe(RTO_INITIAL_MS);
    expect(rtt.sampleCount).toBe(0);
    expect(rtt.srttMs).toBe(0);
    expect(rtt.minRttMs).toBe(0);
  });

  it('takes SRTT = R and RTTVAR = R/2 from the first sample', () => {
    const rtt = createRttEstimator({ minRtoMs: 0 });
    expect(rtt.addSample(100, 0)).toBe(true);
    expect(rtt.srttMs).toBe(100);
    expect(rtt.rttVarMs).toBe(50);
    expect(rtt.rtoMs).toBe(300); // 100 + 4 * 50
    expect(rtt.latestRttMs).toBe(100);
    expect(rtt.minRttMs).toBe(100);
  });

  it('updates RTTVAR with the old SRTT, then SRTT, with gains 1/4 and 1/8', () => {
    const rtt = createRttEstimator({ minRtoMs: 0 });
    rtt.addSample(100, 0);
    rtt.addSample(200, 10);
    expect(rtt.rttVarMs).toBe(0.75 * 50 + 0.25 * 100); // 62.5
    expect(rtt.srttMs).toBe(0.875 * 100 + 0.125 * 200); // 112.5
    expect(rtt.rtoMs).toBe(112.5 + 4 * 62.5);
  });

  it('clamps the RTO to min and max and uses the clock granularity when RTTVAR is tiny', () => {
    const low = createRttEstimator(); // min 200 ms
    low.addSample(10, 0);
    expect(low.rtoMs).toBe(RTO_MIN_MS);
    const g = createRttEstimator({ minRtoMs: 0, clockGranularityMs: 5 });
    for (let i = 0; i < 200; i++) g.addSample(10, i);
    expect(g.rttVarMs).toBeLessThan(1);
    close(g.rtoMs, g.srttMs + 5);
    const high = createRttEstimator({ maxRtoMs: 2000 });
    high.addSample(50_000, 0);
    expect(high.rtoMs).toBe(2000);
  });

  it('doubles the RTO on timer expiry up to the max, and a new sample recomputes it', () => {
    const rtt = createRttEstimator({ minRtoMs: 0, maxRtoMs: 1000 });
    rtt.addSample(100, 0);
    expect(rtt.backoff()).toBe(600);
    expect(rtt.backoff()).toBe(1000);
    expect(rtt.backoff()).toBe(1000);
    rtt.addSample(100, 1);
    expect(rtt.rtoMs).toBeLessThan(600);
  });

  it('derives samples from echoed timestamps minus the peer hold time', () => {
    const rtt = createRttEstimator();
    expect(rtt.onEcho(1000, 1042, 2)).toBe(true);
    expect(rtt.latestRttMs).toBe(40);
    expect(rtt.onEcho(1000, 1042)).toBe(true);
    expect(rtt.latestRttMs).toBe(42);
  });

  it('rejects negative, non-finite and absurd samples and counts them', () => {
    const rtt = createRttEstimator({ maxSampleMs: 5000 });
    expect(rtt.addSample(-1, 0)).toBe(false);
    expect(rtt.addSample(Number.NaN, 0)).toBe(false);
    expect(rtt.addSample(Number.POSITIVE_INFINITY, 0)).toBe(false);
    expect(rtt.addSample(5001, 0)).toBe(false);
    expect(rtt.onEcho(100, 90)).toBe(false); // echo from the future
    expect(rtt.rejectedCount).toBe(5);
    expect(rtt.sampleCount).toBe(0);
    expect(rtt.rtoMs).toBe(RTO_INITIAL_MS);
  });

  it('keeps the minimum RTT over the window and lets old minima expire', () => {
    const rtt = createRttEstimator({ minRttWindowMs: 1000, minRttBuckets: 10 });
    rtt.addSample(20, 0);
    rtt.addSample(50, 500);
    expect(rtt.minRttMs).toBe(20);
    rtt.addSample(60, 1050); // slot of t=0 has left (window = 900..1000 ms of history)
    expect(rtt.minRttMs).toBe(50);
    rtt.addSample(70, 5000); // everything else expired
    expect(rtt.minRttMs).toBe(70);
  });

  it('reset forgets samples, counters and the minimum', () => {
    const rtt = createRttEstimator();
    rtt.addSample(30, 0);
    rtt.addSample(-3, 0);
    rtt.backoff();
    rtt.reset();
    expect([rtt.sampleCount, rtt.rejectedCount, rtt.srttMs, rtt.rttVarMs, rtt.minRttMs, rtt.latestRttMs]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(rtt.rtoMs).toBe(RTO_INITIAL_MS);
    rtt.addSample(90, 1);
    expect(rtt.minRttMs).toBe(90);
  });

  it('refuses bad init', () => {
    expect(() => createRttEstimator({ minRtoMs: -1 })).toThrow(/minRtoMs -1/);
    expect(() => createRttEstimator({ minRtoMs: 500, maxRtoMs: 100 })).toThrow(/maxRtoMs 100/);
    expect(() => createRttEstimator({ initialRtoMs: 0 })).toThrow(/initialRtoMs/);
    expect(() => createRttEstimator({ minRttWindowMs: Number.NaN })).toThrow(/windowMs/);
    expect(() => createRttEstimator({ minRttBuckets: 0 })).toThrow(/buckets 0/);
  });

  it('agrees with a plain RFC 6298 reference on random sample streams and expiries', () => {
    const op = fc.oneof(
      { weight: 9, arbitrary: fc.double({ min: 0, max: 3000, noNaN: true }) },
      { weight: 1, arbitrary: fc.constant<'expire'>('expire') },
    );
    fc.assert(
      fc.property(
        fc.record({
          minRto: fc.constantFrom(0, 200, 1000),
          maxRto: fc.constantFrom(2000, 60_000),
          g: fc.constantFrom(0, 1, 10),
          initialRto: fc.constantFrom(1000, 3000),
        }),
        fc.array(op, { maxLength: 300 }),
        (cfg, ops) => {
          const rtt = createRttEstimator({ minRtoMs: cfg.minRto, maxRtoMs: cfg.maxRto, clockGranularityMs: cfg.g, initialRtoMs: cfg.initialRto });
          const ref = new ReferenceRtt(cfg);
          let t = 0;
          close(rtt.rtoMs, ref.rto);
          for (const o of ops) {
            t += 10;
            if (o === 'expire') {
              close(rtt.backoff(), (ref.expire(), ref.rto));
            } else {
              expect(rtt.addSample(o, t)).toBe(true);
              ref.sample(o);
              close(rtt.srttMs, ref.srtt!);
              close(rtt.rttVarMs, ref.rttvar);
            }
            close(rtt.rtoMs, ref.rto);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
