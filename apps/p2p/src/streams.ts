/**
 * Named streams (docs/protocols/p2p.md §4): `/edgebox/p2p/stream/<name>/1`.
 *
 * Receive, in order:
 *   1. chunk from the yamux stream (`for await`)
 *   2. framing decoder: whole MESSAGE frames, size-limited (a framing error ends this stream:
 *      the byte stream cannot be resynchronised)
 *   3. per-peer token bucket: over the rate, drop and count
 *   4. session.open(): malformed / replayed / bad-auth are dropped, counted and reported to
 *      the decryption-error callback; the stream goes on
 *   5. deliver to the message feed (ack-requested messages: duplicate ids dropped, ACK sent
 *      back on the same stream; network.ts)
 *
 * Send (network.ts, send-queue.ts): priority queue → seal (sync, so counters follow the wire
 * order) → `stream.send()`. sendFrame() below is the plain path without a queue: when send() returns false,
 * the caller waits for `drain` (waitForDrain, not libp2p's onDrain(): see drain.ts); over the
 * buffer cap the caller waits for the buffer to
 * empty, and too many waiting callers get P2P_LIMIT instead of growing memory.
 */
import type { Stream } from '@libp2p/interface';
import { createStreamDecoder, isFramingError, type StreamFrame } from '@edgebox/framing';
import type { RateLimiter } from '@edgebox/peers';
import { AEAD_TAG_BYTES, FLAG_ACK_REQUESTED, MESSAGE_COUNTER_BYTES, MESSAGE_ID_BYTES, STREAM_NAME_PATTERN, STREAM_PROTOCOL_PREFIX, STREAM_PROTOCOL_SUFFIX, TYPE_MESSAGE } from './constants.js';
import { waitForDrain } from './drain.js';
import { P2pError } from './errors.js';
import { OPEN_OK, OPEN_RESULT_NAMES, type Session } from './session.js';

/**
 * Throw P2P_INVALID_STREAM_NAME unless `name` is a valid stream name.
 *
 * @example checkStreamName('chat'); // ok; checkStreamName('Chat/1') throws
 */
export function checkStreamName(name: unknown): asserts name is string {
  if (typeof name === 'string' && STREAM_NAME_PATTERN.test(name)) return;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : String(name);
  throw new P2pError('P2P_INVALID_STREAM_NAME', `stream name ${shown} is not 1..64 characters of [a-z0-9._-] starting with [a-z0-9]`, {
    details: { expected: String(STREAM_NAME_PATTERN) },
  });
}

/**
 * The libp2p protocol id of a stream name.
 *
 * @example streamProtocol('chat') // '/edgebox/p2p/stream/chat/1'
 */
export function streamProtocol(name: string): string {
  checkStreamName(name);
  return `${STREAM_PROTOCOL_PREFIX}${name}${STREAM_PROTOCOL_SUFFIX}`;
}

/** Why a received frame was dropped, as the decryption-error callback sees it. */
export type DropReason = 'malformed' | 'bad-auth' | 'replayed' | 'rate-limited' | 'framing' | 'no-session';

/** What the decryption-error callback receives. */
export interface DecryptError {
  readonly peer: string;
  readonly stream: string;
  readonly reason: DropReason;
}

/** What a receive loop needs: the session (looked up per frame: it may be replaced), limits, sinks. */
export interface ReceiveContext {
  readonly peer: string;
  readonly stream: string;
  session(): Session | undefined;
  readonly rateLimiter: RateLimiter;
  /** An opened message; `flags` as sent (FLAG_ACK_REQUESTED: `data` starts with the message id). */
  deliver(data: Uint8Array, flags: number): void;
  dropped(reason: DropReason): void;
}

/** Max payload of a MESSAGE frame for a plaintext limit (room for an ack-requested message's id). */
export function maxFramePayload(maxMessageBytes: number): number {
  return maxMessageBytes + MESSAGE_COUNTER_BYTES + AEAD_TAG_BYTES + MESSAGE_ID_BYTES;
}

function onFrame(frame: StreamFrame, ctx: ReceiveContext): void {
  if (!ctx.rateLimiter.tryTake(ctx.peer)) {
    ctx.dropped('rate-limited');
    return;
  }
  const session = ctx.session();
  if (session === undefined) {
    ctx.dropped('no-session');
    return;
  }
  const r = session.open(ctx.stream, frame.type, frame.flags, frame.channel, frame.payload);
  if (r === OPEN_OK) ctx.deliver(session.opened, frame.flags);
  else ctx.dropped(OPEN_RESULT_NAMES[r] as DropReason);
}

