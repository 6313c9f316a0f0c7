/**
 * The primitives the handshake uses, gathered behind one small internal interface so the
 * state machines read like the spec (docs/protocols/handshake.md §4). Not exported from the
 * package. Everything here is the package's own modules: X25519, Ed25519, SHA-256, HMAC and
 * HKDF on node:crypto, ML-KEM-768 (mlkem.ts), the hybrid/classical combiners (hybrid.ts) and
 * the node:crypto AEAD (aead.ts). This file only adapts shapes (seeded ephemerals, one-shot
 * handshake AEAD that reports failure as `undefined`).
 */
import type { KeyObject } from 'node:crypto';
import { createAead } from './aead.js';
import { isCryptoError } from './errors.js';
import { combineClassicalSecret, combineHybridSecret } from './hybrid.js';
import { mlkemKeygen } from './mlkem.js';
import { signMessage, verifySignature } from './identity.js';
import { x25519KeyPairFromPrivate } from './x25519.js';
import type { HandshakeAeadAlgorithm } from './handshake-constants.js';

export { sha256, hmacSha256 } from './hash.js';
export { hkdfExtract, hkdfExpand } from './hkdf.js';
export { zeroize, constantTimeEqual } from './zeroize.js';
export { x25519SharedSecret as x25519Shared } from './x25519.js';
export { mlkemEncapsulate, mlkemDecapsulate } from './mlkem.js';

/** An ephemeral key pair as raw bytes (X25519: 32/32; ML-KEM-768: 1184/2400). */
export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/** X25519 key pair from 32 random bytes (deterministic for vectors, §10). */
export function x25519KeyPair(seed: Uint8Array): KeyPair {
  return x25519KeyPairFromPrivate(seed);
}

/** ML-KEM-768 key pair from a 64-byte seed (d ‖ z, §10). */
export function mlkemKeyPair(seed: Uint8Array): KeyPair {
  const { publicKey, secretKey } = mlkemKeygen(seed);
  return { publicKey, privateKey: secretKey };
}

/**
 * `shared` of §4: combineHybridSecret for hybrid suites, combineClassicalSecret (its own
 * domain string) for classical ones, both bound to TH2 under `label`.
 */
export function combineShared(args: { classical: Uint8Array; postQuantum: Uint8Array | undefined; transcriptHash: Uint8Array; label: string }): Uint8Array {
  const { classical, postQuantum, transcriptHash, label } = args;
  return postQuantum === undefined
    ? combineClassicalSecret({ classical, transcriptHash, label })
    : combineHybridSecret({ classical, postQuantum, transcriptHash, label });
}

/** Seal one handshake message under a single-use key (node:crypto AEAD). */
export function aeadSeal(alg: HandshakeAeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const aead = createAead(alg, key);
  try {
    return aead.seal(nonce, plaintext, aad);
  } finally {
    aead.destroy();
  }
}

/** Open one handshake message, or return undefined when authentication fails. */
export function aeadOpen(alg: HandshakeAeadAlgorithm, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  const aead = createAead(alg, key);
  try {
    return aead.open(nonce, sealed, aad);
  } catch (err) {
    if (isCryptoError(err, 'CRYPTO_AUTH_FAILED')) return undefined;
    throw err;
  } finally {
    aead.destroy();
  }
}

/** Ed25519 signature with our identity's private key (node:crypto). */
export const ed25519Sign = (privateKey: KeyObject, msg: Uint8Array): Uint8Array => signMessage(privateKey, msg);

/** Ed25519 verification; false on any bad input, never throws. */
export const ed25519Verify = (publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => verifySignature(publicKey, msg, sig);
