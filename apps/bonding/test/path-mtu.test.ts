// The path MTU search of one link (path-mtu.ts, bonding.md §7) against a simulated path that
// passes probes up to a hidden MTU and silently drops bigger ones (a black hole): it finds the
// path MTU within the precision, never reports a size that did not pass once a size failed, and
// a probe lost by chance does not lower it. Plus the interface MTU read through `ip -j`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPathMtuSearch, interfaceMtuToward } from '../src/path-mtu.js';
import type { PathMtuSearch } from '../src/path-mtu.js';

/** Runs the search against a path of `pathMtu` for up to `ms`, 5 ms ticks; `lose(n)` drops the n-th probe. */
function simulate(search: PathMtuSearch, pathMtu: number, ms: number, lose: (n: number) => boolean = () => false): { probes: number[]; reported: number[] } {
  const probes: number[] = [];
  const reported: number[] = [];
  let pending: { ts: number; size: number; at: number } | null = null;
  for (let now = 0; now <= ms; now += 5) {
    if (pending !== null && now >= pending.at) {
      search.onAck(pending.ts, pending.size, now);
      pending = null;
    }
    const size = search.poll(now);
    if (size > 0) {
      const ts = now >>> 0;
      search.onSent(ts, now);
      probes.push(size);
      if (size <= pathMtu && !lose(probes.length)) pending = { ts, size, at: now + 10 };
    }
    reported.push(search.pathMtu);
  }
  return { probes, reported };
}

describe('path MTU search', () => {
  it('confirms the interface bound with one probe when the path carries it', () => {
    const s = createPathMtuSearch({ upperBound: 1500 });
    const { probes } = simulate(s, 1500, 2000);
    expect(probes).toEqual([1500]);
    expect(s.done).toBe(true);
    expect(s.pathMtu).toBe(1500);
  });

  it('finds a smaller path MTU behind a black hole within 8 bytes, below it', () => {
    const s = createPathMtuSearch({ upperBound: 1500 });
    simulate(s, 1400, 60_000);
    expect(s.done).toBe(true);
    expect(s.pathMtu).toBeLessThanOrEqual(1400);
    expect(s.pathMtu).toBeGreaterThan(1400 - 8);
  });

  it('never reports a size that did not pass once a size failed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1280, max: 1500 }), (path) => {
        const s = createPathMtuSearch({ upperBound: 1500 });
        const { reported } = simulate(s, path, 40_000);
        const afterFailure = reported.slice(reported.findIndex((r) => r < 1500));
        if (path < 1500) expect(afterFailure.every((r) => r <= path)).toBe(true);
        expect(s.pathMtu).toBeLessThanOrEqual(path);
        expect(s.pathMtu).toBeGreaterThan(Math.min(path, 1500) - 8);
      }),
      { numRuns: 30 },
    );
  });

  it('keeps the bound when one probe of three is lost by chance', () => {
    const s = createPathMtuSearch({ upperBound: 1500 });
    const { probes } = simulate(s, 1500, 5000, (n) => n === 1);
    expect(probes).toEqual([1500, 1500]);
    expect(s.pathMtu).toBe(1500);
  });

  it('ignores acks that echo another timestamp', () => {
    const s = createPathMtuSearch({ upperBound: 1500 });
    expect(s.poll(0)).toBe(1500);
    s.onSent(7, 0);
    expect(s.onAck(8, 1500, 5)).toBe(false);
    expect(s.onAck(7, 1500, 6)).toBe(true);
    expect(s.onAck(7, 1500, 7)).toBe(false);
  });

  it('ignores the ack of a smaller packet sent in the same millisecond (same echo timestamp)', () => {
    const s = createPathMtuSearch({ upperBound: 1500 });
    expect(s.poll(0)).toBe(1500);
    s.onSent(7, 0);
    expect(s.onAck(7, 72, 5)).toBe(false); // an empty PROBE from the same tick: no proof
    expect(s.onAck(7, 1500, 6)).toBe(true); // the probe's own ack still confirms it
  });

  it('searches again after researchMs and after restart() with a new bound', () => {
    const s = createPathMtuSearch({ upperBound: 1500, researchMs: 1000 });
    simulate(s, 1500, 100);
    expect(s.poll(500)).toBe(0);
    expect(s.poll(1200)).toBe(1500);
    s.restart(2000, 1400);
    expect(s.upperBound).toBe(1400);
    expect(s.done).toBe(false);
    expect(s.poll(2000)).toBe(1400);
  });

  it('takes a bound under the lower bound as the path MTU without probing', () => {
    const s = createPathMtuSearch({ upperBound: 1200 });
    expect(s.poll(0)).toBe(0);
    expect(s.pathMtu).toBe(1200);
  });

  it('refuses bounds outside 576..65535', () => {
    expect(() => createPathMtuSearch({ upperBound: 100 })).toThrow(expect.objectContaining({ code: 'BONDING_INVALID_ARGUMENT' }));
    expect(() => createPathMtuSearch({ upperBound: 1500, lowerBound: 70_000 })).toThrow(expect.objectContaining({ code: 'BONDING_INVALID_ARGUMENT' }));
  });
});

describe('interfaceMtuToward', () => {
  it('reads the MTU of the interface a route uses', async () => {
    const mtu = await interfaceMtuToward('127.0.0.1', '127.0.0.1');
    expect(mtu).toBeGreaterThanOrEqual(576);
  });

  it('answers null when ip cannot tell', async () => {
    expect(await interfaceMtuToward('not-an-address', '127.0.0.1')).toBeNull();
  });
});
