/**
 * Combining key-agreement secrets into one session secret (ARCHITECTURE.md "Crypto policy").
 *
 * Hybrid (X25519 + ML-KEM-768): the output stays secret as long as EITHER input is secret.
 *
 *   IKM  = u16be(len c) || c || u16be(len pq) || pq          c = X25519 secret, pq = ML-KEM secret
 *   PRK  = HKDF-Extract(salt = transcriptHash, IKM)
 *   out  = HKDF-Expand(PRK, info = "edgebox/hybrid/v1/" || label, length)
 *
 * Classical-only mode is a separate, explicitly named function with its own domain string
 * ("edgebox/classical/v1/"), so a classical secret can never equal a hybrid one and no code
 * path falls back from hybrid to classical without the caller saying so.
 * Length prefixes keep (c, pq) unambiguous even if a future suite changes the sizes.
 */
import { CryptoError } from './errors.js';
import { hkdfExpand, hkdfExtract } from './hkdf.js';
import { zeroize } from './zeroize.js';
import { HKDF_SHA256_MAX_OUTPUT_BYTES, HYBRID_SECRET_BYTES, MLKEM_SHARED_BYTES, X25519_SHARED_BYTES } from './constants.js';

/** Inputs of combineHybridSecret(). */
export interface HybridSecretInput {
  /** X25519 shared secret (32 bytes). */
  classical: Uint8Array;
  /** ML-KEM-768 shared secret (32 bytes). */
  postQuantum: Uint8Array;
  /** Hash of the handshake transcript so far (binds the secret to what both sides saw). */
  transcriptHash: Uint8Array;
  /** Purpose label, e.g. "handshake" or "rekey"; different labels give unrelated outputs. */
  label: string;
  /** Output bytes (default 32, max 8160). */
  length?: number;
}

/** Inputs of combineClassicalSecret(): the hybrid inputs without a post-quantum secret. */
export type ClassicalSecretInput = Omit<HybridSecretInput, 'postQuantum'>;

const HYBRID_DOMAIN = 'edgebox/hybrid/v1/';
const CLASSICAL_DOMAIN = 'edgebox/classical/v1/';
const MAX_LABEL_BYTES = 255;
const MIN_TRANSCRIPT_HASH_BYTES = 32;
const encoder = new TextEncoder();

function check(value: Uint8Array, expected: number, field: string): void {
  if (!(value instanceof Uint8Array) || value.length !== expected) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `${field} length ${value?.length} != ${expected}`);
  }
}

function derive(domain: string, secrets: Uint8Array[], input: ClassicalSecretInput): Uint8Array {
  const length = input.length ?? HYBRID_SECRET_BYTES;
  if (!Number.isInteger(length) || length < HYBRID_SECRET_BYTES || length > HKDF_SHA256_MAX_OUTPUT_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `combined secret length ${length} outside ${HYBRID_SECRET_BYTES}..${HKDF_SHA256_MAX_OUTPUT_BYTES}`);
  }
  if (!(input.transcriptHash instanceof Uint8Array) || input.transcriptHash.length < MIN_TRANSCRIPT_HASH_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `transcriptHash length ${input.transcriptHash?.length} < ${MIN_TRANSCRIPT_HASH_BYTES}`);
  }
  const label = encoder.encode(input.label);
  if (label.length === 0 || label.length > MAX_LABEL_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `label length ${label.length} outside 1..${MAX_LABEL_BYTES} bytes`);
  }
  let size = 0;
  for (const s of secrets) size += 2 + s.length;
  const ikm = new Uint8Array(size);
  let pos = 0;
  for (const s of secrets) {
    ikm[pos] = s.length >>> 8;
    ikm[pos + 1] = s.length & 0xff;
    ikm.set(s, pos + 2);
    pos += 2 + s.length;
  }
  const prk = hkdfExtract(input.transcriptHash, ikm);
  const info = new Uint8Array(domain.length + label.length);
  info.set(encoder.encode(domain), 0);
  info.set(label, domain.length);
  try {
    return hkdfExpand(prk, info, length);
  } finally {
    zeroize(ikm, prk);
  }
}

/**
 * Hybrid session secret from an X25519 and an ML-KEM-768 shared secret, bound to the
 * transcript. Secret as long as either input is.
 *
 * @example
 * const secret = combineHybridSecret({ classical: x, postQuantum: k, transcriptHash: th, label: 'handshake' });
 */
export function combineHybridSecret(input: HybridSecretInput): Uint8Array {
  check(input.classical, X25519_SHARED_BYTES, 'classical secret');
  check(input.postQuantum, MLKEM_SHARED_BYTES, 'postQuantum secret');
  return derive(HYBRID_DOMAIN, [input.classical, input.postQuantum], input);
}

/**
 * Classical-only (X25519) session secret, for peers that explicitly negotiated a classical
 * suite. Never used as a fallback for a failed hybrid exchange.
 *
 * @example
 * const secret = combineClassicalSecret({ classical: x, transcriptHash: th, label: 'handshake' });
 */
export function combineClassicalSecret(input: ClassicalSecretInput): Uint8Array {
  check(input.classical, X25519_SHARED_BYTES, 'classical secret');
  if ('postQuantum' in input && (input as { postQuantum?: unknown }).postQuantum !== undefined) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'combineClassicalSecret got a postQuantum secret: use combineHybridSecret');
  }
  return derive(CLASSICAL_DOMAIN, [input.classical], input);
}
