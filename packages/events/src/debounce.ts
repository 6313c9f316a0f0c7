/**
 * Per-key debounce/coalesce: a burst of items with the same key (one interface flapping)
 * becomes one emission after the key has been quiet for `waitMs`, carrying the latest item
 * (or a `coalesce`d one), while other keys run independently. `leading` also emits the first
 * item of a burst at once; `maxWaitMs` bounds how long a busy key can be held back.
 *
 *   push   a1 a2    a3          b1                  (waitMs 100, trailing)
 *   time   0  30    90          120       190 220
 *   emit                                  a3  b1     a3 at 90 + 100, b1 at 120 + 100
 *
 * One timer per active key, set once per burst: pushes only record their time, and the timer,
 * when it fires early, re-arms for the remaining wait (no clear/set per push in a flap storm).
 * At most `maxKeys` keys are held; a new key past that flushes and evicts the oldest (counted).
 * Clock and timers are injected (`clock`), defaulting to the globals at creation time, so
 * vitest fake timers drive it.
 */
import { DEFAULT_DEBOUNCE_MAX_KEYS } from './constants.js';
import { checkInt, invalidArgument } from './errors.js';

/** Time and timers; the default reads `Date.now` and the global timer functions. */
export interface DebounceClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Why an item was emitted. */
export type DebounceReason = 'leading' | 'trailing' | 'max-wait' | 'flush' | 'evicted';

/** Passed with each emission. */
export interface DebounceEmitInfo {
  key: string;
  /** Items pushed for this key since its previous emission (coalesced into this one). */
  count: number;
  reason: DebounceReason;
}

/** Options of `createDebouncer`. */
export interface DebouncerInit<T> {
  /** The key: a function, or dotted field paths joined (`['source', 'subject', 'states.new']`). */
  key: ((item: T) => string) | readonly string[];
  /** Quiet time that ends a burst, ms. */
  waitMs: number;
  /** Longest a key's pending item waits while pushes keep coming, ms (≥ waitMs; default: unbounded). */
  maxWaitMs?: number;
  /** Emit the first item of a burst at once (default false). */
  leading?: boolean;
  /** Emit the pending item when the burst ends (default true). */
  trailing?: boolean;
  /** Keys held at once (default 1024). */
  maxKeys?: number;
  /** Merge a new item into the pending one (default: keep the newest). */
  coalesce?: (pending: T, next: T) => T;
  /** Receives each emission, synchronously (from push, flush or a timer). */
  onEmit: (item: T, info: DebounceEmitInfo) => void;
  /** onEmit threw (counted in `errors`; never thrown into a timer). */
  onError?: (err: unknown, item: T) => void;
  clock?: DebounceClock;
}

/** A snapshot of a debouncer's counters. */
export interface DebounceStats {
  /** Keys with a burst in progress. */
  keys: number;
  pushed: number;
  emitted: number;
  /** Pushes merged into a pending item instead of being emitted. */
  coalesced: number;
  /** Keys flushed early because maxKeys was reached. */
  evicted: number;
  /** onEmit calls that threw. */
  errors: number;
}

/** A per-key debouncer. */
export interface Debouncer<T> {
  /** Keys with a burst in progress. */
  readonly size: number;
  /** Add an item; false when closed. */
  push(item: T): boolean;
  /** Emit now what is pending for `key` (or every key) and end those bursts; returns emissions. */
  flush(key?: string): number;
  /** Drop what is pending for `key` (or every key) without emitting; returns items dropped. */
  cancel(key?: string): number;
  /** The key `push` would use for an item. */
  keyOf(item: T): string;
  stats(): DebounceStats;
  /** Cancel everything (call flush() first to emit) and refuse further pushes. Idempotent. */
  close(): void;
}

interface KeyState<T> {
  key: string;
  pending: T | undefined;
  hasPending: boolean;
  count: number;
  windowStart: number;
  lastPush: number;
  timer: unknown;
  fire: () => void;
}

function fieldValue(item: unknown, path: readonly string[]): unknown {
  let v = item;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * A key function from dotted field paths: values joined by U+001F (strings as is, others as JSON).
 *
 * @example keyFromFields<EventV1>(['source', 'states.new'])(event); // 'netevd\u001froutable'
 */
export function keyFromFields<T>(fields: readonly string[]): (item: T) => string {
  if (!Array.isArray(fields) || fields.length === 0 || !fields.every((f) => typeof f === 'string' && f.length > 0)) {
    throw invalidArgument('key', fields, 'a key function or a non-empty list of field paths');
  }
  const paths = fields.map((f) => f.split('.'));
  return (item) => {
    let out = '';
    for (let i = 0; i < paths.length; i++) {
      const v = fieldValue(item, paths[i]!);
      if (i > 0) out += '\u001f';
      out += typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
    }
    return out;
  };
}

function defaultClock(): DebounceClock {
  // Read the globals now, not at module load, so fake timers installed before creation apply.
  const set = globalThis.setTimeout;
  const clear = globalThis.clearTimeout;
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => set(fn, ms),
    clearTimeout: (h) => clear(h as ReturnType<typeof setTimeout>),
  };
}

const MAX_TIMER_MS = 2_147_483_647;

