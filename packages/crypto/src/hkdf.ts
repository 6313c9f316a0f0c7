/**
 * HKDF-SHA256 (RFC 5869) on node:crypto: Extract, Expand, and both in one call. Arguments
 * follow the RFC's order: Extract(salt, IKM), Expand(PRK, info, L), HKDF(salt, IKM, info, L).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { CryptoError } from './errors.js';
import { HKDF_SHA256_MAX_OUTPUT_BYTES, SHA256_BYTES } from './constants.js';

const EMPTY = new Uint8Array(0);
// node's hkdfSync refuses info longer than 1024 bytes; longer info goes through our Expand.
const NODE_HKDF_MAX_INFO_BYTES = 1024;

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_SHA256_MAX_OUTPUT_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `hkdf length ${length} outside 1..${HKDF_SHA256_MAX_OUTPUT_BYTES}`);
  }
}

/**
 * HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt, IKM). An empty salt means 32 zero bytes.
 *
 * @example const prk = hkdfExtract(transcriptHash, sharedSecret);
 */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const h = createHmac('sha256', salt.length === 0 ? new Uint8Array(SHA256_BYTES) : salt);
  const out = h.update(ikm).digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * HKDF-Expand (RFC 5869 §2.3): `length` bytes (1..8160) from a PRK of at least 32 bytes.
 *
 * @example const key = hkdfExpand(prk, new TextEncoder().encode('edgebox send'), 32);
 */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  checkLength(length);
  if (prk.length < SHA256_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `hkdf prk length ${prk.length} < ${SHA256_BYTES}`);
  }
  const out = new Uint8Array(length);
  let t: Uint8Array = EMPTY;
  const counter = new Uint8Array(1);
  for (let pos = 0, i = 1; pos < length; i++) {
    counter[0] = i;
    const block = createHmac('sha256', prk).update(t).update(info).update(counter).digest();
    out.set(block.subarray(0, Math.min(SHA256_BYTES, length - pos)), pos);
    pos += SHA256_BYTES;
    t = block;
  }
  return out;
}

/**
 * HKDF-SHA256 (RFC 5869 §2): Expand(Extract(salt, ikm), info, length).
 *
 * @example const okm = hkdf(salt, ikm, info, 64);
 */
export function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  checkLength(length);
  if (info.length > NODE_HKDF_MAX_INFO_BYTES) return hkdfExpand(hkdfExtract(salt, ikm), info, length);
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}
