/**
 * The event wire format, version 1 (docs/protocols/events.md §2-§4): its zod schema, the
 * reader (`parseEvent`: JSON text or an IPC object in, a frozen valid event or an EventsError
 * naming path, value and expectation out) and the writers (`createEvent`, `createEventFactory`
 * stamping monotonic ids).
 *
 * Versioning (events.md §4): `v` leads every event. A reader accepts exactly the versions it
 * knows; a higher integer `v` is EVENTS_UNSUPPORTED_VERSION (never guessed at), anything else
 * is EVENTS_INVALID_EVENT. The v1 top level is closed: unknown fields are rejected, app
 * specifics go in `data`, and a new top-level field means v2.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  EVENT_VERSION,
  MAX_ADDRESSES,
  MAX_DATA_BYTES,
  MAX_DATA_DEPTH,
  MAX_KIND_LENGTH,
  MAX_SOURCE_LENGTH,
  MAX_STATE_LENGTH,
  MAX_SUBJECT_LENGTH,
  SEVERITIES,
} from './constants.js';
import type { KNOWN_SOURCES } from './constants.js';
import { EventsError, checkInt, describeValue, invalidArgument } from './errors.js';
import { findJsonProblem, isPlainObject, type JsonObject } from './json.js';

/** One of SEVERITIES. */
export type Severity = (typeof SEVERITIES)[number];

/** A known app name, or any other `[a-z0-9-]` source name. */
export type EventSourceName = (typeof KNOWN_SOURCES)[number] | (string & {});

/** A state transition: `old` is absent when there was no previous state (startup). */
export interface EventStates {
  readonly old?: string;
  readonly new: string;
}

/**
 * An event, wire version 1. Plain JSON: it crosses IPC as is. Treat it as immutable (events
 * from `createEvent` and `parseEvent` are frozen): every subscriber sees the same object.
 */
export interface EventV1<D extends JsonObject = JsonObject> {
  /** Wire version, always 1. */
  readonly v: 1;
  /** Positive safe integer, strictly increasing per source within one run of the source. */
  readonly id: number;
  /** ISO 8601 date-time with `Z` or an offset, e.g. `2026-11-24T12:00:00.000Z`. */
  readonly time: string;
  /** Publishing app (`bonding`, `tunnel`, `netevd`, `p2p`, `supervisor`, or `[a-z0-9-]`). */
  readonly source: EventSourceName;
  /** Dotted lowercase, most general first: `link.state`, `session.established`. */
  readonly kind: string;
  readonly severity: Severity;
  /** What the event is about: an interface, peer, client or link name. */
  readonly subject?: string;
  /** The network interface concerned, when there is one. */
  readonly interface?: string;
  /** State transition, for state events. */
  readonly states?: EventStates;
  /** IP addresses (optionally `/prefix`) concerned, e.g. an interface's addresses now. */
  readonly addresses?: readonly string[];
  /** Kind-specific payload: a JSON object, at most MAX_DATA_BYTES encoded. */
  readonly data: D;
}

/** The current event type (an alias of EventV1). */
export type EdgeboxEvent<D extends JsonObject = JsonObject> = EventV1<D>;

/** Fields `createEvent` takes: `time` and `severity` and `data` have defaults. */
export interface EventInit<D extends JsonObject = JsonObject> {
  id: number;
  source: EventSourceName;
  kind: string;
  severity?: Severity;
  /** Default: now. A Date or epoch milliseconds are converted to ISO 8601 (UTC). */
  time?: string | Date | number;
  subject?: string;
  interface?: string;
  states?: EventStates;
  addresses?: readonly string[];
  /** Default `{}`. Copied (JSON round trip): later changes to the caller's object do not leak in. */
  data?: D;
}

/** One reason an event was rejected: where, what was there, what was expected. */
export interface EventIssue {
  /** `states.new`, `data.peers[2].rttMs`; `(root)` for the event itself. */
  path: string;
  /** A short rendering of the value found (strings cut at 40 characters). */
  value: string;
  expected: string;
}

// -- the schema ---------------------------------------------------------------------------

const SOURCE_RE = /^[a-z0-9][a-z0-9-]*$/;
const KIND_RE = /^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)*$/;
// Printable: no C0 controls, no DEL (a name must not break a log line or an SSE frame).
// eslint-disable-next-line no-control-regex
const PRINTABLE_RE = /^[^\u0000-\u001f\u007f]+$/;

