/**
 * Serve a bus as a Server-Sent Events stream on a Node HTTP response (node:http, or the raw
 * response under fastify/NestJS): `GET /api/v1/events` in netevd and the supervisor.
 *
 *   subscribe (filter, resume from Last-Event-ID)  →  200 text/event-stream, retry hint
 *   → replayed entries, then live ones, one write each  →  heartbeat comments when idle
 *   → ends on client close, bus close, abort, or overflow
 *
 * Back-pressure: when `write()` returns false the loop waits for 'drain'; meanwhile the
 * subscription's bounded queue absorbs events and its policy decides (default 'disconnect':
 * the client gets everything up to the cut, the stream ends, and the client's reconnect with
 * Last-Event-ID resumes from the history ring). The bus itself never waits for a client.
 */
import { DEFAULT_SSE_HEARTBEAT_MS, DEFAULT_SSE_RETRY_MS } from './constants.js';
import type { EventBus } from './bus.js';
import { checkInt, isEventsError } from './errors.js';
import { encodeSseEvent, sseComment, sseRetry } from './encode.js';
import type { FilterInput } from './filter.js';
import type { EventV1 } from './schema.js';
import type { EndReason, OverflowPolicy } from './subscription.js';

/** The part of `http.ServerResponse` the stream uses. */
export interface SseResponse {
  write(chunk: string): boolean;
  end(): unknown;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
  writeHead?(status: number, headers: Record<string, string>): unknown;
  flushHeaders?(): void;
  readonly headersSent?: boolean;
  readonly writableEnded?: boolean;
  readonly destroyed?: boolean;
}

/** Options of `serveSse`. */
export interface ServeSseInit<E extends EventV1 = EventV1> {
  bus: EventBus<E>;
  response: SseResponse;
  /** The client's Last-Event-ID (see `lastEventIdFrom`): resume after it. */
  lastEventId?: string;
  filter?: FilterInput;
  /** Heartbeat comment interval, ms (default 15000; 0: none). */
  heartbeatMs?: number;
  /** `retry:` hint, ms (default 3000). */
  retryMs?: number;
  /** Subscriber queue length (default: the bus's). */
  bufferSize?: number;
  /** Default 'disconnect' (the client resumes from history after reconnecting). */
  overflow?: OverflowPolicy;
  /** The `event:` line: the kind (default) or none. */
  eventField?: 'kind' | 'none';
  /** Ends the stream (server shutdown). */
  signal?: AbortSignal;
  /** Subscriber name in bus stats. */
  name?: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** How a stream ended. */
export interface SseStreamResult {
  reason: EndReason | 'client-closed';
  /** Events written. */
  sent: number;
  /** Events this client lost to its queue policy. */
  dropped: number;
  /** Events replayed from history at the start. */
  replayed: number;
  /** False when the resume could not be complete (history no longer held all missed events). */
  complete: boolean;
}

/**
 * The Last-Event-ID request header (a reconnecting EventSource sends it), or undefined.
 *
 * @example const lastEventId = lastEventIdFrom(req.headers) ?? url.searchParams.get('lastEventId') ?? undefined;
 */
export function lastEventIdFrom(headers: Readonly<Record<string, string | readonly string[] | undefined>>): string | undefined {
  const v = headers['last-event-id'];
  const id = typeof v === 'string' ? v : v?.[0];
  return id === undefined || id === '' ? undefined : id;
}

/**
 * Stream bus events to one SSE client until it goes away; resolves (never rejects after the
 * stream started) with how it ended. Subscribing happens first and synchronously with the
 * call: EVENTS_SUBSCRIBER_LIMIT, EVENTS_BUS_CLOSED or a filter's EVENTS_FILTER_SYNTAX reject
 * the promise before any byte is written, so the caller can still answer 4xx/5xx.
 *
 * @example
 * http.createServer((req, res) => {
 *   const url = new URL(req.url!, 'http://localhost');
 *   void serveSse({ bus, response: res, lastEventId: lastEventIdFrom(req.headers),
 *     filter: filterFromQuery(url.searchParams) }).catch((err) => { res.statusCode = 400; res.end(String(err)); });
 * });
 */
export async function serveSse<E extends EventV1 = EventV1>(init: ServeSseInit<E>): Promise<SseStreamResult> {
  const { bus, response: res } = init;
  const heartbeatMs = checkInt('heartbeatMs', init.heartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS, 0, 2_147_483_647);
  const retryMs = checkInt('retryMs', init.retryMs ?? DEFAULT_SSE_RETRY_MS, 0, 2_147_483_647);
  const sub = bus.subscribe({
    filter: init.filter,
    bufferSize: init.bufferSize,
    overflow: init.overflow ?? 'disconnect',
    since: init.lastEventId,
    signal: init.signal,
    name: init.name ?? 'sse',
  });

  let clientClosed = false;
  let drainWaiter: (() => void) | undefined;
  const onClose = (): void => {
    clientClosed = true;
    sub.close();
    drainWaiter?.();
  };
  const onDrain = (): void => drainWaiter?.();
  res.on('close', onClose);
  res.on('drain', onDrain);
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let sent = 0;

  try {
    if (res.headersSent !== true && res.writeHead !== undefined) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        ...init.headers,
      });
      res.flushHeaders?.();
    }
    let head = sseRetry(retryMs);
    if (init.lastEventId !== undefined && !sub.replay.complete) head += sseComment(`resume incomplete: events after ${init.lastEventId} were no longer all held`);
    res.write(head);
    if (heartbeatMs > 0) {
      heartbeat = setInterval(() => {
        // Not while waiting for drain: a stalled client must not accumulate heartbeats.
        if (!clientClosed && drainWaiter === undefined) res.write(sseComment('heartbeat'));
      }, heartbeatMs);
      heartbeat.unref?.();
    }
    const eventField = init.eventField ?? 'kind';
    for await (const entry of sub) {
      if (clientClosed || res.destroyed === true) break;
      sent++;
      if (!res.write(encodeSseEvent(entry, { eventField })) && !clientClosed && sub.endReason === undefined) {
        // Wait for drain, the client going, or the subscription ending (overflow while we
        // wait: what is left is at most bufferSize entries, written without waiting).
        await Promise.race([
          new Promise<void>((resolve) => {
            drainWaiter = resolve;
          }),
          sub.ended,
        ]);
        drainWaiter = undefined;
      }
    }
  } catch (err) {
    // EVENTS_SUBSCRIBER_OVERFLOW: the client fell too far behind; it reconnects and resumes.
    /* c8 ignore next */
    if (!isEventsError(err, 'EVENTS_SUBSCRIBER_OVERFLOW')) throw err;
  } finally {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    res.off('close', onClose);
    res.off('drain', onDrain);
    sub.close();
    if (res.writableEnded !== true && !clientClosed) res.end();
  }
  const stats = sub.stats;
  return {
    reason: clientClosed ? 'client-closed' : (sub.endReason ?? 'closed'),
    sent,
    dropped: stats.dropped,
    replayed: sub.replay.count,
    complete: sub.replay.complete,
  };
}
