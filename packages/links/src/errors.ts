/**
 * Errors of @edgebox/links. Match on `code`, never on `instanceof`: codes survive IPC and the
 * API envelope `{error:{code,message,details}}`. Every code is listed in the README and a test
 * keeps the two in step.
 *
 * Per-packet calls never throw on wire input (a bad sequence number or timestamp is dropped
 * and counted); these errors are for programming mistakes and configuration: a bad `init`,
 * an out array too short, an illegal state transition.
 */

/**
 * Every error code of this package, each listed in the README.
 *
 * @example
 * LINKS_ERROR_CODES.includes(err.code);
 */
export const LINKS_ERROR_CODES = [
  'LINKS_INVALID_ARGUMENT', // an init option, link description or argument of the wrong type or range
  'LINKS_STATE', // a link state transition that the state machine does not allow
  'LINKS_TUN_OPEN', // the TUN device could not be created (needs CAP_NET_ADMIN and /dev/net/tun)
  'LINKS_COMMAND_FAILED', // an `ip`/`nft` command configuring a device or route failed; the message carries its stderr
  'LINKS_TUN_IO', // an open TUN device failed (deleted from outside, fd error); it is closed
  'LINKS_ROUTE_CONFLICT', // a policy-routing table or rule slot is held by a route/rule that is not ours
  'LINKS_SOCKET', // a link's UDP socket could not be bound or connected (address not local, port in use)
  'LINKS_NATIVE_UNAVAILABLE', // the batch_io addon (batched sendmmsg/recvmmsg/TUN I/O) was not built or does not load: fall back to node:dgram
] as const;

/** One of LINKS_ERROR_CODES. */
export type LinksErrorCode = (typeof LINKS_ERROR_CODES)[number];

/** Options of a LinksError. */
export interface LinksErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * try {
 *   createLossEstimator({ windowSize: 100 });
 * } catch (err) {
 *   if (isLinksError(err, 'LINKS_INVALID_ARGUMENT')) console.error(err.message);
 * }
 */
export class LinksError extends Error {
  readonly code: LinksErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: LinksErrorCode, message: string, options: LinksErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LinksError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: LinksErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * An argument or init option out of range (`LINKS_INVALID_ARGUMENT`).
 *
 * @example
 * throw new LinksInvalidArgumentError('windowSize', 100, 'a multiple of 32 in 32..65536');
 */
export class LinksInvalidArgumentError extends LinksError {
  constructor(field: string, value: unknown, expected: string, options: LinksErrorOptions = {}) {
    super('LINKS_INVALID_ARGUMENT', `${field} ${describe(value)} is not ${expected}`, {
      ...options,
      details: { field, value: typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? value : describe(value), expected, ...options.details },
    });
    this.name = 'LinksInvalidArgumentError';
  }
}

/**
 * A state transition the link state machine refuses (`LINKS_STATE`).
 *
 * @example
 * throw new LinksStateError('down', 'up');
 */
export class LinksStateError extends LinksError {
  constructor(from: string, to: string, options: LinksErrorOptions = {}) {
    super('LINKS_STATE', `link state transition ${from} -> ${to} is not allowed`, { ...options, details: { from, to, ...options.details } });
    this.name = 'LinksStateError';
  }
}

/**
 * True when `err` is a LinksError with `code` (works across realms and IPC copies).
 *
 * @example
 * if (isLinksError(err, 'LINKS_STATE')) log.warn(err.message);
 */
export function isLinksError(err: unknown, code?: LinksErrorCode): err is LinksError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('LINKS_') && (code === undefined || c === code);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}
