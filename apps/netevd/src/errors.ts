/**
 * Errors of @edgebox/netevd. Match on `code`, never on `instanceof`: codes survive IPC and
 * the API envelope `{error:{code,message,details}}`. Every code is listed in the README and a
 * test keeps the two in step.
 *
 * Event handling never throws out of the event loop: a failed script is a dead-letter entry, a
 * failed `ip` command is logged, counted and retried at the next reconcile.
 */

/** Every code this package raises. */
export const NETEVD_ERROR_CODES = [
  'NETEVD_INVALID_ARGUMENT', // a caller error: bad option, interface name, address, table number
  'NETEVD_COMMAND_FAILED', // an `ip` command failed, timed out or printed something unexpected
  'NETEVD_SCRIPT_UNSAFE', // a script that is not a root-owned, executable regular file writable only by its owner
  'NETEVD_SCRIPT_FAILED', // a script exited non-zero, was killed, or could not be started
  'NETEVD_SCRIPT_TIMEOUT', // a script ran past its timeout and its process group was killed
  'NETEVD_TABLES_EXHAUSTED', // no free routing table number left in the configured range
  'NETEVD_STATE_FILE', // the table allocation file cannot be read, parsed or written
  'NETEVD_SOURCE', // an event source could not start (backend missing, monitor failed)
  'NETEVD_RELOAD_UNSUPPORTED', // a reload changing what only a restart can change (api listen, sources, dataDir)
  'NETEVD_API', // the REST API could not listen, or a CLI request to it failed
  'NETEVD_UNAUTHORIZED', // an API request without the right bearer token
  'NETEVD_FORBIDDEN', // an API request this daemon's config does not allow (simulate without api.simulate)
  'NETEVD_NOT_FOUND', // an API path, interface or script that does not exist
] as const;

/** One of NETEVD_ERROR_CODES. */
export type NetevdErrorCode = (typeof NETEVD_ERROR_CODES)[number];

/** Options of the NetevdError constructor. */
export interface NetevdErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * try { await runner.test('/etc/netevd/routable.d/10-x'); }
 * catch (err) { if (isNetevdError(err, 'NETEVD_SCRIPT_UNSAFE')) console.error(err.message); }
 */
export class NetevdError extends Error {
  readonly code: NetevdErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: NetevdErrorCode, message: string, options: NetevdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NetevdError';
    this.code = code;
    this.details = options.details;
  }

  /** `{code, message, details?}` for logs, IPC and the API error envelope. */
  toJSON(): { code: NetevdErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` carries a NETEVD_ code, optionally exactly `code` (IPC copies match too).
 *
 * @example if (isNetevdError(err, 'NETEVD_SCRIPT_TIMEOUT')) timeouts++;
 */
export function isNetevdError(err: unknown, code?: NetevdErrorCode): err is NetevdError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('NETEVD_') && (code === undefined || c === code);
}

/**
 * `<field> <value> is not <expected>` (cold path).
 *
 * @example throw invalidArgument('table', 254, 'a table other than main');
 */
export function invalidArgument(field: string, value: unknown, expected: string): NetevdError {
  return new NetevdError('NETEVD_INVALID_ARGUMENT', `${field} ${JSON.stringify(value) ?? String(value)} is not ${expected}`, {
    details: { field, value: typeof value === 'number' || typeof value === 'string' ? value : String(value), expected },
  });
}
