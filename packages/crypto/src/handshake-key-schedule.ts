/**
 * Transcript hashes and key schedule of the edgebox handshake
 * (docs/protocols/handshake.md §4): TH0..TH4, the shared secret from X25519 (+ ML-KEM-768)
 * bound to TH2, handshake keys, PSK finished keys, and the per-direction session keys.
 */
import {
  combineShared,
  hkdfExpand,
  hkdfExtract,
  hmacSha256,
  sha256,
  zeroize,
} from './handshake-primitives.js';

const te = new TextEncoder();
const LABEL = 'edgebox-hs-v1';

/** TH0 = SHA-256("edgebox handshake v1"). */
export const TH0: Uint8Array = sha256(te.encode('edgebox handshake v1'));

/** TH(n+1) = SHA-256(TH(n) ‖ bytes) (§4). */
export function mixTranscript(th: Uint8Array, bytes: Uint8Array): Uint8Array {
  const buf = new Uint8Array(th.length + bytes.length);
  buf.set(th);
  buf.set(bytes, th.length);
  return sha256(buf);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const info = (label: string, th?: Uint8Array): Uint8Array =>
  th === undefined ? te.encode(`${LABEL} ${label}`) : concat(te.encode(`${LABEL} ${label}`), th);

/** Secrets derived at TH2; every field is zeroized by `wipe()`. */
export interface HandshakeSecrets {
  /** HS: input to the master secret. */
  readonly hs: Uint8Array;
  readonly hsKeyR2I: Uint8Array;
  readonly hsKeyI2R: Uint8Array;
  readonly finKeyR2I: Uint8Array;
  readonly finKeyI2R: Uint8Array;
  wipe(): void;
}

/**
 * Derive HS and the handshake keys from the key-agreement outputs (§4).
 * `postQuantum` is undefined for classical suites; `psk` undefined in certificate mode.
 */
export function deriveHandshakeSecrets(args: {
  classical: Uint8Array;
  postQuantum: Uint8Array | undefined;
  psk: Uint8Array | undefined;
  th2: Uint8Array;
}): HandshakeSecrets {
  const shared = combineShared({ classical: args.classical, postQuantum: args.postQuantum, transcriptHash: args.th2, label: LABEL });
  const ikm = args.psk ?? new Uint8Array(32);
  const hs = hkdfExtract(shared, ikm);
  zeroize(shared);
  const s = {
    hs,
    hsKeyR2I: hkdfExpand(hs, info('r2i hs key', args.th2), 32),
    hsKeyI2R: hkdfExpand(hs, info('i2r hs key', args.th2), 32),
    finKeyR2I: hkdfExpand(hs, info('r2i finished', args.th2), 32),
    finKeyI2R: hkdfExpand(hs, info('i2r finished', args.th2), 32),
    wipe(): void {
      zeroize(s.hs, s.hsKeyR2I, s.hsKeyI2R, s.finKeyR2I, s.finKeyI2R);
    },
  };
  return s;
}

/** Session keys derived from HS and TH4 (§4). */
export interface SessionKeys {
  keyI2R: Uint8Array;
  keyR2I: Uint8Array;
  nonceI2R: Uint8Array;
  nonceR2I: Uint8Array;
}

/** MS = HKDF-Extract(TH4, HS), then per-direction keys and 4-byte nonce prefixes. */
export function deriveSessionKeys(hs: Uint8Array, th4: Uint8Array): SessionKeys {
  const ms = hkdfExtract(th4, hs);
  const keys = {
    keyI2R: hkdfExpand(ms, info('i2r key'), 32),
    keyR2I: hkdfExpand(ms, info('r2i key'), 32),
    nonceI2R: hkdfExpand(ms, info('i2r nonce'), 4),
    nonceR2I: hkdfExpand(ms, info('r2i nonce'), 4),
  };
  zeroize(ms);
  return keys;
}

/** The bytes a certificate-mode side signs (§4.1). */
export function signatureInput(role: 'initiator' | 'responder', th: Uint8Array, certificate: Uint8Array): Uint8Array {
  return concat(te.encode(`${LABEL} ${role}`), th, sha256(certificate));
}

/** The PSK-mode key-confirmation MAC (§4.1). */
export function finishedMac(finKey: Uint8Array, th: Uint8Array): Uint8Array {
  return hmacSha256(finKey, th);
}

/** The all-zero nonce of the single message each handshake key seals. */
export const HS_ZERO_NONCE: Uint8Array = new Uint8Array(12);

/** Lower-case hex of `b`. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export { concat as concatBytes };