/**
 * Make a per-key debouncer.
 *
 * @example
 * // netevd: run scripts once per settled interface state, at most 2 s late in a flap storm
 * const debouncer = createDebouncer<EventV1>({
 *   key: ['source', 'interface'], waitMs: 250, maxWaitMs: 2000,
 *   onEmit: (event, { count }) => runScripts(event, count),
 * });
 * bus.listen(({ event }) => { debouncer.push(event); }, { filter: { kind: 'link.state' } });
 */
export function createDebouncer<T>(init: DebouncerInit<T>): Debouncer<T> {
  const keyOf = typeof init.key === 'function' ? init.key : keyFromFields<T>(init.key);
  const waitMs = checkInt('waitMs', init.waitMs, 0, MAX_TIMER_MS);
  const maxWaitMs = init.maxWaitMs === undefined ? undefined : checkInt('maxWaitMs', init.maxWaitMs, Math.max(waitMs, 1), MAX_TIMER_MS);
  const leading = init.leading ?? false;
  const trailing = init.trailing ?? true;
  if (!leading && !trailing) throw invalidArgument('leading/trailing', false, 'true for at least one of them');
  const maxKeys = checkInt('maxKeys', init.maxKeys ?? DEFAULT_DEBOUNCE_MAX_KEYS, 1, 1_000_000);
  if (typeof init.onEmit !== 'function') throw invalidArgument('onEmit', init.onEmit, 'a function');
  const onEmit = init.onEmit;
  const coalesce = init.coalesce;
  const clock = init.clock ?? defaultClock();

  // Insertion order = age: the first key is the oldest burst.
  const states = new Map<string, KeyState<T>>();
  let closed = false;
  const counters = { pushed: 0, emitted: 0, coalesced: 0, evicted: 0, errors: 0 };

  function emit(item: T, key: string, count: number, reason: DebounceReason): void {
    counters.emitted++;
    try {
      onEmit(item, { key, count, reason });
    } catch (err) {
      counters.errors++;
      init.onError?.(err, item);
    }
  }

  function takePending(st: KeyState<T>, reason: DebounceReason): boolean {
    if (!st.hasPending) return false;
    const item = st.pending as T;
    const count = st.count;
    st.pending = undefined;
    st.hasPending = false;
    st.count = 0;
    emit(item, st.key, count, reason);
    return true;
  }

  function drop(st: KeyState<T>): void {
    clock.clearTimeout(st.timer);
    states.delete(st.key);
  }

  function deadlineOf(st: KeyState<T>): number {
    const quiet = st.lastPush + waitMs;
    return maxWaitMs === undefined ? quiet : Math.min(quiet, st.windowStart + maxWaitMs);
  }

  function onTimer(st: KeyState<T>): void {
    if (states.get(st.key) !== st) return; // flushed, cancelled or evicted meanwhile
    const now = clock.now();
    const deadline = deadlineOf(st);
    if (now < deadline) {
      st.timer = clock.setTimeout(st.fire, deadline - now);
      return;
    }
    if (now >= st.lastPush + waitMs) {
      // Quiet for waitMs: the burst is over.
      drop(st);
      if (trailing) takePending(st, 'trailing');
      return;
    }
    // Busy past maxWaitMs: emit what is pending and start a new window.
    takePending(st, 'max-wait');
    st.windowStart = now;
    st.timer = clock.setTimeout(st.fire, deadlineOf(st) - now);
  }

  function evictOldest(): void {
    const oldest = states.values().next().value as KeyState<T>;
    drop(oldest);
    counters.evicted++;
    takePending(oldest, 'evicted');
  }

  return {
    get size() {
      return states.size;
    },
    keyOf,
    push(item: T): boolean {
      if (closed) return false;
      counters.pushed++;
      const key = keyOf(item);
      const now = clock.now();
      const st = states.get(key);
      if (st !== undefined) {
        st.lastPush = now;
        if (st.hasPending) {
          counters.coalesced++;
          st.pending = coalesce === undefined ? item : coalesce(st.pending as T, item);
        } else {
          st.pending = item;
          st.hasPending = true;
        }
        st.count++;
        return true;
      }
      if (states.size >= maxKeys) evictOldest();
      const fresh: KeyState<T> = {
        key,
        pending: undefined,
        hasPending: false,
        count: 0,
        windowStart: now,
        lastPush: now,
        timer: undefined,
        fire: () => onTimer(fresh),
      };
      states.set(key, fresh);
      if (leading) {
        emit(item, key, 1, 'leading');
      } else {
        fresh.pending = item;
        fresh.hasPending = true;
        fresh.count = 1;
      }
      // Still ours after onEmit (it may have flushed or closed): arm the burst's timer.
      if (states.get(key) === fresh) fresh.timer = clock.setTimeout(fresh.fire, deadlineOf(fresh) - now);
      return true;
    },
    flush(key?: string): number {
      const list = key === undefined ? [...states.values()] : [states.get(key)].filter((s) => s !== undefined);
      let n = 0;
      for (const st of list) {
        drop(st);
        if (takePending(st, 'flush')) n++;
      }
      return n;
    },
    cancel(key?: string): number {
      const list = key === undefined ? [...states.values()] : [states.get(key)].filter((s) => s !== undefined);
      let n = 0;
      for (const st of list) {
        drop(st);
        n += st.count;
      }
      return n;
    },
    stats(): DebounceStats {
      return { keys: states.size, ...counters };
    },
    close(): void {
      if (closed) return;
      closed = true;
      for (const st of [...states.values()]) drop(st);
    },
  };
}
