/**
 * Pieces both handshake roles share (docs/protocols/handshake.md §4.1, §5): default clock and
 * randomness, policy checks, building and checking the authentication payload, the result
 * object, and the error discipline (only CryptoError escapes, with `details.fatal`).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { CryptoError, isCryptoError } from './errors.js';
import {
  DEFAULT_HANDSHAKE_SUITES,
  HANDSHAKE_SUITES,
  HS_MAX_CERTIFICATE_BYTES,
  type HandshakeSuite,
} from './handshake-constants.js';
import { decodeAuthPayload, encodeAuthPayload } from './handshake-messages.js';
import { finishedMac, signatureInput } from './handshake-key-schedule.js';
import { constantTimeEqual, ed25519Sign, ed25519Verify, zeroize } from './handshake-primitives.js';
import type {
  HandshakeCertificateCredentials,
  HandshakeCommonInit,
  HandshakePeer,
  HandshakeResult,
} from './handshake-types.js';

export const defaultRandom = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
export const defaultNow = (): number => Date.now();

/** Read a big-endian u32 from 4 random bytes. */
export function u32From(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Validate and copy a suite policy; an empty or unknown list is a programming error. */
export function resolveSuites(init: HandshakeCommonInit): readonly HandshakeSuite[] {
  const suites = init.suites ?? DEFAULT_HANDSHAKE_SUITES;
  if (suites.length < 1 || suites.length > 8) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `suites count ${suites.length} not in 1..8`);
  }
  for (const s of suites) {
    if (!(s in HANDSHAKE_SUITES)) throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `suite ${String(s)} unknown, expected one of ${Object.keys(HANDSHAKE_SUITES).join(', ')}`);
  }
  if (new Set(suites).size !== suites.length) throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `suites [${suites.join(', ')}] has duplicates`);
  return [...suites];
}

/**
 * Check our own certificate credentials once, at construction: DER within the wire limit, an
 * Ed25519 private KeyObject, a trust store with verify(). Mistakes here are programming
 * errors (CRYPTO_INVALID_ARGUMENT), not something to discover on the peer.
 */
export function checkCertificateCredentials(c: HandshakeCertificateCredentials): void {
  if (!(c.certificate instanceof Uint8Array) || c.certificate.length < 1 || c.certificate.length > HS_MAX_CERTIFICATE_BYTES) {
    const what = c.certificate instanceof Uint8Array ? `length ${c.certificate.length}` : `a ${typeof c.certificate}`;
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `certificate ${what}: expected DER bytes, length 1..${HS_MAX_CERTIFICATE_BYTES}`);
  }
  const key = c.privateKey as Partial<KeyObject> | undefined;
  if (typeof key !== 'object' || key === null || key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    const what = typeof key === 'object' && key !== null ? `a ${String(key.asymmetricKeyType ?? 'non-key')} ${String(key.type ?? 'object')}` : `a ${typeof key}`;
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `privateKey is ${what}, expected an ed25519 private KeyObject (Identity.privateKey)`);
  }
  if (typeof c.trustStore?.verify !== 'function') {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'trustStore has no verify(): expected a createTrustStore() result');
  }
}

/** A handshake error; `fatal` says whether the handshake was abandoned. */
export function hsError(code: CryptoError['code'], message: string, fatal: boolean, details: Record<string, unknown> = {}): CryptoError {
  return new CryptoError(code, message, { details: { ...details, fatal } });
}

/**
 * Turn anything thrown while processing wire input into a CryptoError carrying `fatal`.
 * Non-crypto exceptions (a library rejecting a malformed key) become MALFORMED.
 */