const X = {
  source: `an app name of [a-z0-9-], 1..${MAX_SOURCE_LENGTH} characters (bonding, tunnel, netevd, p2p, supervisor, ...)`,
  kind: `a dotted lowercase kind of [a-z0-9_-] segments, 1..${MAX_KIND_LENGTH} characters (link.state)`,
  id: 'a positive safe integer',
  time: 'an ISO 8601 date-time with Z or an offset (2026-11-24T12:00:00.000Z)',
  severity: `one of ${SEVERITIES.join(', ')}`,
  name: (max: number): string => `1..${max} printable characters`,
  states: 'an object {old?, new}',
  addresses: `an array of at most ${MAX_ADDRESSES} IP addresses`,
  address: 'an IPv4 or IPv6 address, optionally /prefix',
  data: 'a JSON object',
} as const;

function printable(max: number): z.ZodString {
  const error = X.name(max);
  return z.string({ error }).min(1, { error }).max(max, { error }).regex(PRINTABLE_RE, { error });
}

/**
 * True for an IPv4/IPv6 address with optional `%zone` and `/prefix`.
 *
 * @example isAddress('fe80::1%eth0/64'); // true; isAddress('10.0.0.1/33') is false
 */
export function isAddress(value: string): boolean {
  const slash = value.indexOf('/');
  const ip = slash < 0 ? value : value.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const StatesSchema = z.strictObject(
  { old: printable(MAX_STATE_LENGTH).optional(), new: printable(MAX_STATE_LENGTH) },
  { error: X.states },
);

// The shape without the data check (parseEvent runs that itself, keeping the encoded text).
const EventShape = z.strictObject(
  {
    v: z.literal(EVENT_VERSION, { error: `the version ${EVENT_VERSION}` }),
    id: z.int({ error: X.id }).min(1, { error: X.id }),
    time: z.iso.datetime({ offset: true, error: X.time }),
    source: z.string({ error: X.source }).max(MAX_SOURCE_LENGTH, { error: X.source }).regex(SOURCE_RE, { error: X.source }),
    kind: z.string({ error: X.kind }).max(MAX_KIND_LENGTH, { error: X.kind }).regex(KIND_RE, { error: X.kind }),
    severity: z.enum(SEVERITIES, { error: X.severity }),
    subject: printable(MAX_SUBJECT_LENGTH).optional(),
    interface: printable(MAX_SUBJECT_LENGTH).optional(),
    states: StatesSchema.optional(),
    addresses: z
      .array(z.string({ error: X.address }).max(64, { error: X.address }).refine(isAddress, { error: X.address }), { error: X.addresses })
      .max(MAX_ADDRESSES, { error: X.addresses })
      .optional(),
    data: z.record(z.string(), z.unknown(), { error: X.data }),
  },
  { error: 'a JSON object (an event)' },
);

interface DataCheck {
  issue?: { path: (string | number)[]; value: unknown; expected: string; tooLarge: boolean };
  encoded?: string;
}

/** Plain JSON within MAX_DATA_DEPTH, then at most MAX_DATA_BYTES encoded. */
function checkData(data: Record<string, unknown>): DataCheck {
  const problem = findJsonProblem(data, MAX_DATA_DEPTH);
  if (problem !== undefined) {
    const tooLarge = problem.expected.startsWith('nesting');
    return { issue: { path: ['data', ...problem.path], value: problem.value, expected: problem.expected, tooLarge } };
  }
  const encoded = JSON.stringify(data);
  const bytes = encoded.length <= MAX_DATA_BYTES / 3 ? encoded.length : Buffer.byteLength(encoded);
  if (bytes > MAX_DATA_BYTES) {
    return { issue: { path: ['data'], value: `${bytes} bytes`, expected: `at most ${MAX_DATA_BYTES} bytes encoded`, tooLarge: true } };
  }
  return { encoded };
}

/**
 * The zod schema of an event v1, data checks included (plain JSON, depth, size). Use it to
 * compose larger schemas (an API response, an IPC message); use `parseEvent` to read events,
 * which gives coded errors.
 *
 * @example
 * const Batch = z.object({ events: z.array(EventV1Schema) });
 */
export const EventV1Schema = EventShape.superRefine((event, ctx) => {
  const { issue } = checkData(event.data);
  if (issue !== undefined) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.expected, input: issue.value });
});

// -- reading ------------------------------------------------------------------------------

