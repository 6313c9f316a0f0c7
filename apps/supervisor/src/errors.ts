/**
 * Errors of the supervisor. Match on `code`, never on `instanceof`: codes survive IPC and the
 * API envelope `{error:{code,message,details}}`. The README lists every code (a test keeps the
 * two in step) and `httpStatusOf` maps each to its HTTP status.
 */

/** Every code the supervisor raises, with the HTTP status the admin API answers it with. */
export const SUPERVISOR_ERROR_STATUS = {
  SUPERVISOR_INVALID_ARGUMENT: 400, // a bad parameter or body (not a config: that is RUNTIME_CONFIG_INVALID)
  SUPERVISOR_UNAUTHORIZED: 401, // no API key, or one that is unknown or revoked
  SUPERVISOR_FORBIDDEN: 403, // a viewer key on a mutating request
  SUPERVISOR_NOT_FOUND: 404, // no such app, resource or route
  SUPERVISOR_APP_DISABLED: 409, // the app is disabled (not configured, needs root, switched off)
  SUPERVISOR_APP_STATE: 409, // the app cannot do that in its state (a resource of a stopped app)
  SUPERVISOR_IPC_TIMEOUT: 504, // the app's process did not answer an IPC request in time
  SUPERVISOR_IPC_CLOSED: 503, // the app's process went away while a request was pending
  SUPERVISOR_CHILD: 502, // the app's process failed a request (start, reload, resource)
  SUPERVISOR_KEYS: 500, // the API key store cannot be read or written
} as const;

/** Every code, in README order. */
export const SUPERVISOR_ERROR_CODES = Object.keys(SUPERVISOR_ERROR_STATUS) as SupervisorErrorCode[];

/** One supervisor code. */
export type SupervisorErrorCode = keyof typeof SUPERVISOR_ERROR_STATUS;

/** Options of the SupervisorError constructor. */
export interface SupervisorErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * throw new SupervisorError('SUPERVISOR_NOT_FOUND', 'no app "vpn": expected one of bonding, tunnel, netevd, p2p');
 */
export class SupervisorError extends Error {
  readonly code: SupervisorErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SupervisorErrorCode, message: string, options: SupervisorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SupervisorError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` carries a `SUPERVISOR_*` code (and `code`, when given); works on plain objects.
 *
 * @example if (isSupervisorError(err, 'SUPERVISOR_NOT_FOUND')) reply(404);
 */
export function isSupervisorError(err: unknown, code?: SupervisorErrorCode): err is SupervisorError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('SUPERVISOR_') && (code === undefined || c === code);
}

/**
 * The HTTP status for an error code: ours from the table, config errors 400, filter syntax
 * 400, state errors 409, anything else 500.
 *
 * @example httpStatusOf('RUNTIME_CONFIG_INVALID'); // 400
 */
export function httpStatusOf(code: string): number {
  if (Object.hasOwn(SUPERVISOR_ERROR_STATUS, code)) return SUPERVISOR_ERROR_STATUS[code as SupervisorErrorCode];
  if (code.startsWith('RUNTIME_CONFIG_') || code.endsWith('_INVALID_ARGUMENT') || code === 'EVENTS_FILTER_SYNTAX') return 400;
  if (code.endsWith('_RELOAD_UNSUPPORTED')) return 409;
  if (code === 'RUNTIME_STATE' || code.endsWith('_NOT_RUNNING')) return 409;
  if (code === 'EVENTS_SUBSCRIBER_LIMIT') return 503;
  if (code === 'RUNTIME_STOP_TIMEOUT') return 504;
  return 500;
}
