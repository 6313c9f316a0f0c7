import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWindowedFilter } from '../src/windowed-filter.js';

describe('windowed min/max filter', () => {
  it('is NaN when empty and after every sample expired', () => {
    const f = createWindowedFilter({ kind: 'max', windowMs: 1000, buckets: 4 });
    expect(f.value(0)).toBeNaN();
    f.update(5, 100);
    expect(f.value(100)).toBe(5);
    expect(f.value(999)).toBe(5);
    expect(f.value(1000)).toBeNaN(); // slot 0 (0..250 ms) left the 4-slot window
  });

  it('ignores non-finite samples and clock steps backwards', () => {
    const f = createWindowedFilter({ kind: 'min', windowMs: 100, buckets: 2 });
    f.update(Number.NaN, 0);
    f.update(Number.POSITIVE_INFINITY, 0);
    expect(f.value(0)).toBeNaN();
    f.update(7, 1000);
    f.update(3, 10); // clock went back: counted in the latest slot
    expect(f.value(1000)).toBe(3);
    expect(f.value(Number.NaN)).toBe(3);
    f.reset();
    expect(f.value(2000)).toBeNaN();
  });

  it('refuses a bad kind, window or bucket count', () => {
    expect(() => createWindowedFilter({ kind: 'avg' as 'min', windowMs: 1 })).toThrow(/kind "avg"/);
    expect(() => createWindowedFilter({ kind: 'min', windowMs: 0 })).toThrow(/windowMs 0/);
    expect(() => createWindowedFilter({ kind: 'min', windowMs: 10, buckets: 1.5 })).toThrow(/buckets 1.5/);
  });

  it('agrees with a plain reference (all samples kept) on random streams', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'min' | 'max'>('min', 'max'),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 10, max: 5000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.boolean()), { maxLength: 200 }),
        (kind, buckets, windowMs, steps) => {
          const f = createWindowedFilter({ kind, windowMs, buckets });
          const bucketMs = windowMs / buckets;
          const kept: [number, number][] = [];
          let t = 12_345;
          for (const [dt, v, query] of steps) {
            t += dt;
            const e = Math.floor(t / bucketMs);
            const inWindow = (ts: number): boolean => Math.floor(ts / bucketMs) > e - buckets;
            if (!query) {
              f.update(v, t);
              kept.push([t, v]);
            }
            const live = kept.filter(([ts]) => inWindow(ts)).map(([, x]) => x);
            const want = live.length === 0 ? Number.NaN : kind === 'min' ? Math.min(...live) : Math.max(...live);
            expect(f.value(t)).toBe(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