/**
 * Read one inbound named stream until it ends (steps 1-5 above). Never throws: a framing error
 * aborts the stream and is reported as `framing`.
 *
 * @example void receiveStream(stream, ctx, maxMessageBytes);
 */
export async function receiveStream(stream: Stream, ctx: ReceiveContext, maxMessageBytes: number): Promise<void> {
  const decoder = createStreamDecoder({ maxPayload: maxFramePayload(maxMessageBytes), knownTypes: new Map([[TYPE_MESSAGE, FLAG_ACK_REQUESTED]]) });
  try {
    for await (const chunk of stream) {
      // A Uint8ArrayList's subarray() concatenates (a copy of every byte); the decoder takes
      // the pieces as they are and copies a frame only when it spans pieces.
      if (chunk instanceof Uint8Array) decoder.decode(chunk, onFrame, ctx);
      else for (const piece of chunk) decoder.decode(piece, onFrame, ctx);
    }
    decoder.end();
  } catch (err) {
    if (isFramingError(err)) {
      ctx.dropped('framing');
      stream.abort(new P2pError('P2P_INVALID_ARGUMENT', `stream ${ctx.stream} from ${ctx.peer}: ${(err as Error).message}`));
    }
    // Anything else is the stream ending under us (reset, connection closed): nothing to do.
  } finally {
    decoder.close();
  }
}

/** Senders waiting for room on one stream before send() refuses with P2P_LIMIT. */
export const MAX_WAITING_SENDERS = 64;

const waiting = new WeakMap<Stream, number>();

/** Longest a sender waits for room before P2P_LIMIT. */
export const SEND_ROOM_TIMEOUT_MS = 30_000;

/**
 * Wait until the stream's write buffer has room. A buffer holding bytes always has a `drain`
 * (window update, muxer drain) or `idle` (emptied) coming; the 5 ms poll only covers a buffer
 * over the cap that the stream has not yet tried to send. Only a sender over the cap (8 MiB
 * unsent) ever gets here.
 */
async function waitForRoom(stream: Stream, need: number, maxBufferedBytes: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + SEND_ROOM_TIMEOUT_MS;
  while (stream.writeBufferLength > 0 && stream.writeBufferLength + need > maxBufferedBytes) {
    signal?.throwIfAborted();
    if (stream.writeStatus !== 'writable' || performance.now() > deadline) {
      throw new P2pError('P2P_LIMIT', `stream write buffer ${stream.writeBufferLength} + ${need} > max ${maxBufferedBytes} (stream ${stream.writeStatus})`, {
        details: { protocol: stream.protocol },
      });
    }
    if (stream.writableNeedsDrain) await waitForDrain(stream, signal ?? AbortSignal.timeout(SEND_ROOM_TIMEOUT_MS));
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Send one sealed frame on an outbound stream with back-pressure: while the stream holds more
 * than `maxBufferedBytes` unsent, wait for it to drain (at most MAX_WAITING_SENDERS callers wait
 * per stream; beyond, P2P_LIMIT). libp2p's own write buffer has no bound: this is it.
 *
 * @example await sendFrame(stream, session.seal('chat', data), 8 << 20, signal);
 */
export async function sendFrame(stream: Stream, frame: Uint8Array, maxBufferedBytes: number, signal?: AbortSignal): Promise<void> {
  if (stream.writeBufferLength > 0 && stream.writeBufferLength + frame.length > maxBufferedBytes) {
    const n = waiting.get(stream) ?? 0;
    if (n >= MAX_WAITING_SENDERS) {
      throw new P2pError('P2P_LIMIT', `senders waiting on stream ${stream.protocol ?? ''} ${n} >= max ${MAX_WAITING_SENDERS}`, { details: { protocol: stream.protocol } });
    }
    waiting.set(stream, n + 1);
    try {
      await waitForRoom(stream, frame.length, maxBufferedBytes, signal);
    } finally {
      waiting.set(stream, (waiting.get(stream) ?? 1) - 1);
    }
  }
  if (!stream.send(frame)) await waitForDrain(stream, signal);
}
