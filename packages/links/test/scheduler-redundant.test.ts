import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedundantScheduler } from '../src/scheduler.js';
import type { LinkState } from '../src/link-state.js';
import type { LinkTier } from '../src/scheduler.js';
import { testLink } from './scheduler-helpers.js';

const out = new Int32Array(64);

describe('redundant scheduler', () => {
  it('returns every usable link exactly once, in link order', () => {
    const links = [testLink('a'), testLink('b', { state: 'down' }), testLink('c', { state: 'degraded' }), testLink('d')];
    const s = createRedundantScheduler({ links });
    expect(s.pick(1200, 0, out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 2, 3]);
    expect([s.sentBytes(0), s.sentBytes(1), s.sentBytes(2), s.sentBytes(3)]).toEqual([1200, 0, 1200, 1200]);
  });

  it('keeps to the first tier with a ready link (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ state: fc.constantFrom<LinkState>('up', 'degraded', 'down', 'disabled'), tier: fc.constantFrom<LinkTier>('primary', 'overflow', 'backup') }), { minLength: 1, maxLength: 10 }),
        (specs) => {
          const links = specs.map((x, i) => testLink(`l${i}`, x));
          const s = createRedundantScheduler({ links });
          const n = s.pick(800, 0, out);
          const got = Array.from(out.subarray(0, n));
          expect(new Set(got).size).toBe(n); // each once
          const usable = (t: LinkTier): number[] => specs.flatMap((x, i) => (x.tier === t && (x.state === 'up' || x.state === 'degraded') ? [i] : []));
          const primary = usable('primary');
          const overflow = usable('overflow');
          const want = primary.length > 0 ? primary : overflow.length > 0 ? overflow : usable('backup');
          expect(got).toEqual(want);
        },
      ),
    );
  });

  it('leaves out a link whose rate cap is full, and keeps the others', () => {
    const links = [testLink('a', { capBytesPerSec: 0 }), testLink('b')];
    const s = createRedundantScheduler({ links });
    let both = 0;
    while (s.pick(1500, 0, out) === 2) both++;
    expect(both).toBe(Math.floor(65_536 / 1500));
    expect(s.pick(1500, 0, out)).toBe(1);
    expect(out[0]).toBe(1);
  });
});
