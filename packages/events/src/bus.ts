/**
 * The event bus: publish is synchronous and O(subscribers) (a filter call and an O(1) queue
 * offer each, no await, no consumer code); every subscriber has its own bounded queue and
 * overflow policy, so a slow one loses only its own events (counted) and never blocks publish
 * or the others. A bounded history ring serves `since(cursor)` resume for SSE Last-Event-ID.
 *
 * Cursors: each bus numbers what it publishes 1, 2, 3 ... (`seq`) and names each entry
 * `<epoch>-<seq>`, where `epoch` is random per bus instance. A cursor from another epoch
 * (a restarted supervisor) cannot be positioned: `since` replays the whole ring and says the
 * replay is incomplete. Event ids stay what their source gave them (events.md §5).
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_BUFFER_SIZE, DEFAULT_HISTORY_SIZE, DEFAULT_MAX_SUBSCRIBERS, MAX_BUFFER_SIZE } from './constants.js';
import { EventsError, checkInt, invalidArgument } from './errors.js';
import { compileFilter, type FilterInput } from './filter.js';
import { createHistoryRing } from './history.js';
import type { EventV1 } from './schema.js';
import {
  OVERFLOW_POLICIES,
  Subscriber,
  type BusEntry,
  type EndReason,
  type OverflowPolicy,
  type Subscription,
  type SubscriptionStats,
} from './subscription.js';

/** Options of `createEventBus`. */
export interface EventBusInit {
  /** History ring entries for resume (default 1024; 0 keeps none). */
  historySize?: number;
  /** Subscribers at once (default 64); one more is EVENTS_SUBSCRIBER_LIMIT. */
  maxSubscribers?: number;
  /** Default per-subscriber queue length (default 256). */
  bufferSize?: number;
  /** Default overflow policy (default 'drop-oldest'). */
  overflow?: OverflowPolicy;
  /** Cursor epoch, `[a-z0-9]{1,16}` (default: 8 random hex digits). */
  epoch?: string;
}

/** Options of `subscribe`. */
export interface SubscribeInit {
  /** Which events (default: all). Compiled once here. */
  filter?: FilterInput;
  /** Queue length (default: the bus's). */
  bufferSize?: number;
  /** When the queue is full (default: the bus's). */
  overflow?: OverflowPolicy;
  /** Resume: first replay the matching history entries after this cursor (`"0"`: all of it). */
  since?: string;
  /** Aborting it ends the subscription (queued entries discarded). */
  signal?: AbortSignal;
  /** For stats and error messages. */
  name?: string;
}

/** Options of `listen`: subscribe options plus error handling. */
export interface ListenInit<E extends EventV1 = EventV1> extends SubscribeInit {
  /** A handler that threw or rejected (counted; the next entry is still delivered). */
  onError?: (err: unknown, entry: BusEntry<E>) => void;
}

/** What `listen` returns. */
export interface Listener<E extends EventV1 = EventV1> {
  readonly subscription: Subscription<E>;
  /** Handler calls that threw or rejected. */
  readonly errors: number;
  /** Resolves when delivery ends: why (overflow included; it never rejects). */
  readonly done: Promise<EndReason>;
  close(): void;
}

/** The result of `since`. */
export interface Replay<E extends EventV1 = EventV1> {
  /** Entries after the cursor, oldest first. */
  entries: BusEntry<E>[];
  /** False when some entries after the cursor are no longer held (or the cursor is foreign). */
  complete: boolean;
}

/** A snapshot of the bus's counters. */
export interface BusStats {
  epoch: string;
  /** Events published. */
  published: number;
  /** Seq of the last entry (= published). */
  lastSeq: number;
  /** Publish calls refused because the bus was closed. */
  rejectedClosed: number;
  subscribers: number;
  maxSubscribers: number;
  history: { size: number; capacity: number; oldestSeq: number; newestSeq: number };
  /** Entries dropped by every subscriber's overflow policy, closed subscribers included. */
  dropped: number;
  /** Subscribers cut off by overflow policy 'disconnect'. */
  disconnected: number;
  /** Filter functions that threw (the event counted as not matching). */
  filterErrors: number;
  subscriptions: SubscriptionStats[];
}

