/**
 * Incremental readers for the text encodings (events.md §7, §8), for IPC pipes, files, the
 * CLI's `events --follow`, and tests. Both take chunks split anywhere (mid-line, mid UTF-8
 * sequence), hold at most their bound, and return results as values: one bad or over-long
 * line is an error result and the next line decodes normally; nothing throws out of `push`.
 *
 * JSON lines: lines end with `\n` (a `\r` before it is dropped); blank lines are skipped. A
 * line longer than `maxLineBytes` (bytes, without the `\n`) is reported once as
 * EVENTS_LINE_TOO_LONG as soon as it crosses the bound, and its remaining bytes are skipped up
 * to the next newline without being buffered.
 */
import { MAX_EVENT_BYTES } from './constants.js';
import { EventsError, checkInt, describeValue } from './errors.js';
import { parseEvent, type EventV1 } from './schema.js';

/** One decoded line: a value or the error for that line (1-based line numbers). */
export type JsonLineResult<T> = { ok: true; value: T; line: number } | { ok: false; error: EventsError; line: number };

/** Options of `createJsonLinesDecoder`. */
export interface JsonLinesDecoderInit<T> {
  /** Longest line in bytes, without its `\n` (default MAX_EVENT_BYTES, 64 KiB). */
  maxLineBytes?: number;
  /** Turn each parsed JSON value into T; throwing makes that line an error result. */
  parse?: (value: unknown) => T;
}

/** A JSON-lines decoder's counters. */
export interface JsonLinesStats {
  /** Complete lines seen, blank ones included. */
  lines: number;
  values: number;
  errors: number;
  /** Bytes of over-long lines thrown away. */
  skippedBytes: number;
}

