/**
 * One subscriber of the bus: a filter, a bounded queue with an overflow policy, a replay
 * snapshot (resume), and the async-iterator end the consumer reads.
 *
 * Back-pressure: the bus calls `offer()` synchronously from publish. `offer` never waits and
 * never runs consumer code: it hands the entry to a parked `next()` (resolving its promise,
 * which runs later as a microtask) or stores it in the fixed ring. A full ring applies the
 * policy: drop-oldest overwrites, drop-newest refuses, disconnect stops accepting. Either way
 * the cost is O(1) and only this subscriber loses events (counted in `dropped`).
 *
 *   queue (bufferSize 4):  [ e7 | e8 | e5 | e6 ]   head → e5; drop-oldest on e9 overwrites e5
 */
import { EventsError } from './errors.js';
import type { EventFilter } from './filter.js';
import type { EventV1 } from './schema.js';

/** What a subscriber does when its queue is full. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'disconnect';

/** Overflow policies. */
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest', 'disconnect'];

/** Why a subscription stopped taking events. */
export type EndReason = 'closed' | 'bus-closed' | 'overflow' | 'aborted';

/** An event as the bus delivers it: with its place in this bus's sequence. */
export interface BusEntry<E extends EventV1 = EventV1> {
  /** Bus sequence number: 1, 2, 3 ... per bus, contiguous over everything published. */
  readonly seq: number;
  /** Resume cursor `<epoch>-<seq>`: the SSE `id:` and what `since()` takes back. */
  readonly id: string;
  readonly event: E;
}

/** A snapshot of one subscription's counters. */
export interface SubscriptionStats {
  id: number;
  name: string | undefined;
  bufferSize: number;
  overflow: OverflowPolicy;
  /** Entries waiting in the queue (not counting the replay). */
  queued: number;
  /** Replay entries not yet read. */
  replayPending: number;
  /** Entries handed to the consumer. */
  delivered: number;
  /** Entries this subscriber lost to its overflow policy. */
  dropped: number;
  /** undefined while open. */
  endReason: EndReason | undefined;
}

/**
 * A subscription: an async iterator of BusEntry (one consumer), ended by `close()`, the bus
 * closing, its signal, or overflow (policy `disconnect`: the queued entries are delivered,
 * then `next()` rejects with EVENTS_SUBSCRIBER_OVERFLOW).
 */
export interface Subscription<E extends EventV1 = EventV1> extends AsyncIterableIterator<BusEntry<E>> {
  readonly id: number;
  readonly name: string | undefined;
  /** Resume result: entries replayed from history and whether any were missing (a gap). */
  readonly replay: { count: number; complete: boolean };
  /** Why it stopped taking events, or undefined while open. */
  readonly endReason: EndReason | undefined;
  /** Resolves with the end reason as soon as it stops taking events (entries may still be queued). */
  readonly ended: Promise<EndReason>;
  /** Counters (a fresh snapshot per read). */
  readonly stats: SubscriptionStats;
  /** Stop now: queued entries are discarded, a pending `next()` resolves done. Idempotent. */
  close(): void;
  /** Like close(): what `break` in a `for await` calls. */
  return(): Promise<IteratorResult<BusEntry<E>>>;
}

const DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as IteratorResult<never>;

/** @internal The bus-side view of a subscription. */
export class Subscriber<E extends EventV1> implements Subscription<E> {
  readonly id: number;
  readonly name: string | undefined;
  readonly filter: EventFilter;
  readonly bufferSize: number;
  readonly overflow: OverflowPolicy;
  replay: { count: number; complete: boolean };
  endReason: EndReason | undefined = undefined;
  delivered = 0;
  dropped = 0;

