/**
 * The send scheduler in front of one outbound named stream: messages by priority under
 * back-pressure.
 *
 *   send(data, priority) ──▶ queue empty and the stream has room? ──yes──▶ seal + stream.send (now)
 *                                        │ no
 *                                        ▼
 *        [high] [normal] [low]   bounded: messages and bytes per priority (P2P_LIMIT when full)
 *                                        │  pump: while the stream has room, the oldest message
 *                                        ▼  of the highest non-empty priority
 *                                 seal + stream.send
 *
 * Sealing happens when a message is handed to the stream, so counters follow the order on
 * the wire whatever the priorities did. Within one priority, order is kept. A high-priority
 * message overtakes queued lower ones, never one already handed to the stream (libp2p's write
 * buffer holds at most about one yamux window: the queue only grows while the stream needs a
 * drain). Scope is one stream: separate named streams do not block each other (yamux
 * interleaves them), so head-of-line blocking, and so priority, is within a stream.
 */
import type { Stream } from '@libp2p/interface';
import { waitForDrain } from './drain.js';
import { P2pError } from './errors.js';
import { PRIORITIES } from './constants.js';

/** A send priority. */
export type Priority = (typeof PRIORITIES)[number];

/** Longest the pump waits for room before failing what is queued with P2P_LIMIT. */
export const SEND_ROOM_TIMEOUT_MS = 30_000;

interface Item {
  data: Uint8Array;
  flags: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** Set once settled (sent, failed or aborted): the pump skips it. */
  done: boolean;
}

/** Counters of one queue, added up by the network. */
export interface SendQueueCounters {
  queued: number;
  full: number;
}

/** What the queue needs from the network. */
export interface SendQueueComponents {
  /** The stream to send on (the current one: it may change after a reconnect). */
  stream(): Promise<Stream>;
  /** Seal `data` and hand it to `stream` (sync: throws when the session is gone). */
  hand(stream: Stream, data: Uint8Array, flags: number): void;
  counters: SendQueueCounters;
}

/** One stream's scheduler. */
export interface SendQueue {
  /** Resolves when the message was handed to the stream. */
  send(data: Uint8Array, flags: number, priority: Priority, signal?: AbortSignal): Promise<void>;
  /** Messages waiting, all priorities. */
  readonly size: number;
  /** Fail everything queued (session ended). */
  fail(err: unknown): void;
}

const PRIORITY_INDEX: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/**
 * Throw P2P_INVALID_ARGUMENT unless `p` is a priority; returns its index (0 = high).
 *
 * @example priorityIndex('high') // 0
 */
export function priorityIndex(p: unknown): number {
  const i = typeof p === 'string' ? PRIORITY_INDEX[p as Priority] : undefined;
  if (i === undefined) throw new P2pError('P2P_INVALID_ARGUMENT', `priority ${String(p)} is not one of ${PRIORITIES.join(', ')}`, { details: { field: 'priority' } });
  return i;
}

/**
 * A scheduler for one outbound stream: at most `maxMessages` and `maxBytes` queued per priority.
 *
 * @example
 * const q = createSendQueue({ maxMessages: 1024, maxBytes: 8 << 20, maxBufferedBytes: 8 << 20 }, { stream, hand, counters });
 * await q.send(bytes, 0, 'high');
 */
export function createSendQueue(init: { maxMessages: number; maxBytes: number; maxBufferedBytes: number }, components: SendQueueComponents): SendQueue {
  const queues: Item[][] = [[], [], []];
  const bytes = [0, 0, 0];
  let size = 0;
  let pumping = false;

  /** An empty buffer always takes one message, even one bigger than the cap (else it could never leave). */
  function hasRoom(s: Stream, n: number): boolean {
    return !s.writableNeedsDrain && (s.writeBufferLength === 0 || s.writeBufferLength + n <= init.maxBufferedBytes);
  }

  function next(): Item | undefined {
    for (let p = 0; p < 3; p++) {
      const q = queues[p]!;
      while (q.length > 0) {
        const item = q.shift()!;
        bytes[p]! -= item.data.length;
        size--;
        if (!item.done) return item;
      }
    }
    return undefined;
  }

  function fail(err: unknown): void {
    for (let p = 0; p < 3; p++) {
      for (const item of queues[p]!) {
        if (item.done) continue;
        item.done = true;
        item.reject(err);
      }
      queues[p] = [];
      bytes[p] = 0;
    }
    size = 0;
  }

  async function pump(): Promise<void> {
    pumping = true;
    try {
      while (size > 0) {
        const s = await components.stream();
        if (!hasRoom(s, 0)) {
          if (s.writeStatus !== 'writable') throw new P2pError('P2P_NOT_CONNECTED', `stream ${s.protocol ?? ''} is ${s.writeStatus}`);
          if (s.writableNeedsDrain) await waitForDrain(s, AbortSignal.timeout(SEND_ROOM_TIMEOUT_MS));
          else await new Promise((resolve) => setTimeout(resolve, 5)); // over our byte cap, not yet sending: poll
          continue;
        }
        // Hand out what fits until the stream needs a drain (one await per drain, not per message).
        while (size > 0 && hasRoom(s, 0)) {
          const item = next(); // hasRoom(s, 0): a message bigger than what is left may overshoot the cap once
          if (item === undefined) break;
          item.done = true;
          try {
            components.hand(s, item.data, item.flags);
            item.resolve();
          } catch (err) {
            item.reject(err);
          }
        }
      }
    } catch (err) {
      fail(err instanceof P2pError ? err : new P2pError('P2P_LIMIT', `no room on the stream: ${(err as Error).message}`, { cause: err }));
    } finally {
      pumping = false;
    }
  }

  return {
    get size() {
      return size;
    },
    fail,
    async send(data, flags, priority, signal) {
      const p = priorityIndex(priority);
      signal?.throwIfAborted();
      const s = await components.stream();
      if (size === 0 && !pumping && hasRoom(s, data.length)) {
        components.hand(s, data, flags);
        return;
      }
      // An empty priority queue takes one message of any size (a message over the byte cap must still be sendable).
      if (queues[p]!.length >= init.maxMessages || (queues[p]!.length > 0 && bytes[p]! + data.length > init.maxBytes)) {
        components.counters.full++;
        throw new P2pError('P2P_LIMIT', `send queue (${priority}) of ${s.protocol ?? 'stream'} full: ${queues[p]!.length} messages, ${bytes[p]} bytes (max ${init.maxMessages}, ${init.maxBytes})`, {
          details: { priority, messages: queues[p]!.length, bytes: bytes[p] },
        });
      }
      components.counters.queued++;
      const done = new Promise<void>((resolve, reject) => {
        const item: Item = { data, flags, resolve, reject, done: false };
        if (signal !== undefined) {
          const onAbort = (): void => {
            if (item.done) return;
            item.done = true; // stays in the array until the pump passes it (bounded by the caps)
            reject(signal.reason);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          const settle = (): void => signal.removeEventListener('abort', onAbort);
          item.resolve = () => {
            settle();
            resolve();
          };
          item.reject = (err) => {
            settle();
            reject(err);
          };
        }
        queues[p]!.push(item);
        bytes[p]! += data.length;
        size++;
      });
      if (!pumping) void pump();
      return done;
    },
  };
}
