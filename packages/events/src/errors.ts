/**
 * Errors of @edgebox/events. Match on `code`, never on `instanceof`: codes survive IPC and the
 * API envelope `{error:{code,message,details}}`. Every code is listed in the README and a test
 * keeps the two in step.
 *
 * Errors are built only on the failing path (cold); every message names the field, the value
 * and the expectation: `event.kind: "Link" is invalid: expected dotted lowercase ...`.
 */

/** Every code this package raises. */
export const EVENTS_ERROR_CODES = [
  'EVENTS_INVALID_EVENT', // an event does not match the v1 schema (details.issues)
  'EVENTS_UNSUPPORTED_VERSION', // an event with a higher `v` than this reader knows
  'EVENTS_TOO_LARGE', // event data over its encoded size or depth bound
  'EVENTS_BAD_JSON', // text that is not JSON (parseEvent, JSON-lines decoder)
  'EVENTS_LINE_TOO_LONG', // a JSON line or SSE message over the decoder's bound (skipped)
  'EVENTS_FILTER_SYNTAX', // a filter expression or query that does not parse
  'EVENTS_SUBSCRIBER_LIMIT', // subscribe() past maxSubscribers
  'EVENTS_SUBSCRIBER_OVERFLOW', // a 'disconnect' subscriber fell behind and was cut off
  'EVENTS_BUS_CLOSED', // subscribe() on a closed bus
  'EVENTS_INVALID_ARGUMENT', // a caller error: bad option or argument
] as const;

/** One of EVENTS_ERROR_CODES. */
export type EventsErrorCode = (typeof EVENTS_ERROR_CODES)[number];

/** Options of the EventsError constructor. */
export interface EventsErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises; `code` says which.
 *
 * @example
 * try { bus.publish(parseEvent(message)); }
 * catch (err) { if (isEventsError(err)) log.warn({ err: err.toJSON() }, 'dropped an event'); else throw err; }
 */
export class EventsError extends Error {
  readonly code: EventsErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: EventsErrorCode, message: string, options: EventsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EventsError';
    this.code = code;
    this.details = options.details;
  }

  /** `{code, message, details?}` for logs, IPC and the API error envelope. */
  toJSON(): { code: EventsErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is an EventsError, optionally with `code` (works on IPC copies too: it looks
 * at the code, not the prototype).
 *
 * @example if (isEventsError(err, 'EVENTS_SUBSCRIBER_OVERFLOW')) res.end();
 */
export function isEventsError(err: unknown, code?: EventsErrorCode): err is EventsError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('EVENTS_') && (code === undefined || c === code);
}

// -- builders for the failing path (cold)

/** A caller error: `<field> <value> is not <expectation>`. */
export function invalidArgument(field: string, value: unknown, expectation: string): EventsError {
  return new EventsError('EVENTS_INVALID_ARGUMENT', `${field} ${describeValue(value)} is not ${expectation}`, {
    details: { field, expected: expectation },
  });
}

/** Throws EVENTS_INVALID_ARGUMENT unless `value` is an integer in min..max. */
export function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw invalidArgument(field, value, `an integer in ${min}..${max}`);
}

/**
 * A short, single-line rendering of a value for messages: strings quoted and cut at 40
 * characters, objects and arrays by kind, never their whole content.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      if (Array.isArray(value)) return `an array(${value.length})`;
      return 'an object';
  }
}