export function asHandshakeError(err: unknown, fatal: boolean): CryptoError {
  if (isCryptoError(err)) {
    const e = err as CryptoError;
    // Already classified (by an inner, more specific handler): keep its verdict.
    if (e instanceof CryptoError && typeof e.details?.['fatal'] === 'boolean') return e;
    if (e.code === 'CRYPTO_KEY_AGREEMENT' || e.code === 'CRYPTO_INVALID_ARGUMENT') {
      return new CryptoError('CRYPTO_HANDSHAKE_MALFORMED', `peer key rejected: ${e.message}`, { cause: e, details: { ...e.details, fatal } });
    }
    return new CryptoError(e.code, e.message, { cause: e.cause, details: { ...e.details, fatal } });
  }
  return new CryptoError('CRYPTO_HANDSHAKE_MALFORMED', `handshake input rejected: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
    details: { fatal },
  });
}

/** Build our authentication payload (plaintext of the AEAD) for transcript `th`. */
export function buildAuthPayload(
  role: 'initiator' | 'responder',
  th: Uint8Array,
  cert: HandshakeCertificateCredentials | undefined,
  finKey: Uint8Array,
): Uint8Array {
  if (cert !== undefined) {
    const signature = ed25519Sign(cert.privateKey, signatureInput(role, th, cert.certificate));
    return encodeAuthPayload({ kind: 'certificate', certificate: cert.certificate, signature });
  }
  return encodeAuthPayload({ kind: 'psk', mac: finishedMac(finKey, th) });
}

/**
 * Check the peer's decrypted authentication payload (§4.1) and return who it is.
 * Raises the trust store's CRYPTO_CERT_* codes or CRYPTO_HANDSHAKE_AUTH.
 */
export function verifyAuthPayload(args: {
  peerRole: 'initiator' | 'responder';
  plaintext: Uint8Array;
  th: Uint8Array;
  cert: HandshakeCertificateCredentials | undefined;
  pskId: string | undefined;
  finKey: Uint8Array;
  nowMs: number;
}): HandshakePeer {
  const mode = args.cert !== undefined ? 'certificate' : 'psk';
  const auth = decodeAuthPayload(args.plaintext, mode);
  if (auth.kind === 'psk') {
    if (!constantTimeEqual(auth.mac, finishedMac(args.finKey, args.th))) {
      throw new CryptoError('CRYPTO_HANDSHAKE_AUTH', `${args.peerRole} PSK key-confirmation MAC does not match`);
    }
    return { kind: 'psk', pskId: args.pskId ?? '' };
  }
  const cert = args.cert!;
  const verified = cert.trustStore.verify(auth.certificate, {
    now: new Date(args.nowMs),
    usage: args.peerRole === 'responder' ? 'server' : 'client',
  });
  if (!ed25519Verify(verified.publicKey, signatureInput(args.peerRole, args.th, auth.certificate), auth.signature)) {
    throw new CryptoError(
      'CRYPTO_HANDSHAKE_AUTH',
      `${args.peerRole} signature over the transcript does not verify with the key of certificate ${verified.commonName} (serial ${verified.serialHex}): proof of possession failed`,
      { details: { commonName: verified.commonName, serialHex: verified.serialHex } },
    );
  }
  const peer = {
    kind: 'certificate' as const,
    commonName: verified.commonName,
    publicKey: verified.publicKey.slice(),
    serialHex: verified.serialHex,
    fingerprintSha256: verified.fingerprintSha256,
    notAfter: verified.notAfter,
  };
  if (cert.authorize !== undefined && !cert.authorize(peer)) {
    throw new CryptoError('CRYPTO_HANDSHAKE_AUTH', `${args.peerRole} ${peer.commonName} (serial ${peer.serialHex}) refused by authorize()`);
  }
  return peer;
}

/** The HandshakeResult handed to the session layer; destroy() zeroizes its keys. */
export function createResult(fields: Omit<HandshakeResult, 'destroy'>): HandshakeResult {
  return {
    ...fields,
    destroy(): void {
      zeroize(fields.sendKey, fields.receiveKey, fields.sendNoncePrefix, fields.receiveNoncePrefix);
    },
  };
}
