/**
 * Errors of @edgebox/p2p. Match on `code`, never on `instanceof`: codes survive IPC and the API
 * envelope `{error:{code,message,details}}`. Every code is listed in the README and a test keeps
 * the two in step.
 *
 * Wire input never throws out of a stream loop: a bad frame is dropped and counted (the
 * decryption-error callback says why). Errors are for callers and for refused peers.
 */

/** Every code this package raises. */
export const P2P_ERROR_CODES = [
  'P2P_INVALID_ARGUMENT', // a caller error: bad option, peer id, multiaddr or payload type
  'P2P_INVALID_STREAM_NAME', // a stream name outside [a-z0-9][a-z0-9._-]{0,63}
  'P2P_TOO_LARGE', // a message over maxMessageBytes
  'P2P_NOT_CONNECTED', // no established (handshaken) session with that peer
  'P2P_HANDSHAKE', // the application handshake failed, timed out or was malformed
  'P2P_IDENTITY_MISMATCH', // the handshake identity is not the key of the peer id Noise authenticated
  'P2P_BLOCKED', // the peer (or its address) is on the block list
  'P2P_LIMIT', // a bound was reached: streams per peer, send queue, peers
  'P2P_NOT_RUNNING', // the node or service is not started (or already stopped)
  'P2P_START', // the node could not start (listen address, identity file)
  'P2P_RELOAD_UNSUPPORTED', // a reload changing what only a restart can change (identity, listen)
  'P2P_ACK_TIMEOUT', // an acknowledged send got no ACK after its retries
  'P2P_UNSUPPORTED', // a feature the peer did not advertise (acks)
] as const;

/** One of P2P_ERROR_CODES. */
export type P2pErrorCode = (typeof P2P_ERROR_CODES)[number];

/** Options of the P2pError constructor. */
export interface P2pErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * try { await node.send(peer, 'chat', data); }
 * catch (err) { if (isP2pError(err, 'P2P_NOT_CONNECTED')) await node.connect(peer); }
 */
export class P2pError extends Error {
  readonly code: P2pErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: P2pErrorCode, message: string, options: P2pErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'P2pError';
    this.code = code;
    this.details = options.details;
  }

  /** `{code, message, details?}` for logs, IPC and the API error envelope. */
  toJSON(): { code: P2pErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a P2pError, optionally with `code` (looks at the code, so IPC copies match).
 *
 * @example if (isP2pError(err, 'P2P_TOO_LARGE')) metrics.oversize.inc();
 */
export function isP2pError(err: unknown, code?: P2pErrorCode): err is P2pError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('P2P_') && (code === undefined || c === code);
}

// -- builders for the failing path (cold; messages name field, value and expectation)

/** `<field> <value> is not <expected>` */
export function invalidArgument(field: string, value: unknown, expected: string): P2pError {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value) : String(value);
  return new P2pError('P2P_INVALID_ARGUMENT', `${field} ${shown} is not ${expected}`, { details: { field, expected } });
}

/** `<field> <value> > max <max>` */
export function tooLarge(field: string, value: number, max: number): P2pError {
  return new P2pError('P2P_TOO_LARGE', `${field} ${value} > max ${max}`, { details: { field, value, max } });
}

/** A peer without an established session. */
export function notConnected(peer: string): P2pError {
  return new P2pError('P2P_NOT_CONNECTED', `peer ${peer} has no established session`, { details: { peer } });
}

/** The node or service is not running. */
export function notRunning(what: string): P2pError {
  return new P2pError('P2P_NOT_RUNNING', `${what} is not running`);
}