/** The event bus. */
export interface EventBus<E extends EventV1 = EventV1> {
  /** This instance's cursor epoch. */
  readonly epoch: string;
  readonly closed: boolean;
  /**
   * Deliver an event to every matching subscriber and the history; synchronous, never waits.
   * Returns its entry, or undefined when the bus is closed (counted, not thrown: a late
   * publisher during shutdown is not an error).
   */
  publish(event: E): BusEntry<E> | undefined;
  /** A subscription to iterate with `for await`. */
  subscribe(init?: SubscribeInit): Subscription<E>;
  /** The callback form: `handler` runs for each entry in order, awaited when it returns a promise. */
  listen(handler: (entry: BusEntry<E>) => void | Promise<void>, init?: ListenInit<E>): Listener<E>;
  /** History entries after a cursor (`"0"` or an unknown cursor: everything held). */
  since(cursor: string): Replay<E>;
  /** Everything in the history ring, oldest first. */
  history(): BusEntry<E>[];
  stats(): BusStats;
  /** End every subscription (each still yields what it had queued) and refuse new ones. Idempotent. */
  close(): void;
}

const EPOCH_RE = /^[a-z0-9]{1,16}$/;

/**
 * Split a cursor `<epoch>-<seq>` (or a bare `<seq>`, taken as this bus's epoch).
 * undefined when it does not parse.
 *
 * @example parseCursor('5f0c2e1a-42'); // { epoch: '5f0c2e1a', seq: 42 }
 */
export function parseCursor(cursor: string): { epoch: string | undefined; seq: number } | undefined {
  if (typeof cursor !== 'string' || cursor.length > 40) return undefined;
  const dash = cursor.lastIndexOf('-');
  const epoch = dash < 0 ? undefined : cursor.slice(0, dash);
  const digits = cursor.slice(dash + 1);
  if (!/^\d{1,16}$/.test(digits)) return undefined;
  if (epoch !== undefined && !EPOCH_RE.test(epoch)) return undefined;
  const seq = Number(digits);
  return Number.isSafeInteger(seq) ? { epoch, seq } : undefined;
}

function checkOverflow(field: string, value: unknown): OverflowPolicy {
  if (OVERFLOW_POLICIES.includes(value as OverflowPolicy)) return value as OverflowPolicy;
  throw invalidArgument(field, value, `one of ${OVERFLOW_POLICIES.join(', ')}`);
}

/**
 * Make an event bus.
 *
 * @example
 * const bus = createEventBus({ historySize: 1000 });
 * const sub = bus.subscribe({ filter: { source: 'bonding', kind: 'link.*' }, bufferSize: 128, overflow: 'drop-oldest' });
 * bus.publish(events.create({ kind: 'link.state', subject: 'wan1', states: { old: 'up', new: 'down' } }));
 * for await (const { id, event } of sub) console.log(id, event.kind);
 */