/** An incremental JSON-lines decoder. */
export interface JsonLinesDecoder<T> {
  /** Feed a chunk; returns the lines it completed (often none). */
  push(chunk: string | Uint8Array): JsonLineResult<T>[];
  /** End of input: a last line without `\n` is decoded; the decoder is reset. */
  end(): JsonLineResult<T>[];
  /** Bytes of an incomplete line held (≤ maxLineBytes). */
  readonly bufferedBytes: number;
  stats(): JsonLinesStats;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Make a JSON-lines decoder.
 *
 * @example
 * const decoder = createJsonLinesDecoder({ maxLineBytes: 65536 });
 * stream.on('data', (chunk) => { for (const r of decoder.push(chunk)) if (r.ok) use(r.value); else log.warn(r.error.toJSON()); });
 */
export function createJsonLinesDecoder<T = unknown>(init: JsonLinesDecoderInit<T> = {}): JsonLinesDecoder<T> {
  const max = checkInt('maxLineBytes', init.maxLineBytes ?? MAX_EVENT_BYTES, 1, 64 * 1024 * 1024);
  const parse = init.parse;
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false;
  let line = 1; // number of the line being accumulated
  let highSurrogate = '';
  const stats: JsonLinesStats = { lines: 0, values: 0, errors: 0, skippedBytes: 0 };

  function tooLong(bytes: number, out: JsonLineResult<T>[]): void {
    stats.errors++;
    out.push({
      ok: false,
      line,
      error: new EventsError('EVENTS_LINE_TOO_LONG', `line ${line} length ${bytes} > max ${max} bytes: skipped to the next newline`, {
        details: { line, value: bytes, max },
      }),
    });
  }

  function decodeLine(bytes: Buffer, out: JsonLineResult<T>[]): void {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch (err) {
      stats.errors++;
      out.push({ ok: false, line, error: new EventsError('EVENTS_BAD_JSON', `line ${line} is invalid: expected UTF-8 text`, { cause: err, details: { line } }) });
      return;
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      stats.errors++;
      out.push({
        ok: false,
        line,
        error: new EventsError('EVENTS_BAD_JSON', `line ${line} ${describeValue(text)} is invalid: expected JSON (${(err as Error).message})`, {
          cause: err,
          details: { line },
        }),
      });
      return;
    }
    if (parse === undefined) {
      stats.values++;
      out.push({ ok: true, line, value: value as T });
      return;
    }
    try {
      const parsed = parse(value);
      stats.values++;
      out.push({ ok: true, line, value: parsed });
    } catch (err) {
      stats.errors++;
      const error =
        err instanceof EventsError
          ? err
          : new EventsError('EVENTS_INVALID_EVENT', `line ${line} was rejected: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { line } });
      out.push({ ok: false, line, error });
    }
  }

  function completeLine(tail: Buffer, out: JsonLineResult<T>[]): void {
    stats.lines++;
    if (skipping) {
      skipping = false;
      stats.skippedBytes += tail.length;
    } else if (held + tail.length > max) {
      tooLong(held + tail.length, out);
      stats.skippedBytes += held + tail.length;
    } else {
      decodeLine(parts.length === 0 ? tail : Buffer.concat([...parts, tail], held + tail.length), out);
    }
    parts = [];
    held = 0;
    line++;
  }

  return {
    get bufferedBytes() {
      return held;
    },
    push(chunk: string | Uint8Array): JsonLineResult<T>[] {
      let buf: Buffer;
      if (typeof chunk === 'string') {
        // A string chunk may end inside a surrogate pair: hold the high half for the next one.
        let str = highSurrogate + chunk;
        highSurrogate = '';
        const last = str.charCodeAt(str.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          highSurrogate = str.slice(-1);
          str = str.slice(0, -1);
        }
        buf = Buffer.from(str, 'utf8');
      } else {
        buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      const out: JsonLineResult<T>[] = [];
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0) break;
        completeLine(buf.subarray(start, nl), out);
        start = nl + 1;
      }
      const rest = buf.length - start;
      if (rest > 0) {
        if (skipping) {
          stats.skippedBytes += rest;
        } else if (held + rest > max) {
          // Report as soon as the bound is crossed; never buffer past it.
          tooLong(held + rest, out);
          stats.skippedBytes += held + rest;
          parts = [];
          held = 0;
          skipping = true;
        } else {
          // Copy: the caller may reuse its chunk buffer.
          parts.push(Buffer.from(buf.subarray(start)));
          held += rest;
        }
      }
      return out;
    },
    end(): JsonLineResult<T>[] {
      const out: JsonLineResult<T>[] = highSurrogate === '' ? [] : this.push('');
      highSurrogate = '';
      if (held > 0) {
        completeLine(Buffer.alloc(0), out);
      } else if (skipping) {
        stats.lines++;
      }
      parts = [];
      held = 0;
      skipping = false;
      line = 1;
      return out;
    },
    stats: () => ({ ...stats }),
  };
}

/**
 * A JSON-lines decoder of events: each line through `parseEvent` (errors keep their codes:
 * EVENTS_INVALID_EVENT, EVENTS_UNSUPPORTED_VERSION, EVENTS_TOO_LARGE).
 *
 * @example
 * const decoder = createEventLinesDecoder();
 * child.stdout.on('data', (c) => { for (const r of decoder.push(c)) if (r.ok) bus.publish(r.value); });
 */
export function createEventLinesDecoder(init: Omit<JsonLinesDecoderInit<EventV1>, 'parse'> = {}): JsonLinesDecoder<EventV1> {
  return createJsonLinesDecoder<EventV1>({ ...init, parse: parseEvent });
}

// -- SSE ----------------------------------------------------------------------------------

/** A dispatched SSE message as a client sees it (HTML §9.2.6). */
export interface SseEvent {
  /** The last event ID so far (it carries over to messages without `id:`). */
  id: string;
  /** `event:` or `message`. */
  event: string;
  data: string;
}

/** One SSE decoder result. */
export type SseResult = { ok: true; message: SseEvent } | { ok: false; error: EventsError };

/** Options of `createSseDecoder`. */
export interface SseDecoderInit {
  /** Longest message (all its lines, in characters) held (default 256 Ki). */
  maxMessageLength?: number;
}

/** An incremental SSE reader. */
export interface SseDecoder {
  push(chunk: string | Uint8Array): SseResult[];
  /** The Last-Event-ID a reconnecting client would send. */
  readonly lastEventId: string;
  /** Comment lines seen (heartbeats). */
  readonly comments: number;
  /** The last `retry:` reconnect delay the server asked for, ms. */
  readonly retry: number | undefined;
}

/**
 * Make an SSE decoder (the client side: CLI `events --follow`, tests). Lines end with CRLF,
 * LF or CR; a message over the bound is an EVENTS_LINE_TOO_LONG result and is skipped up to
 * its blank line.
 *
 * @example
 * const sse = createSseDecoder();
 * for await (const chunk of response.body) for (const r of sse.push(chunk)) if (r.ok) print(JSON.parse(r.message.data));
 */
export function createSseDecoder(init: SseDecoderInit = {}): SseDecoder {
  const max = checkInt('maxMessageLength', init.maxMessageLength ?? 256 * 1024, 1, 64 * 1024 * 1024);
  const text = new TextDecoder('utf-8');
  let pending = '';
  let lastEventId = '';
  let comments = 0;
  let data: string[] = [];
  let size = 0;
  let type = '';
  let retry: number | undefined;
  let skipping = false;
  let bomChecked = false;

  function reset(): void {
    data = [];
    size = 0;
    type = '';
  }

  function overflow(out: SseResult[]): void {
    out.push({
      ok: false,
      error: new EventsError('EVENTS_LINE_TOO_LONG', `sse message length > max ${max}: skipped to the next blank line`, { details: { max } }),
    });
    reset();
    skipping = true;
  }

  function processLine(lineText: string, out: SseResult[]): void {
    if (lineText === '') {
      if (skipping) {
        skipping = false;
        return;
      }
      if (data.length > 0) {
        out.push({ ok: true, message: { id: lastEventId, event: type === '' ? 'message' : type, data: data.join('\n') } });
      }
      reset();
      return;
    }
    if (skipping) return;
    size += lineText.length;
    if (size > max) {
      overflow(out);
      return;
    }
    if (lineText.startsWith(':')) {
      comments++;
      return;
    }
    const colon = lineText.indexOf(':');
    const field = colon < 0 ? lineText : lineText.slice(0, colon);
    let value = colon < 0 ? '' : lineText.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    else if (field === 'id') {
      if (!value.includes('\0')) lastEventId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }

  return {
    get lastEventId() {
      return lastEventId;
    },
    get comments() {
      return comments;
    },
    get retry() {
      return retry;
    },
    push(chunk: string | Uint8Array): SseResult[] {
      let s = pending + (typeof chunk === 'string' ? chunk : text.decode(chunk, { stream: true }));
      if (!bomChecked && s.length > 0) {
        bomChecked = true;
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      }
      const out: SseResult[] = [];
      let start = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c !== 0x0a && c !== 0x0d) continue;
        // A CR at the very end may be the first half of CRLF: wait for the next chunk.
        if (c === 0x0d && i === s.length - 1) break;
        processLine(s.slice(start, i), out);
        if (c === 0x0d && s.charCodeAt(i + 1) === 0x0a) i++;
        start = i + 1;
      }
      pending = s.slice(start);
      if (!skipping && size + pending.length > max) overflow(out);
      if (skipping) {
        // Skipping: hold no content, only its shape. 'x' stands for a discarded partial line
        // (so its end is not taken for the blank line that ends the message) and a trailing
        // CR is kept (it may be the first half of CRLF).
        const cr = pending.endsWith('\r');
        const body = cr ? pending.length - 1 : pending.length;
        pending = (body > 0 ? 'x' : '') + (cr ? '\r' : '');
      }
      return out;
    },
  };
}
