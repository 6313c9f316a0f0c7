/**
 * Errors of @edgebox/framing (framing.md §7). Match on `code`, never on `instanceof`: codes
 * survive IPC and the API envelope `{error:{code,message,details}}`. Every code is listed in
 * the README and a test keeps the two in step.
 *
 * Errors are built only on the failing path (cold): the checks that guard them are plain
 * integer comparisons, and the message names the field, the value and the expectation.
 */

/** Every code this package raises. */
export const FRAMING_ERROR_CODES = [
  'FRAMING_TOO_LARGE', // a declared or actual length over the limit
  'FRAMING_BAD_VERSION', // the version byte is not FRAMING_VERSION
  'FRAMING_TRUNCATED', // input ends inside a header or frame
  'FRAMING_RESERVED', // a reserved byte or a flag bit not allowed for the type is non-zero
  'FRAMING_UNKNOWN_TYPE', // a type outside the registry the decoder was given
  'FRAMING_DECODER_CLOSED', // the decoder was closed, ended or poisoned by an earlier error
  'FRAMING_INVALID_ARGUMENT', // a caller error: bad option, field out of range, no room in target
] as const;

/** One of FRAMING_ERROR_CODES. */
export type FramingErrorCode = (typeof FRAMING_ERROR_CODES)[number];

/** Options of the FramingError constructor. */
export interface FramingErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * try { decoder.push(chunk); for (let f = decoder.read(); f; f = decoder.read()) handle(f); }
 * catch (err) { if (isFramingError(err)) socket.destroy(err); else throw err; }
 */
export class FramingError extends Error {
  readonly code: FramingErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: FramingErrorCode, message: string, options: FramingErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FramingError';
    this.code = code;
    this.details = options.details;
  }

  /** `{code, message, details?}` for logs, IPC and the API error envelope. */
  toJSON(): { code: FramingErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a FramingError, optionally with `code` (works on IPC copies too: it
 * looks at the code, not the prototype).
 *
 * @example if (isFramingError(err, 'FRAMING_TOO_LARGE')) metrics.oversize.inc();
 */
export function isFramingError(err: unknown, code?: FramingErrorCode): err is FramingError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('FRAMING_') && (code === undefined || c === code);
}

// -- builders for the failing path (cold; every message names field, value and expectation)

/** `<field> <value> > max <max>` */
export function tooLarge(field: string, value: number, max: number): FramingError {
  return new FramingError('FRAMING_TOO_LARGE', `${field} ${value} > max ${max}`, { details: { field, value, max } });
}

/** `version <v> != <expected>` */
export function badVersion(field: string, value: number, expected: number): FramingError {
  return new FramingError('FRAMING_BAD_VERSION', `${field} ${value} != ${expected} (unknown version)`, {
    details: { field, value, expected },
  });
}

/** `<what> needs <n> bytes, got <m>` */
export function truncated(what: string, have: number, need: number): FramingError {
  return new FramingError('FRAMING_TRUNCATED', `${what} truncated: ${have} bytes < ${need} needed`, {
    details: { field: what, value: have, expected: need },
  });
}

/** A reserved field or disallowed flag bits are non-zero. */
export function reserved(field: string, value: number, allowedMask = 0): FramingError {
  const hex = `0x${value.toString(16).padStart(2, '0')}`;
  const expectation = allowedMask === 0 ? 'must be 0' : `bits outside 0x${allowedMask.toString(16).padStart(2, '0')} must be 0`;
  return new FramingError('FRAMING_RESERVED', `${field} ${hex}: ${expectation}`, { details: { field, value, allowedMask } });
}

/** `type 0x99 not in the registry`. */
export function unknownType(field: string, value: number): FramingError {
  return new FramingError('FRAMING_UNKNOWN_TYPE', `${field} 0x${value.toString(16).padStart(2, '0')} (${value}) is not a known type`, {
    details: { field, value },
  });
}

/** A caller error: `<field> <value> is not <expectation>`. */
export function invalidArgument(field: string, value: unknown, expectation: string): FramingError {
  const shown = typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : describe(value);
  return new FramingError('FRAMING_INVALID_ARGUMENT', `${field} ${shown} is not ${expectation}`, { details: { field, expected: expectation } });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return typeof value;
}
