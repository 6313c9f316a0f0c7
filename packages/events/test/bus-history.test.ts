// History ring and resume: the ring never holds more than its size, `since(cursor)` returns
// exactly the entries published after the cursor that are still held (and says when some are
// not), and subscribe({since}) replays then continues live with no gap and no duplicate.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEventBus, createHistoryRing, parseCursor } from '../src/index.js';
import { drain, ev, take } from './helpers.js';

describe('history ring', () => {
  it('never exceeds its size and since() returns exactly the missed events (model check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.oneof(fc.constant<'pub'>('pub'), fc.nat({ max: 60 })), { maxLength: 120 }),
        (size, ops) => {
          const bus = createEventBus({ historySize: size, epoch: 'm' });
          const all: number[] = []; // every seq published (the model)
          for (const op of ops) {
            if (op === 'pub') {
              all.push(bus.publish(ev())!.seq);
              expect(bus.stats().history.size).toBeLessThanOrEqual(size);
              continue;
            }
            const cursor = Math.min(op, all.length);
            const missed = all.filter((s) => s > cursor);
            const held = missed.slice(Math.max(0, missed.length - size));
            const replay = bus.since(`m-${cursor}`);
            expect(replay.entries.map((e) => e.seq)).toEqual(size === 0 ? [] : held);
            expect(replay.complete).toBe(held.length === missed.length);
            expect(bus.history().length).toBe(Math.min(size, all.length));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the last entries in order in the plain ring too', () => {
    const ring = createHistoryRing<{ seq: number }>(3);
    expect([ring.oldestSeq, ring.newestSeq, ring.size, ring.capacity]).toEqual([0, 0, 0, 3]);
    expect(ring.after(0)).toEqual({ entries: [], complete: true });
    for (let seq = 1; seq <= 5; seq++) ring.push({ seq });
    expect(ring.toArray().map((e) => e.seq)).toEqual([3, 4, 5]);
    expect([ring.oldestSeq, ring.newestSeq]).toEqual([3, 5]);
    expect(ring.after(3)).toEqual({ entries: [{ seq: 4 }, { seq: 5 }], complete: true });
    expect(ring.after(1)).toEqual({ entries: [{ seq: 3 }, { seq: 4 }, { seq: 5 }], complete: false });
    expect(ring.after(2).complete).toBe(true);
    expect(ring.after(9)).toEqual({ entries: [], complete: true });
    ring.clear();
    expect(ring.size).toBe(0);
    expect(() => createHistoryRing(-1)).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
  });
});

describe('since(cursor)', () => {
  it('replays everything for "0" or a bare seq taken as this bus, and nothing for the newest', () => {
    const bus = createEventBus({ historySize: 10, epoch: 'ab12' });
    for (let i = 0; i < 4; i++) bus.publish(ev());
    expect(bus.since('0')).toMatchObject({ complete: true });
    expect(bus.since('0').entries.map((e) => e.id)).toEqual(['ab12-1', 'ab12-2', 'ab12-3', 'ab12-4']);
    expect(bus.since('2').entries.map((e) => e.seq)).toEqual([3, 4]);
    expect(bus.since('ab12-4')).toEqual({ entries: [], complete: true });
    expect(bus.since('ab12-99')).toEqual({ entries: [], complete: true });
  });

  it('replays the whole ring, marked incomplete, for a cursor from another bus instance or garbage', () => {
    const bus = createEventBus({ historySize: 10, epoch: 'new' });
    for (let i = 0; i < 3; i++) bus.publish(ev());
    for (const cursor of ['old-2', 'garbage', '', '-1', '1.5', 'x-', `new-${'9'.repeat(17)}`, 'UP-1', 'a'.repeat(50)]) {
      const r = bus.since(cursor);
      expect(r.entries.map((e) => e.seq), cursor).toEqual([1, 2, 3]);
      expect(r.complete, cursor).toBe(false);
    }
  });

  it('says incomplete with historySize 0 whenever something was published after the cursor', () => {
    const bus = createEventBus({ historySize: 0, epoch: 'z' });
    bus.publish(ev());
    bus.publish(ev());
    expect(bus.since('z-1')).toEqual({ entries: [], complete: false });
    expect(bus.since('z-2')).toEqual({ entries: [], complete: true });
  });

  it('parses cursors strictly', () => {
    expect(parseCursor('abc-42')).toEqual({ epoch: 'abc', seq: 42 });
    expect(parseCursor('42')).toEqual({ epoch: undefined, seq: 42 });
    expect(parseCursor('a-b-1')).toBeUndefined();
    expect(parseCursor(5 as never)).toBeUndefined();
  });
});

describe('subscribe({since})', () => {
  it('replays the matching history after the cursor, then continues live: no gap, no duplicate', async () => {
    const bus = createEventBus({ historySize: 100, epoch: 'r' });
    for (let i = 0; i < 5; i++) bus.publish(ev({ kind: i % 2 === 0 ? 'link.up' : 'other' }));
    const sub = bus.subscribe({ since: 'r-1', filter: { kind: 'link.*' }, bufferSize: 1 });
    expect(sub.replay).toEqual({ count: 2, complete: true });
    expect(sub.stats.replayPending).toBe(2);
    bus.publish(ev({ kind: 'link.down' }));
    expect((await take(sub, 3)).map((e) => e.seq)).toEqual([3, 5, 6]);
    bus.close();
    expect(await drain(sub)).toEqual([]);
  });

  it('does not count replayed entries against the live queue bound', async () => {
    const bus = createEventBus({ historySize: 100 });
    for (let i = 0; i < 50; i++) bus.publish(ev());
    const sub = bus.subscribe({ since: '0', bufferSize: 2, overflow: 'disconnect' });
    bus.publish(ev());
    bus.close();
    expect((await drain(sub)).length).toBe(51);
    expect(sub.stats.dropped).toBe(0);
  });

  it('reports an incomplete replay when the ring lost entries after the cursor', () => {
    const bus = createEventBus({ historySize: 3, epoch: 'q' });
    for (let i = 0; i < 10; i++) bus.publish(ev());
    const sub = bus.subscribe({ since: 'q-2' });
    expect(sub.replay).toEqual({ count: 3, complete: false });
  });

  it('resumes exactly where a previous subscriber stopped reading', async () => {
    const bus = createEventBus({ historySize: 50 });
    const first = bus.subscribe();
    for (let i = 0; i < 10; i++) bus.publish(ev());
    const seen = await take(first, 4);
    first.close();
    for (let i = 0; i < 3; i++) bus.publish(ev());
    const resumed = bus.subscribe({ since: seen.at(-1)!.id });
    bus.close();
    expect((await drain(resumed)).map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });
});
