/**
 * Errors of @edgebox/peers. Match on `code`, never on `instanceof`: codes survive IPC and the
 * API envelope `{error:{code,message,details}}`. Every code is listed in the README and a test
 * keeps the two in step.
 *
 * Errors are built only on the failing path (cold); a message names the field, the value and
 * the expectation.
 */

/** Every code this package raises. */
export const PEERS_ERROR_CODES = [
  'PEERS_INVALID_ARGUMENT', // a caller error: bad option, out-of-range number, wrong type
  'PEERS_INVALID_PEER_ID', // peer id text or public key that is not an Ed25519 libp2p peer id
  'PEERS_INVALID_ADDRESS', // a multiaddr, IP address or CIDR that does not parse
  'PEERS_INVALID_METADATA', // metadata or tags: bad key, too many, too large
  'PEERS_LIMIT', // a bound was reached: peers, addresses, access entries, connections
  'PEERS_NOT_FOUND', // update of a peer the address book does not hold
  'PEERS_STORE_CORRUPT', // a persisted file that does not parse or validate (reported, kept aside)
  'PEERS_STORE_IO', // reading or writing a persisted file failed (permissions, disk full)
  'PEERS_CLOSED', // the address book was closed
  'PEERS_ILLEGAL_TRANSITION', // a connection state change the state machine does not allow
  'PEERS_CIRCUIT_OPEN', // the circuit breaker refused the call
  'PEERS_RATE_LIMITED', // a token bucket is empty
  'PEERS_ACCESS_DENIED', // the access list blocks this peer or address
] as const;

/** One of PEERS_ERROR_CODES. */
export type PeersErrorCode = (typeof PEERS_ERROR_CODES)[number];

/** Options of the PeersError constructor. */
export interface PeersErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * try { book.add({ id, addresses }); }
 * catch (err) { if (isPeersError(err, 'PEERS_LIMIT')) reply(409, err.toJSON()); else throw err; }
 */
export class PeersError extends Error {
  readonly code: PeersErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: PeersErrorCode, message: string, options: PeersErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PeersError';
    this.code = code;
    this.details = options.details;
  }

  /** `{code, message, details?}` for logs, IPC and the API error envelope. */
  toJSON(): { code: PeersErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a PeersError, optionally with `code` (works on IPC copies too: it looks at
 * the code, not the prototype).
 *
 * @example if (isPeersError(err, 'PEERS_CIRCUIT_OPEN')) metrics.refused.inc();
 */
export function isPeersError(err: unknown, code?: PeersErrorCode): err is PeersError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('PEERS_') && (code === undefined || c === code);
}

/** Internal (not exported by the package). Short printable form of a value for messages (never more than ~60 characters). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 48 ? `${value.slice(0, 48)}...` : value);
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}

/** Internal. `<field> <value> is not <expectation>` with code PEERS_INVALID_ARGUMENT (or the one given). */
export function invalid(field: string, value: unknown, expectation: string, code: PeersErrorCode = 'PEERS_INVALID_ARGUMENT'): PeersError {
  return new PeersError(code, `${field} ${describeValue(value)} is not ${expectation}`, { details: { field, expected: expectation } });
}

/** Internal. Validate an integer option in [min, max]; returns it. */
export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw invalid(field, value, `an integer in ${min}..${max}`);
}

/** Internal. Validate a finite number in [min, max]; returns it. */
export function checkNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
  throw invalid(field, value, `a number in ${min}..${max}`);
}
