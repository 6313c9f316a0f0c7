/**
 * The inbound message feed: a bounded queue per subscriber, read with `for await`. When a
 * subscriber falls behind by `capacity` messages the oldest is dropped and counted: a slow
 * reader must not grow memory without limit nor stall the stream loops that deliver.
 */

/** A message received on a named stream. */
export interface P2pMessage {
  /** Sender's peer id. */
  readonly peer: string;
  /** Stream name. */
  readonly stream: string;
  /** The plaintext; owned by the receiver. */
  readonly data: Uint8Array;
  /** Wall-clock ms at delivery. */
  readonly receivedAt: number;
}

/** One reader of the feed. */
export interface MessageSubscription extends AsyncIterable<P2pMessage> {
  /** Messages dropped because this reader was `capacity` behind. */
  readonly dropped: number;
  /** Stop reading: pending iterations end. */
  close(): void;
}

/** Fan-out of delivered messages to subscribers. */
export interface MessageFeed {
  readonly subscribers: number;
  /** Messages dropped for slow subscribers, all subscribers together (closed ones included). */
  readonly dropped: number;
  /** Deliver to every subscriber (synchronous, never waits). */
  push(message: P2pMessage): void;
  /** A subscription, optionally for some streams / peers only. */
  subscribe(init?: { capacity?: number; streams?: readonly string[]; peers?: readonly string[]; signal?: AbortSignal }): MessageSubscription;
  /** End every subscription. */
  close(): void;
}

interface Sub {
  queue: P2pMessage[];
  head: number;
  capacity: number;
  dropped: number;
  closed: boolean;
  wake: (() => void) | undefined;
  streams: ReadonlySet<string> | undefined;
  peers: ReadonlySet<string> | undefined;
}

/**
 * Create a feed whose subscribers each hold at most `capacity` undelivered messages.
 *
 * @example
 * const feed = createMessageFeed(4096);
 * for await (const m of feed.subscribe({ streams: ['chat'] })) console.log(m.peer, m.data);
 */
export function createMessageFeed(defaultCapacity: number): MessageFeed {
  const subs = new Set<Sub>();
  let dropped = 0;
  const end = (s: Sub): void => {
    s.closed = true;
    subs.delete(s);
    s.wake?.();
  };
  return {
    get subscribers() {
      return subs.size;
    },
    get dropped() {
      return dropped;
    },
    push(message) {
      for (const s of subs) {
        if (s.streams !== undefined && !s.streams.has(message.stream)) continue;
        if (s.peers !== undefined && !s.peers.has(message.peer)) continue;
        if (s.queue.length - s.head >= s.capacity) {
          s.head++;
          s.dropped++;
          dropped++;
        }
        s.queue.push(message);
        s.wake?.();
      }
    },
    subscribe(init = {}) {
      const s: Sub = {
        queue: [],
        head: 0,
        capacity: init.capacity ?? defaultCapacity,
        dropped: 0,
        closed: false,
        wake: undefined,
        streams: init.streams === undefined ? undefined : new Set(init.streams),
        peers: init.peers === undefined ? undefined : new Set(init.peers),
      };
      subs.add(s);
      init.signal?.addEventListener('abort', () => end(s), { once: true });
      return {
        get dropped() {
          return s.dropped;
        },
        close: () => end(s),
        async *[Symbol.asyncIterator]() {
          try {
            for (;;) {
              if (s.head < s.queue.length) {
                const m = s.queue[s.head++]!;
                // Compact once the consumed prefix is large: amortised O(1), bounded memory.
                if (s.head > 1024 && s.head * 2 > s.queue.length) {
                  s.queue = s.queue.slice(s.head);
                  s.head = 0;
                }
                yield m;
                continue;
              }
              if (s.closed) return;
              await new Promise<void>((resolve) => (s.wake = resolve));
              s.wake = undefined;
            }
          } finally {
            end(s);
          }
        },
      };
    },
    close() {
      for (const s of [...subs]) end(s);
    },
  };
}
