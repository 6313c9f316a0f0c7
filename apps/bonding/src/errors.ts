/**
 * Errors of @edgebox/bonding. Match on `code`, never on `instanceof`: codes survive IPC and
 * the API envelope `{error:{code,message,details}}`. Every code is listed in the README and
 * a test keeps the two in step.
 *
 * The data plane never throws on wire input: open() returns a result code and counts the drop;
 * the try*() decoders return false. Errors are for caller mistakes and the throwing decoders.
 */

/** Every code this package raises. */
export const BONDING_ERROR_CODES = [
  'BONDING_INVALID_ARGUMENT', // a caller error: bad option, field out of range, buffer too small
  'BONDING_TOO_LARGE', // a payload or packet over its limit (datagram size, slot size)
  'BONDING_MALFORMED', // an inner header or FEEDBACK payload that does not parse
  'BONDING_CREDENTIALS', // a PSK, key, certificate or CA file that cannot be read or used
  'BONDING_RELOAD_UNSUPPORTED', // a reload changing what only a restart can change (mode, tun, listen, links)
  'BONDING_START', // the data plane could not start (TUN, sockets, routes, NAT)
] as const;

/** One of BONDING_ERROR_CODES. */
export type BondingErrorCode = (typeof BONDING_ERROR_CODES)[number];

/** Options of the BondingError constructor. */
export interface BondingErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * try { encodeInnerHeader(h, buf, 0); }
 * catch (err) { if (isBondingError(err, 'BONDING_INVALID_ARGUMENT')) console.error(err.message); }
 */
export class BondingError extends Error {
  readonly code: BondingErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: BondingErrorCode, message: string, options: BondingErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BondingError';
    this.code = code;
    this.details = options.details;
  }

  /** `{code, message, details?}` for logs, IPC and the API error envelope. */
  toJSON(): { code: BondingErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a BondingError, optionally with `code` (looks at the code, so IPC copies
 * match too).
 *
 * @example if (isBondingError(err, 'BONDING_TOO_LARGE')) metrics.oversize.inc();
 */
export function isBondingError(err: unknown, code?: BondingErrorCode): err is BondingError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('BONDING_') && (code === undefined || c === code);
}

// -- builders for the failing path (cold; messages name field, value and expectation)

/** `<field> <value> is not <expected>` */
export function invalidArgument(field: string, value: unknown, expected: string): BondingError {
  return new BondingError('BONDING_INVALID_ARGUMENT', `${field} ${String(value)} is not ${expected}`, {
    details: { field, value: typeof value === 'number' || typeof value === 'string' ? value : String(value), expected },
  });
}

/** `<field> <value> > max <max>` */
export function tooLarge(field: string, value: number, max: number): BondingError {
  return new BondingError('BONDING_TOO_LARGE', `${field} ${value} > max ${max}`, { details: { field, value, max } });
}

/** `<what>: <why>` */
export function malformed(what: string, why: string, details: Record<string, unknown> = {}): BondingError {
  return new BondingError('BONDING_MALFORMED', `${what}: ${why}`, { details: { what, ...details } });
}

/** A credential (PSK file, key, certificate, CA) that cannot be read or used. */
export function credentialsError(what: string, why: string, cause?: unknown): BondingError {
  return new BondingError('BONDING_CREDENTIALS', `${what}: ${why}`, { cause, details: { what } });
}
