/**
 * Errors of @edgebox/crypto. Match on `code`, never on `instanceof`: codes survive IPC and
 * the API envelope `{error:{code,message,details}}`. Every code is listed in the README and
 * a test keeps the two in step.
 */

export const CRYPTO_ERROR_CODES = [
  'CRYPTO_INVALID_ARGUMENT', // a key, nonce or parameter of the wrong size or type
  'CRYPTO_AUTH_FAILED', // AEAD tag, MAC or signature did not verify
  'CRYPTO_REPLAYED', // a counter already seen or older than the replay window
  'CRYPTO_NONCE_EXHAUSTED', // the counter reached its limit: rekey before sending more
  'CRYPTO_KEY_AGREEMENT', // X25519 produced an all-zero secret, ML-KEM input malformed
  'CRYPTO_CERT_INVALID', // a certificate that does not parse or has the wrong key type/usage
  'CRYPTO_CERT_UNTRUSTED', // not signed by a trusted CA
  'CRYPTO_CERT_EXPIRED', // outside notBefore..notAfter
  'CRYPTO_CERT_REVOKED', // listed in the CA's revocation list
  'CRYPTO_HANDSHAKE_MALFORMED', // a handshake message that does not parse
  'CRYPTO_HANDSHAKE_VERSION', // no common protocol version or algorithm suite
  'CRYPTO_HANDSHAKE_DOWNGRADE', // the peer offered or chose less than our policy requires
  'CRYPTO_HANDSHAKE_AUTH', // the peer failed authentication (certificate, proof, PSK)
  'CRYPTO_HANDSHAKE_REPLAYED', // a handshake message seen before or outside its time window
  'CRYPTO_HANDSHAKE_STATE', // a message that is not legal in the current state
  'CRYPTO_HANDSHAKE_COOKIE', // a missing, stale or forged retry cookie
  'CRYPTO_NATIVE_UNAVAILABLE', // implementation 'native' asked for, but its addon was not built
] as const;

export type CryptoErrorCode = (typeof CRYPTO_ERROR_CODES)[number];

export interface CryptoErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** Base class of every error this package raises. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: CryptoErrorCode, message: string, options: CryptoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CryptoError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: CryptoErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `err` is a CryptoError with `code` (works across realms and IPC copies). */
export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('CRYPTO_') && (code === undefined || c === code);
}
