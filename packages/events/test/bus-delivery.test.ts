// The bus delivers each published event once, in order, to every subscriber whose filter
// matches; the callback form awaits its handler; close(), close of the bus and abort end
// subscriptions; limits and misuse raise coded errors.
import { describe, expect, it } from 'vitest';
import { EventsError, createEventBus, isEventsError } from '../src/index.js';
import { drain, ev, take, tick } from './helpers.js';

describe('publish and subscribe', () => {
  it('delivers every event once, in publish order, with contiguous seqs and epoch-named cursors', async () => {
    const bus = createEventBus({ epoch: 'e1' });
    const sub = bus.subscribe();
    const events = [ev(), ev(), ev()];
    const entries = events.map((e) => bus.publish(e)!);
    expect(entries.map((x) => [x.seq, x.id])).toEqual([
      [1, 'e1-1'],
      [2, 'e1-2'],
      [3, 'e1-3'],
    ]);
    expect(Object.isFrozen(entries[0])).toBe(true);
    const got = await take(sub, 3);
    expect(got.map((g) => g.event)).toEqual(events);
    expect(sub.stats).toMatchObject({ delivered: 3, queued: 0, dropped: 0 });
  });

  it('hands an event straight to a parked next() and to several subscribers alike', async () => {
    const bus = createEventBus();
    const a = bus.subscribe();
    const b = bus.subscribe();
    const pa = a.next();
    const pb = b.next();
    const e = ev();
    bus.publish(e);
    expect((await pa).value!.event).toBe(e);
    expect((await pb).value!.event).toBe(e);
  });

  it('applies each subscriber its own filter', async () => {
    const bus = createEventBus();
    const links = bus.subscribe({ filter: { kind: 'link.*' } });
    const bonding = bus.subscribe({ filter: 'source == bonding' });
    bus.publish(ev({ source: 'netevd', kind: 'link.state' }));
    bus.publish(ev({ source: 'bonding', kind: 'session.up' }));
    bus.publish(ev({ source: 'bonding', kind: 'link.down' }));
    bus.close();
    expect((await drain(links)).map((x) => x.seq)).toEqual([1, 3]);
    expect((await drain(bonding)).map((x) => x.seq)).toEqual([2, 3]);
  });

  it('counts a throwing filter function as not matching, without disturbing others', async () => {
    const bus = createEventBus();
    const bad = bus.subscribe({
      filter: () => {
        throw new Error('boom');
      },
    });
    const good = bus.subscribe();
    expect(bus.publish(ev())).toBeDefined();
    expect(bus.stats().filterErrors).toBe(1);
    expect(bad.stats.queued).toBe(0);
    expect(good.stats.queued).toBe(1);
  });

  it('ends for-await loops on bus close after the queued entries, and refuses new subscribers', async () => {
    const bus = createEventBus();
    const sub = bus.subscribe();
    const parked = bus.subscribe();
    const pending = parked.next();
    bus.publish(ev());
    bus.publish(ev());
    bus.close();
    bus.close();
    expect(bus.closed).toBe(true);
    expect((await drain(sub)).length).toBe(2);
    expect((await pending).done).toBe(false);
    expect((await drain(parked)).length).toBe(1);
    expect(sub.endReason).toBe('bus-closed');
    expect(() => bus.subscribe()).toThrow(expect.objectContaining({ code: 'EVENTS_BUS_CLOSED' }));
    expect(bus.publish(ev())).toBeUndefined();
    expect(bus.stats()).toMatchObject({ rejectedClosed: 1, subscribers: 0, published: 2 });
  });

  it('resolves a parked next() as done when the bus closes', async () => {
    const bus = createEventBus();
    const sub = bus.subscribe();
    const p = sub.next();
    bus.close();
    expect(await p).toEqual({ value: undefined, done: true });
    expect(await sub.next()).toEqual({ value: undefined, done: true });
  });

  it('close() discards the queue, ends the iterator and frees the slot; break does the same', async () => {
    const bus = createEventBus({ maxSubscribers: 1 });
    const sub = bus.subscribe();
    bus.publish(ev());
    sub.close();
    sub.close();
    expect(await sub.next()).toMatchObject({ done: true });
    expect(sub.endReason).toBe('closed');
    const again = bus.subscribe();
    bus.publish(ev());
    for await (const entry of again) {
      expect(entry.seq).toBe(2);
      break;
    }
    expect(again.endReason).toBe('closed');
    expect(bus.stats().subscribers).toBe(0);
  });

  it('ends a subscription when its signal aborts, and refuses an already aborted signal', async () => {
    const bus = createEventBus();
    const ac = new AbortController();
    const sub = bus.subscribe({ signal: ac.signal });
    const p = sub.next();
    ac.abort();
    expect(await p).toMatchObject({ done: true });
    expect(sub.endReason).toBe('aborted');
    expect(bus.stats().subscribers).toBe(0);
    expect(() => bus.subscribe({ signal: AbortSignal.abort() })).toThrow();
  });

  it('refuses a second concurrent next() (one consumer per subscription)', async () => {
    const bus = createEventBus();
    const sub = bus.subscribe();
    const first = sub.next();
    await expect(sub.next()).rejects.toMatchObject({ code: 'EVENTS_INVALID_ARGUMENT' });
    bus.publish(ev());
    expect((await first).done).toBe(false);
  });

  it('enforces maxSubscribers with EVENTS_SUBSCRIBER_LIMIT', () => {
    const bus = createEventBus({ maxSubscribers: 2 });
    bus.subscribe();
    bus.subscribe();
    expect(() => bus.subscribe()).toThrow('subscribers 3 > max 2');
    expect(() => bus.subscribe()).toThrow(expect.objectContaining({ code: 'EVENTS_SUBSCRIBER_LIMIT' }));
  });

  it('validates its options with messages naming field, value and expectation', () => {
    expect(() => createEventBus({ historySize: -1 })).toThrow('historySize -1 is not an integer in 0..1000000');
    expect(() => createEventBus({ maxSubscribers: 0 })).toThrow(EventsError);
    expect(() => createEventBus({ bufferSize: 0 })).toThrow('bufferSize 0 is not an integer in 1..65536');
    expect(() => createEventBus({ overflow: 'block' as never })).toThrow('overflow "block" is not one of drop-oldest, drop-newest, disconnect');
    expect(() => createEventBus({ epoch: 'Has-Dash' })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    const bus = createEventBus();
    expect(bus.epoch).toMatch(/^[0-9a-f]{8}$/);
    expect(() => bus.subscribe({ bufferSize: 70_000 })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    expect(() => bus.subscribe({ filter: 'kind ==' })).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
    expect(bus.stats().subscribers).toBe(0);
  });
});

describe('listen (callback form)', () => {
  it('calls the handler for each matching entry in order, awaiting async handlers one at a time', async () => {
    const bus = createEventBus();
    const seen: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const listener = bus.listen(
      async ({ seq }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick();
        seen.push(seq);
        running--;
      },
      { filter: { kind: 'link.*' } },
    );
    for (let i = 0; i < 5; i++) bus.publish(ev({ kind: i % 2 === 0 ? 'link.up' : 'other' }));
    bus.close();
    expect(await listener.done).toBe('bus-closed');
    expect(seen).toEqual([1, 3, 5]);
    expect(maxRunning).toBe(1);
  });

  it('counts and reports a throwing handler, and keeps delivering', async () => {
    const bus = createEventBus();
    const errors: unknown[] = [];
    const seen: number[] = [];
    const listener = bus.listen(
      ({ seq }) => {
        seen.push(seq);
        if (seq === 1) throw new Error('handler bug');
      },
      { onError: (err) => errors.push(err) },
    );
    bus.publish(ev());
    bus.publish(ev());
    await tick();
    listener.close();
    expect(await listener.done).toBe('closed');
    expect(seen).toEqual([1, 2]);
    expect(listener.errors).toBe(1);
    expect(errors).toEqual([new Error('handler bug')]);
  });

  it('reports overflow as its end reason instead of rejecting', async () => {
    const bus = createEventBus();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const listener = bus.listen(() => gate, { bufferSize: 2, overflow: 'disconnect' });
    for (let i = 0; i < 5; i++) bus.publish(ev());
    release();
    expect(await listener.done).toBe('overflow');
    expect(listener.subscription.stats.dropped).toBe(1);
  });

  it('refuses a handler that is not a function', () => {
    expect(() => createEventBus().listen(5 as never)).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
  });
});

describe('isEventsError', () => {
  it('recognises bus errors by code', () => {
    try {
      createEventBus({ maxSubscribers: 1 }).subscribe({ filter: '(' });
    } catch (err) {
      expect(isEventsError(err, 'EVENTS_FILTER_SYNTAX')).toBe(true);
    }
  });
});
