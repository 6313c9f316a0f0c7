/**
 * The primitives the handshake uses, gathered behind one small internal interface so the
 * state machines read like the spec (docs/protocols/handshake.md §4). Not exported from the
 * package. TEMPORARY: direct noble calls until the package's own primitive modules land.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { gcm } from '@noble/ciphers/aes.js';
import { CryptoError } from './errors.js';
import type { HandshakeAeadAlgorithm } from './handshake-constants.js';

export const sha256 = (data: Uint8Array): Uint8Array => nobleSha256(data);
export const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array => hmac(nobleSha256, key, data);
export const hkdfExtract = (salt: Uint8Array, ikm: Uint8Array): Uint8Array => extract(nobleSha256, ikm, salt);
export const hkdfExpand = (prk: Uint8Array, info: Uint8Array, length: number): Uint8Array =>
  expand(nobleSha256, prk, info, length);

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/** X25519 key pair from 32 random bytes (deterministic for vectors). */
export function x25519KeyPair(seed: Uint8Array): KeyPair {
  const privateKey = seed.slice();
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

export function x25519Shared(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const s = x25519.getSharedSecret(privateKey, publicKey);
  if (s.every((b) => b === 0)) throw new CryptoError('CRYPTO_KEY_AGREEMENT', 'x25519 shared secret is all zero');
  return s;
}

export function mlkemKeyPair(seed: Uint8Array): KeyPair {
  const { publicKey, secretKey } = ml_kem768.keygen(seed);
  return { publicKey, privateKey: secretKey };
}

export function mlkemEncapsulate(publicKey: Uint8Array, seed: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, seed);
  return { ciphertext: cipherText, sharedSecret };
}

export function mlkemDecapsulate(ciphertext: Uint8Array, privateKey: Uint8Array): Uint8Array {
  return ml_kem768.decapsulate(ciphertext, privateKey);
}

export function combineShared(args: { classical: Uint8Array; postQuantum: Uint8Array | undefined; transcriptHash: Uint8Array; label: string }): Uint8Array {
  const ikm = args.postQuantum === undefined ? args.classical : new Uint8Array([...args.classical, ...args.postQuantum]);
  return extract(nobleSha256, ikm, new Uint8Array([...new TextEncoder().encode(args.label), ...args.transcriptHash]));
}

export function aeadSeal(alg: HandshakeAeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return alg === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad).encrypt(plaintext) : gcm(key, nonce, aad).encrypt(plaintext);
}

/** Open or return undefined when authentication fails. */
export function aeadOpen(alg: HandshakeAeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  try {
    return alg === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad).decrypt(ciphertext) : gcm(key, nonce, aad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}

export const ed25519Sign = (privateKey: Uint8Array, msg: Uint8Array): Uint8Array => ed25519.sign(msg, privateKey);
export function ed25519Verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return ed25519.verify(sig, msg, publicKey);
  } catch {
    return false;
  }
}

export function zeroize(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
