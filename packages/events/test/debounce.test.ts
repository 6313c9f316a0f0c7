// Per-key debounce/coalesce under vitest fake timers: trailing and leading edges, max wait,
// coalescing, independent keys, the key bound with eviction, flush/cancel/close, and an
// injected clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDebouncer, keyFromFields, type DebounceEmitInfo, type DebounceReason, type EventV1 } from '../src/index.js';
import { ev } from './helpers.js';

type Emitted = [string, DebounceEmitInfo];

function recorder(): { emitted: Emitted[]; onEmit: (item: string, info: DebounceEmitInfo) => void } {
  const emitted: Emitted[] = [];
  return { emitted, onEmit: (item, info) => emitted.push([item, info]) };
}

const keyOfItem = (s: string): string => s.split(':')[0]!;
const info = (key: string, count: number, reason: DebounceReason): DebounceEmitInfo => ({ key, count, reason });

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('trailing debounce', () => {
  it('emits the latest item once the key has been quiet for waitMs', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, onEmit: r.onEmit });
    d.push('a:1');
    vi.advanceTimersByTime(30);
    d.push('a:2');
    vi.advanceTimersByTime(60);
    d.push('a:3'); // t=90
    vi.advanceTimersByTime(99); // t=189
    expect(r.emitted).toEqual([]);
    vi.advanceTimersByTime(1); // t=190 = 90 + 100
    expect(r.emitted).toEqual([['a:3', info('a', 3, 'trailing')]]);
    expect(d.size).toBe(0);
    expect(d.stats()).toEqual({ keys: 0, pushed: 3, emitted: 1, coalesced: 2, evicted: 0, errors: 0 });
  });

  it('runs keys independently', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, onEmit: r.onEmit });
    d.push('a:1');
    vi.advanceTimersByTime(50);
    d.push('b:1');
    vi.advanceTimersByTime(50);
    expect(r.emitted.map(([i]) => i)).toEqual(['a:1']);
    vi.advanceTimersByTime(50);
    expect(r.emitted.map(([i]) => i)).toEqual(['a:1', 'b:1']);
  });

  it('merges items with coalesce', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 10, coalesce: (a, b) => `${a}+${b.split(':')[1]}`, onEmit: r.onEmit });
    d.push('a:1');
    d.push('a:2');
    d.push('a:3');
    vi.advanceTimersByTime(10);
    expect(r.emitted).toEqual([['a:1+2+3', info('a', 3, 'trailing')]]);
  });

  it('collapses a flap storm of 1000 changes into one emission of the final state, with one timer per burst', () => {
    const emitted: EventV1[] = [];
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const d = createDebouncer<EventV1>({ key: ['source', 'interface'], waitMs: 250, onEmit: (e) => emitted.push(e) });
    for (let i = 0; i < 1000; i++) {
      d.push(ev({ interface: 'veth0', states: { new: i % 2 === 0 ? 'routable' : 'no-carrier' } }));
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(250);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.states?.new).toBe('no-carrier');
    // The timer re-arms when it fires early (every ~250 ms here), never once per push.
    expect(setSpy.mock.calls.length).toBeLessThan(60);
    setSpy.mockRestore();
  });
});

describe('leading edge and max wait', () => {
  it('leading emits the first item at once and the last at the end of the burst', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, leading: true, onEmit: r.onEmit });
    d.push('a:1');
    expect(r.emitted).toEqual([['a:1', info('a', 1, 'leading')]]);
    d.push('a:2');
    d.push('a:3');
    vi.advanceTimersByTime(100);
    expect(r.emitted.slice(1)).toEqual([['a:3', info('a', 2, 'trailing')]]);
    vi.advanceTimersByTime(500);
    d.push('a:4'); // a new burst: leading again
    expect(r.emitted.at(-1)).toEqual(['a:4', info('a', 1, 'leading')]);
  });

  it('leading without trailing emits once per burst only', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, leading: true, trailing: false, onEmit: r.onEmit });
    d.push('a:1');
    d.push('a:2');
    vi.advanceTimersByTime(100);
    expect(r.emitted.map(([i]) => i)).toEqual(['a:1']);
  });

  it('a lone leading item produces no trailing emission', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, leading: true, onEmit: r.onEmit });
    d.push('a:1');
    vi.advanceTimersByTime(1000);
    expect(r.emitted).toHaveLength(1);
  });

  it('maxWaitMs bounds how long a busy key waits, then starts a new window', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, maxWaitMs: 300, onEmit: r.onEmit });
    for (let t = 0; t < 700; t += 50) {
      d.push(`a:${t}`);
      vi.advanceTimersByTime(50);
    }
    // Pushes every 50 ms for 700 ms: max-wait emissions at 300 and 600, the trailing one at 650 + 100.
    expect(r.emitted.map(([item, i]) => [item, i.reason])).toEqual([
      ['a:250', 'max-wait'],
      ['a:550', 'max-wait'],
    ]);
    vi.advanceTimersByTime(100);
    expect(r.emitted.map(([item, i]) => [item, i.reason, i.count])).toEqual([
      ['a:250', 'max-wait', 6],
      ['a:550', 'max-wait', 6],
      ['a:650', 'trailing', 2],
    ]);
    expect(d.size).toBe(0);
  });

  it('emits nothing at max wait when the leading edge already took the only item', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, maxWaitMs: 100, leading: true, onEmit: r.onEmit });
    d.push('a:1');
    vi.advanceTimersByTime(50);
    vi.advanceTimersByTime(50);
    vi.advanceTimersByTime(1000);
    expect(r.emitted.map(([i]) => i)).toEqual(['a:1']);
  });
});

