/**
 * Writers for the two text encodings of events (events.md §7, §8):
 *
 * - Server-Sent Events (HTML Living Standard §9.2): `id:` = the bus cursor (so a reconnecting
 *   client's Last-Event-ID resumes), `event:` = the event kind, `data:` = the event JSON;
 *   multi-line data is split into one `data:` line per line, `retry:` hints the reconnect
 *   delay, comment lines (`: heartbeat`) keep idle connections and proxies alive.
 * - JSON lines: one event JSON per line, `\n`-terminated (JSON.stringify never emits a raw
 *   newline), for IPC pipes, logs and `events --follow --json`.
 */
import { invalidArgument } from './errors.js';
import type { EventV1 } from './schema.js';
import type { BusEntry } from './subscription.js';

/** One SSE message; every field optional. */
export interface SseMessage {
  /** `id:`; no CR, LF or NUL. */
  id?: string;
  /** `event:` (the type a browser EventSource dispatches); no CR or LF. */
  event?: string;
  /** `data:`; any text, line breaks included. */
  data?: string;
  /** `retry:` reconnect delay, ms. */
  retry?: number;
  /** Comment lines (`: text`), ignored by clients. */
  comment?: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

function checkField(field: string, value: string, allowNul: boolean): void {
  if (typeof value !== 'string' || /[\r\n]/.test(value) || (!allowNul && value.includes('\0'))) {
    throw invalidArgument(`sse ${field}`, value, allowNul ? 'a string without CR or LF' : 'a string without CR, LF or NUL');
  }
}

/**
 * Format one SSE message, ending with the blank line that dispatches it.
 *
 * @example
 * formatSse({ id: 'a1b2-7', event: 'link.state', data: 'line one\nline two' });
 * // 'id: a1b2-7\nevent: link.state\ndata: line one\ndata: line two\n\n'
 */
export function formatSse(message: SseMessage): string {
  let out = '';
  if (message.comment !== undefined) {
    for (const line of String(message.comment).split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`;
  }
  if (message.retry !== undefined) {
    if (!Number.isSafeInteger(message.retry) || message.retry < 0) throw invalidArgument('sse retry', message.retry, 'a non-negative integer');
    out += `retry: ${message.retry}\n`;
  }
  if (message.id !== undefined) {
    checkField('id', message.id, false);
    out += `id: ${message.id}\n`;
  }
  if (message.event !== undefined) {
    checkField('event', message.event, true);
    out += `event: ${message.event}\n`;
  }
  if (message.data !== undefined) {
    for (const line of String(message.data).split(LINE_BREAK)) out += `data: ${line}\n`;
  }
  return `${out}\n`;
}

/** Options of `encodeSseEvent`. */
export interface SseEventOptions {
  /**
   * The `event:` line: `'kind'` (default: EventSource clients listen per kind with
   * `addEventListener('link.state', ...)`) or `'none'` (no line: clients use `onmessage`).
   */
  eventField?: 'kind' | 'none';
}

/**
 * One bus entry as an SSE message: `id: <cursor>`, `event: <kind>`, `data: <event JSON>`.
 *
 * @example
 * res.write(encodeSseEvent(entry)); // id: 5f0c2e1a-42\nevent: link.state\ndata: {"v":1,...}\n\n
 */
export function encodeSseEvent(entry: BusEntry, options: SseEventOptions = {}): string {
  const data = JSON.stringify(entry.event);
  // Bus cursors and schema-valid kinds never hold line breaks: skip formatSse's checks.
  return options.eventField === 'none' ? `id: ${entry.id}\ndata: ${data}\n\n` : `id: ${entry.id}\nevent: ${entry.event.kind}\ndata: ${data}\n\n`;
}

/**
 * An SSE comment: clients ignore it; it keeps an idle stream open through proxies.
 *
 * @example setInterval(() => res.write(sseComment('heartbeat')), 15_000);
 */
export function sseComment(text = ''): string {
  return formatSse({ comment: text });
}

/**
 * The `retry:` hint alone: the delay a client waits before reconnecting, ms.
 *
 * @example res.write(sseRetry(3000));
 */
export function sseRetry(ms: number): string {
  return formatSse({ retry: ms });
}

/**
 * One JSON line (`JSON.stringify(value) + '\n'`). Throws EVENTS_INVALID_ARGUMENT for values
 * JSON cannot represent at the top level (undefined, functions, symbols).
 *
 * @example process.stdout.write(encodeJsonLine(event));
 */
export function encodeJsonLine(value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) throw invalidArgument('json line value', value, 'a JSON value');
  return `${json}\n`;
}

/**
 * An event as one JSON line.
 *
 * @example ipcPipe.write(encodeEventLine(event));
 */
export function encodeEventLine(event: EventV1): string {
  return `${JSON.stringify(event)}\n`;
}