export function createEventBus<E extends EventV1 = EventV1>(init: EventBusInit = {}): EventBus<E> {
  const history = createHistoryRing<BusEntry<E>>(init.historySize ?? DEFAULT_HISTORY_SIZE);
  const maxSubscribers = checkInt('maxSubscribers', init.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS, 1, 1_000_000);
  const defaultBuffer = checkInt('bufferSize', init.bufferSize ?? DEFAULT_BUFFER_SIZE, 1, MAX_BUFFER_SIZE);
  const defaultOverflow = checkOverflow('overflow', init.overflow ?? 'drop-oldest');
  const epoch = init.epoch ?? randomBytes(4).toString('hex');
  if (typeof epoch !== 'string' || !EPOCH_RE.test(epoch)) throw invalidArgument('epoch', epoch, '1..16 characters of [a-z0-9]');

  const subscribers = new Set<Subscriber<E>>();
  let closed = false;
  let lastSeq = 0;
  let nextSubscriberId = 1;
  let rejectedClosed = 0;
  let filterErrors = 0;
  let droppedByEnded = 0;
  let disconnected = 0;

  // Counters of a subscriber outlive it in the bus totals.
  const detach = (sub: Subscriber<E>): void => {
    if (subscribers.delete(sub)) droppedByEnded += sub.dropped;
  };

  function since(cursor: string): Replay<E> {
    const parsed = parseCursor(cursor);
    if (parsed === undefined || (parsed.epoch !== undefined && parsed.epoch !== epoch)) {
      return { entries: history.toArray(), complete: false };
    }
    const { seq } = parsed;
    if (seq >= lastSeq) return { entries: [], complete: true };
    const slice = history.after(seq);
    // With an empty ring (historySize 0) nothing after seq is held: complete only if nothing was published after it.
    return { entries: slice.entries, complete: history.size === 0 ? seq >= lastSeq : slice.complete };
  }

  function subscribe(opts: SubscribeInit = {}): Subscription<E> {
    if (closed) throw new EventsError('EVENTS_BUS_CLOSED', 'bus is closed: expected subscribe() before close()');
    opts.signal?.throwIfAborted();
    if (subscribers.size >= maxSubscribers) {
      throw new EventsError('EVENTS_SUBSCRIBER_LIMIT', `subscribers ${subscribers.size + 1} > max ${maxSubscribers}`, {
        details: { field: 'maxSubscribers', value: subscribers.size + 1, max: maxSubscribers },
      });
    }
    const filter = compileFilter(opts.filter);
    const bufferSize = checkInt('bufferSize', opts.bufferSize ?? defaultBuffer, 1, MAX_BUFFER_SIZE);
    const overflow = checkOverflow('overflow', opts.overflow ?? defaultOverflow);
    let replay: BusEntry<E>[] = [];
    let replayComplete = true;
    if (opts.since !== undefined) {
      const r = since(opts.since);
      replay = r.entries.filter((entry) => safeMatch(filter, entry.event));
      replayComplete = r.complete;
    }
    const sub = new Subscriber<E>({
      id: nextSubscriberId++,
      name: opts.name,
      filter,
      bufferSize,
      overflow,
      replay,
      replayComplete,
      signal: opts.signal,
      onDetach: detach,
    });
    subscribers.add(sub);
    return sub;
  }

  function safeMatch(filter: (e: E) => boolean, event: E): boolean {
    try {
      return filter(event);
    } catch {
      filterErrors++;
      return false;
    }
  }

  function publish(event: E): BusEntry<E> | undefined {
    if (closed) {
      rejectedClosed++;
      return undefined;
    }
    const seq = ++lastSeq;
    const entry: BusEntry<E> = Object.freeze({ seq, id: `${epoch}-${seq}`, event });
    history.push(entry);
    for (const sub of subscribers) {
      if (!safeMatch(sub.filter, event)) continue;
      if (!sub.offer(entry)) {
        // Overflow with policy 'disconnect': the subscriber keeps what it queued, the bus lets go.
        disconnected++;
        detach(sub);
      }
    }
    return entry;
  }

  function listen(handler: (entry: BusEntry<E>) => void | Promise<void>, opts: ListenInit<E> = {}): Listener<E> {
    if (typeof handler !== 'function') throw invalidArgument('handler', handler, 'a function');
    const sub = subscribe(opts);
    let errors = 0;
    const pump = async (): Promise<EndReason> => {
      try {
        for await (const entry of sub) {
          try {
            await handler(entry);
          } catch (err) {
            errors++;
            opts.onError?.(err, entry);
          }
        }
      } catch {
        // EVENTS_SUBSCRIBER_OVERFLOW after the queued entries: reported through the reason.
      }
      return sub.endReason ?? 'closed';
    };
    const done = pump();
    return {
      subscription: sub,
      get errors() {
        return errors;
      },
      done,
      close: () => sub.close(),
    };
  }

  return {
    epoch,
    get closed() {
      return closed;
    },
    publish,
    subscribe,
    listen,
    since,
    history: () => history.toArray(),
    stats(): BusStats {
      let dropped = droppedByEnded;
      const subscriptions: SubscriptionStats[] = [];
      for (const sub of subscribers) {
        dropped += sub.dropped;
        subscriptions.push(sub.stats);
      }
      return {
        epoch,
        published: lastSeq,
        lastSeq,
        rejectedClosed,
        subscribers: subscribers.size,
        maxSubscribers,
        history: { size: history.size, capacity: history.capacity, oldestSeq: history.oldestSeq, newestSeq: history.newestSeq },
        dropped,
        disconnected,
        filterErrors,
        subscriptions,
      };
    },
    close(): void {
      if (closed) return;
      closed = true;
      for (const sub of [...subscribers]) sub.end('bus-closed', false);
      subscribers.clear();
    },
  };
}
