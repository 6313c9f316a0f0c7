import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLowestLatencyScheduler } from '../src/scheduler.js';
import type { LinkState } from '../src/link-state.js';
import { testLink } from './scheduler-helpers.js';

const out = new Int32Array(64);

describe('lowest-latency scheduler', () => {
  it('sends everything on the lowest-SRTT link', () => {
    const links = [testLink('a', { srttMs: 30 }), testLink('b', { srttMs: 12 }), testLink('c', { srttMs: 50 })];
    const s = createLowestLatencyScheduler({ links });
    for (let k = 0; k < 100; k++) {
      expect(s.pick(1400, k, out)).toBe(1);
      expect(out[0]).toBe(1);
    }
    links[1]!.estimators.rtt.srttMs = 80; // RTT grew: follow it at the next pick
    s.pick(1400, 100, out);
    expect(out[0]).toBe(0);
  });

  it('ranks up links before degraded ones, and links without an RTT sample last in their class', () => {
    const links = [testLink('nosample'), testLink('degraded', { srttMs: 5, state: 'degraded' }), testLink('up', { srttMs: 40 })];
    const s = createLowestLatencyScheduler({ links });
    s.pick(100, 0, out);
    expect(out[0]).toBe(2);
    links[2]!.state = 'down';
    s.pick(100, 0, out);
    expect(out[0]).toBe(0);
    links[0]!.state = 'down';
    s.pick(100, 0, out);
    expect(out[0]).toBe(1);
  });

  it('spills to the next link when the best one is at its rate cap', () => {
    const links = [testLink('fast', { srttMs: 10, capBytesPerSec: 1_000_000 }), testLink('next', { srttMs: 20 })];
    const s = createLowestLatencyScheduler({ links });
    // 5 MB/s offered for 1 s in 1000-byte packets
    for (let k = 0; k < 5000; k++) expect(s.pick(1000, k * 0.2, out)).toBe(1);
    expect(s.sentBytes(0)).toBeLessThanOrEqual(65_536 + 1_000_000);
    expect(s.sentBytes(0)).toBeGreaterThan(1_000_000);
    expect(s.sentBytes(1)).toBe(5_000_000 - s.sentBytes(0));
  });

  it('always picks the best-ranked link that has room (fast-check against a brute-force ranking)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            state: fc.constantFrom<LinkState>('up', 'degraded', 'down'),
            srtt: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (specs) => {
          const links = specs.map((x, i) => testLink(`l${i}`, { state: x.state, ...(x.srtt === undefined ? {} : { srttMs: x.srtt }) }));
          const s = createLowestLatencyScheduler({ links });
          const n = s.pick(500, 0, out);
          const ranked = specs
            .map((x, i) => ({ i, klass: x.state === 'up' ? 0 : 1, rtt: x.srtt ?? Infinity, usable: x.state !== 'down' }))
            .filter((x) => x.usable)
            .sort((a, b) => a.klass - b.klass || a.rtt - b.rtt || a.i - b.i);
          if (ranked.length === 0) expect(n).toBe(0);
          else expect([n, out[0]]).toEqual([1, ranked[0]!.i]);
        },
      ),
    );
  });
});