describe('bounds and control', () => {
  it('flushes and evicts the oldest key past maxKeys, counting it', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, maxKeys: 2, onEmit: r.onEmit });
    d.push('a:1');
    d.push('b:1');
    d.push('a:2');
    d.push('c:1'); // evicts a (the oldest burst), emitting its pending item now
    expect(r.emitted).toEqual([['a:2', info('a', 2, 'evicted')]]);
    expect(d.size).toBe(2);
    expect(d.stats().evicted).toBe(1);
    vi.advanceTimersByTime(100);
    expect(r.emitted.map(([i]) => i)).toEqual(['a:2', 'b:1', 'c:1']);
  });

  it('flush(key) and flush() emit pending items now; cancel drops them', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, onEmit: r.onEmit });
    d.push('a:1');
    d.push('b:1');
    d.push('c:1');
    d.push('c:2');
    expect(d.flush('a')).toBe(1);
    expect(d.flush('zzz')).toBe(0);
    expect(d.cancel('c')).toBe(2);
    expect(d.flush()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(r.emitted).toEqual([
      ['a:1', info('a', 1, 'flush')],
      ['b:1', info('b', 1, 'flush')],
    ]);
    d.push('d:1');
    expect(d.cancel()).toBe(1);
    expect(d.size).toBe(0);
  });

  it('close() cancels everything and refuses further pushes', () => {
    const r = recorder();
    const d = createDebouncer({ key: keyOfItem, waitMs: 100, onEmit: r.onEmit });
    d.push('a:1');
    d.close();
    d.close();
    expect(d.push('a:2')).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(r.emitted).toEqual([]);
  });

  it('counts a throwing onEmit and reports it, never throwing into the timer', () => {
    const errors: unknown[] = [];
    const d = createDebouncer<string>({
      key: keyOfItem,
      waitMs: 10,
      leading: true,
      onEmit: () => {
        throw new Error('script failed');
      },
      onError: (err) => errors.push(err),
    });
    d.push('a:1');
    d.push('a:2');
    vi.advanceTimersByTime(10);
    expect(d.stats().errors).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it('survives an onEmit that flushes or closes the debouncer from inside a leading emission', () => {
    const d = createDebouncer<string>({ key: keyOfItem, waitMs: 10, leading: true, onEmit: () => d.close() });
    expect(d.push('a:1')).toBe(true);
    vi.advanceTimersByTime(100);
    expect(d.size).toBe(0);
    expect(d.push('a:2')).toBe(false);
    const f = createDebouncer<string>({ key: keyOfItem, waitMs: 10, leading: true, onEmit: () => f.flush() });
    f.push('b:1');
    expect(f.size).toBe(0);
  });

  it('uses an injected clock instead of the globals', () => {
    let now = 1000;
    const timers: { fn: () => void; at: number }[] = [];
    const r = recorder();
    const d = createDebouncer({
      key: keyOfItem,
      waitMs: 5,
      onEmit: r.onEmit,
      clock: {
        now: () => now,
        setTimeout: (fn, ms) => timers.push({ fn, at: now + ms }),
        clearTimeout: () => undefined,
      },
    });
    d.push('a:1');
    expect(timers).toEqual([{ fn: expect.any(Function), at: 1005 }]);
    now = 1003;
    d.push('a:2');
    now = 1005;
    timers.shift()!.fn(); // early: re-arms for 1008
    expect(r.emitted).toEqual([]);
    expect(timers[0]!.at).toBe(1008);
    now = 1008;
    timers.shift()!.fn();
    expect(r.emitted).toEqual([['a:2', info('a', 2, 'trailing')]]);
  });

  it('validates its options', () => {
    const onEmit = (): void => undefined;
    expect(() => createDebouncer({ key: keyOfItem, waitMs: -1, onEmit })).toThrow('waitMs -1 is not an integer in 0..2147483647');
    expect(() => createDebouncer({ key: keyOfItem, waitMs: 100, maxWaitMs: 50, onEmit })).toThrow(/maxWaitMs 50 is not an integer in 100\.\./);
    expect(() => createDebouncer({ key: keyOfItem, waitMs: 1, leading: false, trailing: false, onEmit })).toThrow(/true for at least one/);
    expect(() => createDebouncer({ key: keyOfItem, waitMs: 1, maxKeys: 0, onEmit })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    expect(() => createDebouncer({ key: [], waitMs: 1, onEmit })).toThrow(/non-empty list of field paths/);
    expect(() => createDebouncer({ key: keyOfItem, waitMs: 1, onEmit: 5 as never })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
  });
});

describe('keyFromFields', () => {
  it('joins dotted field values, strings as they are and others as JSON, missing as empty', () => {
    const key = keyFromFields<EventV1>(['source', 'interface', 'states.new', 'data.ifindex', 'data.nope']);
    const e = ev({ source: 'netevd', interface: 'eth0', states: { new: 'routable' }, data: { ifindex: 3 } });
    expect(key(e)).toBe('netevd\u001feth0\u001froutable\u001f3\u001f');
    const d = createDebouncer<EventV1>({ key: ['interface'], waitMs: 1, onEmit: () => undefined });
    expect(d.keyOf(e)).toBe('eth0');
  });
});
