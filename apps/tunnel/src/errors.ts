/**
 * Errors of @edgebox/tunnel. Match on `code`, never on `instanceof`: codes survive IPC and
 * the API envelope `{error:{code,message,details}}`. Every code is listed in the README and
 * a test keeps the two in step.
 */

/** Every code this package raises. */
export const TUNNEL_ERROR_CODES = [
  'TUNNEL_INVALID_ARGUMENT', // a caller error: bad option, field out of range, no room in a buffer
  'TUNNEL_MALFORMED', // a frame body of the wrong length or content (tunnel.md §2)
  'TUNNEL_PROTOCOL', // a frame not legal here: wrong channel, id, state or generation
  'TUNNEL_AUTH', // a sealed frame that does not authenticate (tampered, wrong key or counter)
  'TUNNEL_FLOW_CONTROL', // DATA beyond granted credit, or credit beyond the window maximum
  'TUNNEL_NONCE_EXHAUSTED', // the send counter reached its hard limit without a rekey
  'TUNNEL_OPEN_FAILED', // the peer answered OPEN with OPEN_ERR, or GOAWAY cut it off
  'TUNNEL_STREAM_RESET', // the stream was reset by the peer or the connection closed under it
  'TUNNEL_LIMIT', // a local limit: too many streams, a closed or draining multiplexer
  'TUNNEL_CLOSED', // the multiplexer or transport is closed
  'TUNNEL_HANDSHAKE', // the handshake over the stream failed (details.cause: the crypto code) or timed out
  'TUNNEL_CONFIG', // a config the service cannot run: unreadable PKI file, key that does not match, bad listen address
  'TUNNEL_RELOAD_UNSUPPORTED', // a reload that changes what only a restart can (role, mode, listeners, ops)
  'TUNNEL_NO_SESSION', // the source has no session to the dest (reconnecting, circuit open) within the wait
] as const;

/** One of TUNNEL_ERROR_CODES. */
export type TunnelErrorCode = (typeof TUNNEL_ERROR_CODES)[number];

/** Options of the TunnelError constructor. */
export interface TunnelErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * try { decodeOpen(body); }
 * catch (err) { if (isTunnelError(err, 'TUNNEL_MALFORMED')) dropConnection(); }
 */
export class TunnelError extends Error {
  readonly code: TunnelErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: TunnelErrorCode, message: string, options: TunnelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TunnelError';
    this.code = code;
    this.details = options.details;
  }

  /** `{code, message, details?}` for logs, IPC and the API error envelope. */
  toJSON(): { code: TunnelErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a TunnelError, optionally with `code` (looks at the code, so IPC copies
 * match too).
 *
 * @example if (isTunnelError(err, 'TUNNEL_AUTH')) metrics.authFailures.inc();
 */
export function isTunnelError(err: unknown, code?: TunnelErrorCode): err is TunnelError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('TUNNEL_') && (code === undefined || c === code);
}
