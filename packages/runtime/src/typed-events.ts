/**
 * A tiny typed event emitter: `on/once/off/emit` checked against an event map
 * (`{ tick: { ticks: number }, stopped: undefined }`). A listener that throws (or returns a
 * rejected promise) never reaches `emit`'s caller: the error is counted and handed to
 * `onListenerError`. Each event holds at most `maxListeners` listeners; one more is a
 * `RUNTIME_LISTENER_LIMIT` error, not a warning, so leaks fail loudly in tests.
 *
 * Listener arrays are copy-on-write: `emit` walks the array it found, so listeners added or
 * removed during an emit take effect from the next emit.
 */
import { RuntimeError } from './errors.js';

/** Default bound on listeners per event. */
export const DEFAULT_MAX_LISTENERS = 64;

/** A map from event name to payload type; use `undefined` for events without payload. */
export type EventMap = Record<string, unknown>;

/** A listener; a returned promise that rejects counts as a listener error. */
export type Listener<T> = (payload: T) => unknown;

/** Arguments of `emit` for event payload `T`: the payload may be left out when it is `undefined`. */
export type EmitArgs<T> = [T] extends [undefined] ? [payload?: T] : [payload: T];

/** An emitter checked against the event map `Events` (see {@link createTypedEmitter}). */
export interface TypedEmitter<Events extends object> {
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void;
  /** Adds a listener removed after its first call. */
  once<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void;
  /** Removes a listener (the first registration of it); false when it was not there. */
  off<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): boolean;
  /** Calls every listener of `event` in order; returns how many were called. Never throws. */
  emit<K extends keyof Events & string>(event: K, ...args: EmitArgs<Events[K]>): number;
  /** Listeners of one event, or of all events. */
  listenerCount(event?: keyof Events & string): number;
  /** Removes the listeners of one event, or of all events. */
  removeAllListeners(event?: keyof Events & string): void;
  /** How many listener calls threw or rejected since creation. */
  readonly listenerErrors: number;
  readonly maxListeners: number;
}

export interface TypedEmitterInit {
  /** Bound on listeners per event (default {@link DEFAULT_MAX_LISTENERS}). */
  maxListeners?: number;
  /** Told about each listener error (after it is counted). Its own errors are swallowed. */
  onListenerError?: (error: unknown, event: string) => void;
}

interface Entry {
  fn: Listener<unknown>;
  once: boolean;
}

/**
 * Creates a typed emitter.
 *
 * @example
 * interface DemoEvents { tick: { ticks: number }; stopped: undefined }
 * const events = createTypedEmitter<DemoEvents>();
 * const off = events.on('tick', ({ ticks }) => console.log(ticks));
 * events.emit('tick', { ticks: 1 });
 * events.emit('stopped');
 * off();
 */
export function createTypedEmitter<Events extends object>(init: TypedEmitterInit = {}): TypedEmitter<Events> {
  const maxListeners = init.maxListeners ?? DEFAULT_MAX_LISTENERS;
  if (!Number.isInteger(maxListeners) || maxListeners < 1) {
    throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `maxListeners ${String(maxListeners)} is not valid: expected integer >= 1`);
  }
  const onListenerError = init.onListenerError;
  const table = new Map<string, readonly Entry[]>();
  let listenerErrors = 0;

  const failed = (error: unknown, event: string): void => {
    listenerErrors++;
    if (onListenerError === undefined) return;
    try {
      onListenerError(error, event);
    } catch {
      // the error hook must not break emit either
    }
  };

  const add = (event: string, fn: Listener<unknown>, once: boolean): (() => void) => {
    if (typeof fn !== 'function') {
      throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `listener for "${event}" is not a function`);
    }
    const list = table.get(event) ?? [];
    if (list.length >= maxListeners) {
      throw new RuntimeError('RUNTIME_LISTENER_LIMIT', `event "${event}" already has ${list.length} listeners (max ${maxListeners})`, {
        details: { event, max: maxListeners },
      });
    }
    const entry: Entry = { fn, once };
    table.set(event, [...list, entry]);
    return () => {
      removeEntry(event, entry);
    };
  };

  const removeEntry = (event: string, entry: Entry): boolean => {
    const list = table.get(event);
    if (list === undefined) return false;
    const i = list.indexOf(entry);
    if (i < 0) return false;
    if (list.length === 1) table.delete(event);
    else table.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
    return true;
  };

  const emitter: TypedEmitter<Events> = {
    on: (event, listener) => add(event, listener as Listener<unknown>, false),
    once: (event, listener) => add(event, listener as Listener<unknown>, true),
    off(event, listener) {
      const entry = table.get(event)?.find((e) => e.fn === listener);
      return entry !== undefined && removeEntry(event, entry);
    },
    emit(event, ...args) {
      const list = table.get(event);
      if (list === undefined) return 0;
      const payload: unknown = args[0];
      for (const entry of list) {
        if (entry.once) removeEntry(event, entry);
        try {
          const result = entry.fn(payload);
          if (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
            (result as PromiseLike<unknown>).then(undefined, (error: unknown) => failed(error, event));
          }
        } catch (error) {
          failed(error, event);
        }
      }
      return list.length;
    },
    listenerCount(event) {
      if (event !== undefined) return table.get(event)?.length ?? 0;
      let n = 0;
      for (const list of table.values()) n += list.length;
      return n;
    },
    removeAllListeners(event) {
      if (event === undefined) table.clear();
      else table.delete(event);
    },
    get listenerErrors() {
      return listenerErrors;
    },
    maxListeners,
  };
  return emitter;
}
