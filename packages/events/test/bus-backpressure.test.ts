// Back-pressure: a subscriber that never reads costs publish O(1) and a bounded queue, and it
// alone loses events (counted) per its policy; the others get everything.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OVERFLOW_POLICIES, createEventBus, type BusEntry, type OverflowPolicy } from '../src/index.js';
import { drain, ev, take } from './helpers.js';

describe('a subscriber that never reads', () => {
  it('does not make publish wait: publish returns synchronously with its entry, 10k times', () => {
    const bus = createEventBus({ historySize: 16 });
    const stalled = bus.subscribe({ bufferSize: 8, overflow: 'drop-oldest' });
    const e = ev();
    for (let i = 1; i <= 10_000; i++) {
      const entry = bus.publish(e);
      expect(entry?.seq).toBe(i); // not a promise: the bus never awaits a subscriber
    }
    expect(stalled.stats).toMatchObject({ queued: 8, dropped: 10_000 - 8 });
  });

  it('holds a constant-size queue whatever is published (memory stays O(bufferSize))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 2000 }), fc.constantFrom(...OVERFLOW_POLICIES), (bufferSize, n, overflow) => {
        const bus = createEventBus({ historySize: 0 });
        const stalled = bus.subscribe({ bufferSize, overflow });
        const e = ev();
        let maxQueued = 0;
        for (let i = 0; i < n; i++) {
          bus.publish(e);
          maxQueued = Math.max(maxQueued, stalled.stats.queued);
        }
        expect(maxQueued).toBeLessThanOrEqual(bufferSize);
        expect(stalled.stats.dropped).toBe(Math.max(0, n - bufferSize) > 0 ? (overflow === 'disconnect' ? 1 : n - bufferSize) : 0);
      }),
      { numRuns: 200 },
    );
  });

  it('costs publish about the same per event as a subscriber that keeps up (O(1), not O(backlog))', () => {
    const time = (stall: boolean): number => {
      const bus = createEventBus({ historySize: 0, maxSubscribers: 10 });
      const subs = Array.from({ length: 10 }, () => bus.subscribe({ bufferSize: 1024, overflow: 'drop-oldest' }));
      const e = ev();
      const t0 = performance.now();
      for (let i = 0; i < 50_000; i++) {
        bus.publish(e);
        // A reader that keeps up: empties its queue right away (synchronously, via next()).
        if (!stall) for (const s of subs) void s.next();
      }
      return performance.now() - t0;
    };
    time(true);
    time(false); // warm up both paths
    const stalled = Math.min(time(true), time(true));
    const reading = Math.min(time(false), time(false));
    // Stalled subscribers overwrite ring slots (drop-oldest); readers dequeue. Either is O(1);
    // a backlog-dependent cost would make the stalled run many times slower.
    expect(stalled).toBeLessThan(reading * 3 + 50);
  });

  it('loses only its own events: a reading subscriber alongside gets all of them, in order', async () => {
    const bus = createEventBus();
    const stalled = bus.subscribe({ bufferSize: 4, overflow: 'drop-newest', name: 'stalled' });
    const reader = bus.subscribe({ bufferSize: 4 });
    const got: BusEntry[] = [];
    const reading = (async () => {
      for await (const entry of reader) got.push(entry);
    })();
    for (let i = 0; i < 100; i++) {
      bus.publish(ev());
      await Promise.resolve(); // the reader runs between publishes
      await Promise.resolve();
    }
    bus.close();
    await reading;
    expect(got.map((g) => g.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(reader.stats.dropped).toBe(0);
    expect(stalled.stats).toMatchObject({ name: 'stalled', dropped: 96, queued: 4 });
    const stats = bus.stats();
    expect(stats.dropped).toBe(96);
    expect(stats.subscriptions).toEqual([]);
  });
});

describe('overflow policies', () => {
  async function run(overflow: OverflowPolicy): Promise<{ seqs: number[]; error: unknown; dropped: number }> {
    const bus = createEventBus({ epoch: 'p' });
    const sub = bus.subscribe({ bufferSize: 3, overflow });
    for (let i = 0; i < 7; i++) bus.publish(ev());
    bus.close();
    const seqs: number[] = [];
    let error: unknown;
    try {
      for await (const entry of sub) seqs.push(entry.seq);
    } catch (err) {
      error = err;
    }
    return { seqs, error, dropped: sub.stats.dropped };
  }

  it('drop-oldest keeps the newest bufferSize entries', async () => {
    expect(await run('drop-oldest')).toEqual({ seqs: [5, 6, 7], error: undefined, dropped: 4 });
  });

  it('drop-newest keeps the first bufferSize entries', async () => {
    expect(await run('drop-newest')).toEqual({ seqs: [1, 2, 3], error: undefined, dropped: 4 });
  });

  it('disconnect delivers what was queued, then rejects with EVENTS_SUBSCRIBER_OVERFLOW, and the bus lets go', async () => {
    const bus = createEventBus();
    const sub = bus.subscribe({ bufferSize: 3, overflow: 'disconnect', name: 'slow-sse' });
    for (let i = 0; i < 7; i++) bus.publish(ev());
    expect(bus.stats()).toMatchObject({ subscribers: 0, disconnected: 1, dropped: 1 });
    expect(sub.endReason).toBe('overflow');
    expect((await take(sub, 3)).map((e) => e.seq)).toEqual([1, 2, 3]);
    await expect(sub.next()).rejects.toMatchObject({
      code: 'EVENTS_SUBSCRIBER_OVERFLOW',
      message: 'subscriber slow-sse queue 3 is full: expected a consumer that keeps up (policy disconnect)',
    });
    expect(await sub.next()).toMatchObject({ done: true });
  });

  it('disconnect wakes nobody early: a parked reader never overflows (the entry goes straight to it)', async () => {
    const bus = createEventBus();
    const sub = bus.subscribe({ bufferSize: 1, overflow: 'disconnect' });
    const p = sub.next();
    bus.publish(ev());
    bus.publish(ev());
    expect((await p).value?.seq).toBe(1);
    expect(sub.endReason).toBeUndefined();
    bus.close();
    expect((await drain(sub)).map((e) => e.seq)).toEqual([2]);
  });

  it('closing an overflowed subscription ends it quietly', async () => {
    const bus = createEventBus();
    const sub = bus.subscribe({ bufferSize: 1, overflow: 'disconnect' });
    bus.publish(ev());
    bus.publish(ev());
    sub.close();
    expect(await sub.next()).toMatchObject({ done: true });
  });

  it('uses the bus defaults when a subscriber gives none', async () => {
    const bus = createEventBus({ bufferSize: 2, overflow: 'drop-newest' });
    const sub = bus.subscribe();
    expect(sub.stats).toMatchObject({ bufferSize: 2, overflow: 'drop-newest' });
  });
});
