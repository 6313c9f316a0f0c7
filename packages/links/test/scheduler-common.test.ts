// Rules every scheduler shares: usable states, tiers, rate caps, data caps, accounting, validation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScheduler, SCHEDULER_KINDS, type SchedulerKind } from '../src/scheduler.js';
import { LINK_STATES, type LinkState } from '../src/link-state.js';
import { testLink, type TestLink } from './scheduler-helpers.js';

const out = new Int32Array(64);

function picked(kind: SchedulerKind, links: TestLink[], bytes = 1000, now = 0): string[] {
  const s = createScheduler(kind, { links });
  const n = s.pick(bytes, now, out);
  return Array.from(out.subarray(0, n), (i) => links[i]!.id);
}

describe.each(SCHEDULER_KINDS)('%s scheduler: shared rules', (kind) => {
  it('never picks down, disabled or (while anything is up) probing links', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<LinkState>(...LINK_STATES), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 50 }), (states, sizes) => {
        const links = states.map((state, i) => testLink(`l${i}`, { state, rate: 1000 * (i + 1), srttMs: 10 * (8 - i) }));
        const s = createScheduler(kind, { links });
        const anyUp = states.some((st) => st === 'up' || st === 'degraded');
        for (const b of sizes) {
          const n = s.pick(b, 0, out);
          for (let k = 0; k < n; k++) {
            const st = states[out[k]!]!;
            if (anyUp) expect(['up', 'degraded']).toContain(st);
            else expect(st).toBe('probing');
          }
          if (!states.some((st) => st === 'up' || st === 'degraded' || st === 'probing')) expect(n).toBe(0);
        }
      }),
    );
  });

  it('drops (returns 0, counts) when no link is usable', () => {
    const links = [testLink('a', { state: 'down' }), testLink('b', { state: 'disabled' })];
    const s = createScheduler(kind, { links });
    expect(s.pick(100, 0, out)).toBe(0);
    expect(s.pick(100, 0, out)).toBe(0);
    expect(s.dropped).toBe(2);
    expect(createScheduler(kind).pick(100, 0, [])).toBe(0);
  });

  it('uses probing links while nothing is up or degraded', () => {
    expect(picked(kind, [testLink('a', { state: 'down' }), testLink('b', { state: 'probing' })])).toEqual(['b']);
  });

  it('uses overflow links only when primary links cannot take the packet', () => {
    const links = [testLink('p', { capBytesPerSec: 1000, srttMs: 10 }), testLink('o', { tier: 'overflow', srttMs: 5 })];
    const s = createScheduler(kind, { links });
    // the primary's bucket starts with 64 KiB
    for (let k = 0; k < 65; k++) {
      expect(s.pick(1000, 0, out)).toBe(1);
      expect(out[0]).toBe(0);
    }
    expect(s.pick(1000, 0, out)).toBe(1);
    expect(out[0]).toBe(1); // primary full: overflow
    expect(s.pick(1000, 1000, out)).toBe(1); // a second later 1000 tokens are back
    expect(out[0]).toBe(0);
    links[0]!.state = 'down';
    expect(s.pick(1000, 2000, out)).toBe(1);
    expect(out[0]).toBe(1);
  });

  it('uses backup links only when no primary or overflow link is available', () => {
    const links = [testLink('p', { srttMs: 50 }), testLink('o', { tier: 'overflow', state: 'down' }), testLink('b', { tier: 'backup', srttMs: 1 })];
    const s = createScheduler(kind, { links });
    for (let k = 0; k < 20; k++) {
      expect(s.pick(1000, k, out)).toBe(1);
      expect(out[0]).toBe(0);
    }
    links[0]!.state = 'degraded';
    expect(s.pick(1000, 30, out)).toBe(1);
    expect(out[0]).toBe(0);
    links[0]!.state = 'down';
    expect(s.pick(1000, 40, out)).toBe(1);
    expect(out[0]).toBe(2);
    // a primary that is merely rate-capped full is still available: no backup, drop instead
    links[0]!.state = 'up';
    links[0]!.capBytesPerSec = 0;
    const t = 50;
    while (s.pick(1000, t, out) === 1) expect(out[0]).toBe(0);
    expect(s.dropped).toBe(1);
  });

  it('stops using a metered link once its data cap is spent', () => {
    const links = [testLink('metered', { dataCapBytes: 10_000, srttMs: 1, rate: 1e9 }), testLink('free', { tier: 'overflow', srttMs: 50 })];
    const s = createScheduler(kind, { links });
    for (let k = 0; k < 10; k++) {
      expect(s.pick(1000, k, out)).toBe(1);
      expect(out[0]).toBe(0);
    }
    expect(s.dataCapUsedBytes(0)).toBe(10_000);
    expect(s.pick(1000, 11, out)).toBe(1);
    expect(out[0]).toBe(1);
    expect(s.dataCapUsedBytes(1)).toBe(0); // unmetered: not counted
    links[1]!.state = 'down';
    expect(s.pick(1000, 12, out)).toBe(0); // no last resort
    s.resetDataCap('metered'); // new billing period
    expect(s.pick(1000, 13, out)).toBe(1);
    expect(out[0]).toBe(0);
    s.resetDataCap('metered', 9_999_999);
    expect(s.dataCapUsedBytes(0)).toBe(9_999_999);
  });

  it('uses a spent metered link as last resort only if configured, after backup links', () => {
    const links = [testLink('metered', { dataCapBytes: 0, dataCapLastResort: true }), testLink('backup', { tier: 'backup' })];
    const s = createScheduler(kind, { links });
    expect(s.pick(500, 0, out)).toBe(1);
    expect(out[0]).toBe(1); // the backup beats blowing the cap
    links[1]!.state = 'down';
    expect(s.pick(500, 1, out)).toBe(1);
    expect(out[0]).toBe(0);
    expect(s.dataCapUsedBytes(0)).toBe(500);
    links[0]!.capBytesPerSec = 0; // last resort still respects its rate cap
    while (s.pick(1500, 2, out) === 1) expect(out[0]).toBe(0);
    expect(s.pick(1500, 2, out)).toBe(0);
  });

  it('counts bytes and packets per link and carries them across setLinks by id', () => {
    const a = testLink('a', { srttMs: 1 });
    const s = createScheduler(kind, { links: [a] });
    s.pick(700, 0, out);
    s.pick(300, 0, out);
    expect([s.sentBytes(0), s.sentPackets(0)]).toEqual([1000, 2]);
    s.setLinks([testLink('z', { state: 'down' }), a]);
    expect([s.sentBytes(1), s.sentPackets(1), s.sentBytes(0)]).toEqual([1000, 2, 0]);
    expect(s.links.map((l) => l.id)).toEqual(['z', 'a']);
    expect(() => s.sentBytes(2)).toThrow(/index 2/);
    expect(() => s.dataCapUsedBytes(-1)).toThrow(/index -1/);
    expect(() => s.sentPackets(0.5)).toThrow(/index 0.5/);
    expect(() => s.resetDataCap('nope')).toThrow(/id "nope"/);
    expect(() => s.resetDataCap('a', -1)).toThrow(/usedBytes -1/);
  });

  it('refuses a short out array and a bad packet size', () => {
    const s = createScheduler(kind, { links: [testLink('a'), testLink('b')] });
    expect(() => s.pick(100, 0, new Int32Array(1))).toThrow(expect.objectContaining({ code: 'LINKS_INVALID_ARGUMENT', message: expect.stringMatching(/out.length 1/) }));
    expect(() => s.pick(-1, 0, out)).toThrow(/packetBytes -1/);
    expect(() => s.pick(70_000, 0, out)).toThrow(/packetBytes 70000/);
    expect(() => s.pick(Number.NaN, 0, out)).toThrow(/packetBytes NaN/);
    const plain: number[] = [0, 0];
    expect(s.pick(100, 0, plain)).toBeGreaterThan(0);
  });

  it('refuses malformed links', () => {
    const s = createScheduler(kind);
    const ok = testLink('a');
    const bad: [unknown, RegExp][] = [
      [null, /links\[0\] null/],
      [{ ...ok, id: '' }, /links\[0\].id ""/],
      [{ ...ok, tier: 'gold' }, /links\[0\].tier "gold"/],
      [{ ...ok, state: 'sleepy' }, /links\[0\].state "sleepy"/],
      [{ ...ok, weight: -1 }, /links\[0\].weight -1/],
      [{ ...ok, weight: Number.NaN }, /links\[0\].weight NaN/],
      [{ ...ok, capBytesPerSec: -5 }, /capBytesPerSec -5/],
      [{ ...ok, dataCapBytes: Number.POSITIVE_INFINITY }, /dataCapBytes Infinity/],
      [{ ...ok, estimators: {} }, /links\[0\].estimators object/],
    ];
    for (const [link, msg] of bad) expect(() => s.setLinks([link as TestLink])).toThrow(msg);
    expect(() => s.setLinks([ok, testLink('a')])).toThrow(/links\[1\].id "a" is not unique/);
    expect(() => s.setLinks('x' as unknown as TestLink[])).toThrow(/links "x"/);
    expect(() => s.setLinks(Array.from({ length: 65 }, (_, i) => testLink(`l${i}`)))).toThrow(/links.length 65/);
  });

  it('picks up a cap set or changed at run time', () => {
    const links = [testLink('a', { srttMs: 1 }), testLink('b', { srttMs: 2, tier: 'overflow' })];
    const s = createScheduler(kind, { links });
    expect(s.pick(1500, 0, out)).toBe(1);
    links[0]!.capBytesPerSec = 0; // bucket created full (64 KiB) with no refill
    let n = 0;
    while (s.pick(1500, 0, out) === 1 && out[0] === 0) n++;
    expect(n).toBe(Math.floor(65_536 / 1500));
    links[0]!.capBytesPerSec = 1_500_000; // retuned: 1500 bytes per ms
    expect(s.pick(1500, 2, out)).toBe(1);
    expect(out[0]).toBe(0);
  });
});

describe('createScheduler', () => {
  it('builds each kind by name and refuses unknown names and options', () => {
    for (const kind of SCHEDULER_KINDS) expect(createScheduler(kind).kind).toBe(kind);
    expect(() => createScheduler('random' as SchedulerKind)).toThrow(/kind "random"/);
    expect(() => createScheduler('aggregate', { degradedWeight: 2 })).toThrow(/degradedWeight 2/);
    expect(() => createScheduler('aggregate', { minRateFraction: -0.1 })).toThrow(/minRateFraction -0.1/);
  });
});