/**
 * A path as events name it in errors.
 *
 * @example formatPath(['data', 'peers', 2, 'rttMs']); // 'data.peers[2].rttMs'
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const MAX_ISSUES = 10;

/** @internal EVENTS_INVALID_EVENT (or EVENTS_TOO_LARGE) from issues; the first names the message. */
export function invalidEvent(issues: EventIssue[], tooLarge: boolean): EventsError {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  const code = tooLarge ? 'EVENTS_TOO_LARGE' : 'EVENTS_INVALID_EVENT';
  return new EventsError(code, `event ${first.path}: ${first.value} is invalid: expected ${first.expected}${more}`, {
    details: { issues },
  });
}

/** @internal zod issues as EventIssues (at most 10), values rendered from `input`. */
export function issuesFromZod(input: unknown, zodIssues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): EventIssue[] {
  const out: EventIssue[] = [];
  for (const issue of zodIssues) {
    if (out.length >= MAX_ISSUES) break;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        out.push({ path: formatPath([...prefix, ...path]), value: describeValue(valueAt(input, path)), expected: prefix.length === 0 ? 'no such field in v1 (put app specifics in data)' : 'no such field' });
      }
      continue;
    }
    const value = valueAt(input, issue.path);
    out.push({ path: formatPath([...prefix, ...issue.path]), value: value === undefined ? 'missing' : describeValue(value), expected: issue.message });
  }
  return out.slice(0, MAX_ISSUES);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Throws EVENTS_UNSUPPORTED_VERSION for an integer `v` above what this reader knows. */
function checkVersion(input: unknown): void {
  if (!isPlainObject(input)) return;
  const v = input['v'];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > EVENT_VERSION) {
    throw new EventsError('EVENTS_UNSUPPORTED_VERSION', `event v ${v} is not supported: expected ${EVENT_VERSION} (this reader knows v1 only)`, {
      details: { field: 'v', value: v, supported: [EVENT_VERSION] },
    });
  }
}

/** Validate, returning the event (data possibly re-parsed from its encoding) or throwing. */
function validate(input: unknown, copyData: boolean): EventV1 {
  checkVersion(input);
  const result = EventShape.safeParse(input);
  if (!result.success) {
    const issues = issuesFromZod(input, result.error.issues);
    // Add the data problem too when the shape failed elsewhere, so one round reports both.
    const data = isPlainObject(input) && isPlainObject(input['data']) ? checkData(input['data']).issue : undefined;
    if (data !== undefined && issues.length < MAX_ISSUES) issues.push({ path: formatPath(data.path), value: describeValue(data.value), expected: data.expected });
    throw invalidEvent(issues, false);
  }
  const event = result.data;
  const check = checkData(event.data);
  if (check.issue !== undefined) {
    const { issue } = check;
    throw invalidEvent([{ path: formatPath(issue.path), value: describeValue(issue.value), expected: issue.expected }], issue.tooLarge);
  }
  if (copyData) event.data = JSON.parse(check.encoded!) as JsonObject;
  return deepFreeze(event as EventV1);
}

/**
 * Read an event from JSON text (a string or UTF-8 bytes) or from an already parsed value
 * (an IPC message; frozen in place, not copied). Returns a frozen EventV1 or throws an EventsError: EVENTS_BAD_JSON,
 * EVENTS_UNSUPPORTED_VERSION, EVENTS_TOO_LARGE (data over its bound) or EVENTS_INVALID_EVENT
 * with `details.issues` = `[{path, value, expected}]` (at most 10).
 *
 * @example
 * child.on('message', (m) => {
 *   try { bus.publish(parseEvent(m)); } catch (err) { dropped.inc({ code: (err as EventsError).code }); }
 * });
 */
export function parseEvent(input: unknown): EventV1 {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw new EventsError('EVENTS_BAD_JSON', `event text ${describeValue(text)} is invalid: expected JSON (${(err as Error).message})`, {
        cause: err,
        details: { length: text.length },
      });
    }
  }
  return validate(value, false);
}

/** The result of `tryParseEvent`: the event, or the error as a value. */
export type ParseEventResult = { ok: true; event: EventV1 } | { ok: false; error: EventsError };

/**
 * `parseEvent` returning the error as a value: for data loops that must never throw.
 *
 * @example
 * const r = tryParseEvent(line);
 * if (r.ok) bus.publish(r.event); else rejected.inc({ code: r.error.code });
 */