  private readonly ring: (BusEntry<E> | undefined)[];
  private head = 0;
  private length = 0;
  private replayEntries: BusEntry<E>[] | undefined;
  private replayIndex = 0;
  private waiter: ((r: IteratorResult<BusEntry<E>>) => void) | undefined = undefined;
  private waiterReject: ((err: unknown) => void) | undefined = undefined;
  private failure: EventsError | undefined = undefined;
  private finished = false;
  private readonly onDetach: (sub: Subscriber<E>) => void;
  private readonly onAbort: (() => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private resolveEnded!: (reason: EndReason) => void;
  readonly ended: Promise<EndReason> = new Promise((resolve) => {
    this.resolveEnded = resolve;
  });

  constructor(init: {
    id: number;
    name: string | undefined;
    filter: EventFilter;
    bufferSize: number;
    overflow: OverflowPolicy;
    replay: BusEntry<E>[];
    replayComplete: boolean;
    signal: AbortSignal | undefined;
    onDetach: (sub: Subscriber<E>) => void;
  }) {
    this.id = init.id;
    this.name = init.name;
    this.filter = init.filter;
    this.bufferSize = init.bufferSize;
    this.overflow = init.overflow;
    this.ring = new Array<BusEntry<E> | undefined>(init.bufferSize).fill(undefined);
    this.replayEntries = init.replay.length > 0 ? init.replay : undefined;
    this.replay = { count: init.replay.length, complete: init.replayComplete };
    this.onDetach = init.onDetach;
    this.signal = init.signal;
    if (init.signal !== undefined) {
      this.onAbort = () => this.end('aborted', true);
      init.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  get stats(): SubscriptionStats {
    return {
      id: this.id,
      name: this.name,
      bufferSize: this.bufferSize,
      overflow: this.overflow,
      queued: this.length,
      replayPending: this.replayEntries === undefined ? 0 : this.replayEntries.length - this.replayIndex,
      delivered: this.delivered,
      dropped: this.dropped,
      endReason: this.endReason,
    };
  }

  /**
   * Called by publish for a matching entry. Returns false when this subscriber must be
   * removed from the bus (it just overflowed with policy 'disconnect').
   */
  offer(entry: BusEntry<E>): boolean {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      // A parked next(): the queue and replay are empty by construction.
      this.waiter = undefined;
      this.waiterReject = undefined;
      this.delivered++;
      waiter({ value: entry, done: false });
      return true;
    }
    if (this.length < this.bufferSize) {
      this.ring[(this.head + this.length) % this.bufferSize] = entry;
      this.length++;
      return true;
    }
    this.dropped++;
    if (this.overflow === 'drop-oldest') {
      this.ring[this.head] = entry;
      this.head = (this.head + 1) % this.bufferSize;
      return true;
    }
    if (this.overflow === 'drop-newest') return true;
    this.failure = new EventsError(
      'EVENTS_SUBSCRIBER_OVERFLOW',
      `subscriber ${this.name ?? this.id} queue ${this.bufferSize} is full: expected a consumer that keeps up (policy disconnect)`,
      { details: { subscriber: this.id, name: this.name, bufferSize: this.bufferSize, dropped: this.dropped } },
    );
    this.end('overflow', false, false);
    return false;
  }

  /**
   * Stop taking events. `discard`: drop what is queued (consumer close, abort); otherwise the
   * consumer still reads what is queued (bus close, overflow). `detach`: tell the bus.
   */
  end(reason: EndReason, discard: boolean, detach = true): void {
    if (this.endReason === undefined) {
      this.endReason = reason;
      if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort);
      if (detach) this.onDetach(this);
      this.resolveEnded(reason);
    }
    if (discard) {
      this.ring.fill(undefined);
      this.length = 0;
      this.replayEntries = undefined;
      this.failure = undefined;
    }
    const waiter = this.waiter;
    if (waiter !== undefined) {
      // Parked: nothing queued. Wake it with the end.
      this.waiter = undefined;
      const reject = this.waiterReject!;
      this.waiterReject = undefined;
      const failure = this.failure;
      this.finished = true;
      this.failure = undefined;
      if (failure !== undefined) reject(failure);
      else waiter(DONE);
    }
  }

  next(): Promise<IteratorResult<BusEntry<E>>> {
    const replay = this.replayEntries;
    if (replay !== undefined) {
      const entry = replay[this.replayIndex++]!;
      if (this.replayIndex >= replay.length) this.replayEntries = undefined;
      this.delivered++;
      return Promise.resolve({ value: entry, done: false });
    }
    if (this.length > 0) {
      const entry = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.bufferSize;
      this.length--;
      this.delivered++;
      return Promise.resolve({ value: entry, done: false });
    }
    if (this.endReason === undefined) {
      if (this.waiter !== undefined) {
        return Promise.reject(new EventsError('EVENTS_INVALID_ARGUMENT', 'subscription next() is already pending: expected one consumer that awaits each next()'));
      }
      return new Promise((resolve, reject) => {
        this.waiter = resolve;
        this.waiterReject = reject;
      });
    }
    if (!this.finished) {
      this.finished = true;
      const failure = this.failure;
      this.failure = undefined;
      if (failure !== undefined) return Promise.reject(failure);
    }
    return Promise.resolve(DONE);
  }

  close(): void {
    this.end('closed', true);
  }

  return(): Promise<IteratorResult<BusEntry<E>>> {
    this.close();
    this.finished = true;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
