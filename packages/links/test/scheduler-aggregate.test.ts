import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAggregateScheduler } from '../src/scheduler.js';
import { SCHEDULER_DEGRADED_WEIGHT } from '../src/constants.js';
import { testLink } from './scheduler-helpers.js';

const out = new Int32Array(64);

function shares(links: ReturnType<typeof testLink>[], picks: number, bytes = 1000, init = {}): number[] {
  const s = createAggregateScheduler({ links, ...init });
  for (let k = 0; k < picks; k++) expect(s.pick(bytes, 0, out)).toBe(1);
  const total = links.reduce((sum, _l, i) => sum + s.sentBytes(i), 0);
  return links.map((_l, i) => s.sentBytes(i) / total);
}

describe('aggregate scheduler', () => {
  it('splits bytes in proportion to weight × delivery rate within one packet per link (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            weight: fc.integer({ min: 1, max: 10 }),
            rate: fc.integer({ min: 1_000_000, max: 10_000_000 }), // within 10x: above the 5% floor
            degraded: fc.boolean(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(fc.integer({ min: 40, max: 1500 }), { minLength: 500, maxLength: 2000 }),
        (specs, sizes) => {
          const links = specs.map((x, i) => testLink(`l${i}`, { weight: x.weight, rate: x.rate, state: x.degraded ? 'degraded' : 'up' }));
          const s = createAggregateScheduler({ links });
          let total = 0;
          for (const b of sizes) {
            expect(s.pick(b, 0, out)).toBe(1);
            total += b;
          }
          const w = specs.map((x) => x.weight * x.rate * (x.degraded ? SCHEDULER_DEGRADED_WEIGHT : 1));
          const sumW = w.reduce((a, b) => a + b, 0);
          for (let i = 0; i < links.length; i++) {
            const expected = (total * w[i]!) / sumW;
            // SFQ: each link is within (links + 1) packets of its fair share
            expect(Math.abs(s.sentBytes(i) - expected)).toBeLessThanOrEqual((links.length + 1) * 1500);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('alternates smoothly between equal links (deterministic, no bursts)', () => {
    const links = [testLink('a', { rate: 5e6 }), testLink('b', { rate: 5e6 })];
    const s = createAggregateScheduler({ links });
    const seq: number[] = [];
    for (let k = 0; k < 8; k++) {
      s.pick(1200, 0, out);
      seq.push(out[0]!);
    }
    expect(seq).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('uses weights alone before any rate is measured, and the mean rate for a new link', () => {
    const fresh = shares([testLink('a', { weight: 3 }), testLink('b', { weight: 1 })], 4000);
    expect(fresh[0]).toBeCloseTo(0.75, 2);
    const joined = shares([testLink('a', { rate: 2e6 }), testLink('b', { rate: 4e6 }), testLink('new')], 6000);
    expect(joined[2]).toBeCloseTo(3e6 / 9e6, 2); // the mean of 2e6 and 4e6
  });

  it('keeps a slow link at the minimum rate fraction of the fastest', () => {
    const s = shares([testLink('fast', { rate: 100e6 }), testLink('slow', { rate: 1e3 })], 21_000);
    expect(s[1]).toBeCloseTo(0.05 / 1.05, 2);
    const none = shares([testLink('fast', { rate: 100e6 }), testLink('slow', { rate: 1e3 })], 2000, 1000, { minRateFraction: 0 });
    expect(none[1]).toBeLessThan(0.001);
  });

  it('weighs a capped link by its cap, not its (higher) measured rate', () => {
    const s = shares([testLink('a', { rate: 10e6, capBytesPerSec: 1e6 }), testLink('b', { rate: 1e6 })], 2000, 10);
    expect(s[0]).toBeCloseTo(0.5, 2);
  });

  it('never exceeds a link cap over time, sending the rest elsewhere', () => {
    // by rate the capped link would take half; its cap allows ~1 MB/s
    const links = [testLink('capped', { rate: 50e6, capBytesPerSec: 1_000_000 }), testLink('free', { rate: 1e6 })];
    const s = createAggregateScheduler({ links });
    // 10 MB offered over 1 s, 1000-byte packets every 0.1 ms
    for (let k = 0; k < 10_000; k++) expect(s.pick(1000, k * 0.1, out)).toBe(1);
    expect(s.sentBytes(0)).toBeLessThanOrEqual(65_536 + 1_000_000);
    expect(s.sentBytes(0)).toBeGreaterThan(900_000);
    expect(s.sentBytes(1)).toBe(10_000_000 - s.sentBytes(0));
  });

  it('skips links with weight 0, and drops when every candidate weighs 0', () => {
    expect(shares([testLink('a', { weight: 0 }), testLink('b')], 10)).toEqual([0, 1]);
    const s = createAggregateScheduler({ links: [testLink('a', { state: 'degraded' })], degradedWeight: 0 });
    expect(s.pick(100, 0, out)).toBe(0);
    const zero = createAggregateScheduler({ links: [testLink('a', { weight: 0 }), testLink('b', { weight: 0, tier: 'overflow' })] });
    expect(zero.pick(100, 0, out)).toBe(0);
  });

  it('gives a link that returns after an absence its share, not a catch-up burst', () => {
    const links = [testLink('a', { rate: 1e6 }), testLink('b', { rate: 1e6 })];
    const s = createAggregateScheduler({ links });
    links[1]!.state = 'down';
    for (let k = 0; k < 1000; k++) s.pick(1000, 0, out);
    links[1]!.state = 'up';
    const seq: number[] = [];
    for (let k = 0; k < 6; k++) {
      s.pick(1000, 0, out);
      seq.push(out[0]!);
    }
    expect(seq.filter((i) => i === 1)).toHaveLength(3);
  });

  it('keeps tags bounded over long runs (rebase) and stays proportional after', () => {
    const a = testLink('a', { rate: 1e6 });
    const s = createAggregateScheduler({ links: [a] });
    for (let k = 0; k < 20_000; k++) s.pick(65_535, 0, out); // virtual time passes 2^30: rebased
    const b = testLink('b', { rate: 1e6, weight: 2 });
    s.setLinks([a, b]);
    for (let k = 0; k < 3000; k++) s.pick(1000, 0, out);
    // b's share of 3 MB is 2 MB, give or take a's last 64 KiB packet (SFQ's one-packet bound)
    expect(Math.abs(s.sentBytes(1) - 2_000_000)).toBeLessThanOrEqual(65_535);
  });

  it('keeps tags finite for absurdly small rates', () => {
    const links = [testLink('tiny', { rate: 1e-300 }), testLink('big', { rate: 1e300 })];
    const s = createAggregateScheduler({ links, minRateFraction: 0 });
    for (let k = 0; k < 100; k++) expect(s.pick(65_535, 0, out)).toBe(1);
    expect(s.sentPackets(0)).toBe(1); // its first turn, then never again in 100
  });
});