export function tryParseEvent(input: unknown): ParseEventResult {
  try {
    return { ok: true, event: parseEvent(input) };
  } catch (err) {
    if (err instanceof EventsError) return { ok: false, error: err };
    /* c8 ignore next 2 -- parseEvent raises only EventsError; this keeps the promise if it ever did not */
    return { ok: false, error: new EventsError('EVENTS_INVALID_EVENT', `event is invalid: ${String(err)}`, { cause: err }) };
  }
}

// -- writing ------------------------------------------------------------------------------

function isoTime(time: string | Date | number | undefined, now: () => number): string {
  if (time === undefined) return new Date(now()).toISOString();
  if (typeof time === 'string') return time;
  const d = typeof time === 'number' ? new Date(time) : time;
  if (Number.isNaN(d.getTime())) throw invalidArgument('time', time, 'a valid date');
  return d.toISOString();
}

function build(init: EventInit, now: () => number): EventV1 {
  if (typeof init !== 'object' || init === null) throw invalidArgument('event init', init, 'an object');
  const candidate: Record<string, unknown> = {
    v: EVENT_VERSION,
    id: init.id,
    time: isoTime(init.time, now),
    source: init.source,
    kind: init.kind,
    severity: init.severity ?? 'info',
  };
  if (init.subject !== undefined) candidate['subject'] = init.subject;
  if (init.interface !== undefined) candidate['interface'] = init.interface;
  if (init.states !== undefined) {
    candidate['states'] = init.states.old === undefined ? { new: init.states.new } : { old: init.states.old, new: init.states.new };
  }
  if (init.addresses !== undefined) candidate['addresses'] = Array.isArray(init.addresses) ? [...init.addresses] : init.addresses;
  candidate['data'] = init.data ?? {};
  return validate(candidate, true);
}

/**
 * Build a valid, frozen event v1 from its fields; throws what `parseEvent` would (an app bug
 * surfaces at the publisher, not at every receiver). `data` is copied.
 *
 * @example
 * const e = createEvent({ id: 1, source: 'netevd', kind: 'link.state', subject: 'eth0', interface: 'eth0',
 *   states: { old: 'degraded', new: 'routable' }, addresses: ['10.0.0.2/24'], data: { ifindex: 3 } });
 */
export function createEvent<D extends JsonObject = JsonObject>(init: EventInit<D>): EventV1<D> {
  return build(init, Date.now) as EventV1<D>;
}

/** What `createEventFactory` returns: one source's event maker with its id counter. */
export interface EventFactory {
  readonly source: EventSourceName;
  /** The id of the last event made (startId - 1 before the first). */
  readonly lastId: number;
  /** Make the next event: id = lastId + 1, source and time filled in. The id is used even when the init is invalid. */
  create<D extends JsonObject = JsonObject>(init: Omit<EventInit<D>, 'id' | 'source'>): EventV1<D>;
}

/** Options of `createEventFactory`. */
export interface EventFactoryInit {
  source: EventSourceName;
  /** First id (default 1). */
  startId?: number;
  /** Clock for default times (default Date.now). */
  now?: () => number;
}

/**
 * One source's event maker: ids start at `startId` and increase by one per event, so a
 * receiver can spot gaps and order a source's events.
 *
 * @example
 * const events = createEventFactory({ source: 'bonding' });
 * bus.publish(events.create({ kind: 'link.state', subject: 'wan1', states: { old: 'up', new: 'down' } }));
 */
export function createEventFactory(init: EventFactoryInit): EventFactory {
  if (typeof init?.source !== 'string' || init.source.length > MAX_SOURCE_LENGTH || !SOURCE_RE.test(init.source)) {
    throw invalidArgument('source', init?.source, X.source);
  }
  const source = init.source;
  const now = init.now ?? Date.now;
  let lastId = checkInt('startId', init.startId ?? 1, 1, Number.MAX_SAFE_INTEGER) - 1;
  return {
    source,
    get lastId() {
      return lastId;
    },
    create<D extends JsonObject = JsonObject>(fields: Omit<EventInit<D>, 'id' | 'source'>): EventV1<D> {
      lastId += 1;
      return build({ ...fields, id: lastId, source }, now) as EventV1<D>;
    },
  };
}

/**
 * 0 for debug .. 3 for error; -1 for anything else.
 *
 * @example if (severityRank(event.severity) >= severityRank('warning')) alert(event);
 */
export function severityRank(severity: string): number {
  return (SEVERITIES as readonly string[]).indexOf(severity);
}

/**
 * True for `debug`, `info`, `warning`, `error`.
 *
 * @example if (!isSeverity(q.severity)) throw ...
 */
export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && severityRank(value) >= 0;
}
