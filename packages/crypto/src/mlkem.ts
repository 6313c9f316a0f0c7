/**
 * ML-KEM-768 (FIPS 203) key encapsulation via @noble/post-quantum, with the sizes checked up
 * front so a malformed peer input fails with a clear CryptoError instead of a library message.
 * Optional seeds make key generation and encapsulation deterministic for test vectors.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { CryptoError, type CryptoErrorCode } from './errors.js';
import {
  MLKEM768_CIPHERTEXT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  MLKEM768_SECRET_KEY_BYTES,
  MLKEM_ENCAPS_SEED_BYTES,
  MLKEM_KEYGEN_SEED_BYTES,
} from './constants.js';

/** ML-KEM-768 key pair: 1184-byte public (encapsulation) key, 2400-byte secret key. */
export interface MlKemKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** Result of encapsulation: 1088-byte ciphertext for the peer, 32-byte shared secret. */
export interface MlKemEncapsulation {
  ciphertext: Uint8Array;
  sharedSecret: Uint8Array;
}

function checkSize(value: Uint8Array | undefined, expected: number, field: string, code: CryptoErrorCode): void {
  if (!(value instanceof Uint8Array) || value.length !== expected) {
    throw new CryptoError(code, `ml-kem-768 ${field} length ${value?.length} != ${expected}`);
  }
}

/**
 * Generate an ML-KEM-768 key pair; `seed` (64 bytes, d || z) makes it deterministic.
 *
 * @example const { publicKey, secretKey } = mlkemKeygen();
 */
export function mlkemKeygen(seed?: Uint8Array): MlKemKeyPair {
  if (seed !== undefined) checkSize(seed, MLKEM_KEYGEN_SEED_BYTES, 'keygen seed', 'CRYPTO_INVALID_ARGUMENT');
  const { publicKey, secretKey } = ml_kem768.keygen(seed);
  return { publicKey, secretKey };
}

/**
 * Encapsulate to a peer's public key; `randomness` (32 bytes) makes it deterministic. A
 * public key of the wrong size or failing the FIPS 203 modulus check -> CRYPTO_KEY_AGREEMENT.
 *
 * @example const { ciphertext, sharedSecret } = mlkemEncapsulate(peerPublicKey);
 */
export function mlkemEncapsulate(publicKey: Uint8Array, randomness?: Uint8Array): MlKemEncapsulation {
  checkSize(publicKey, MLKEM768_PUBLIC_KEY_BYTES, 'public key', 'CRYPTO_KEY_AGREEMENT');
  if (randomness !== undefined) checkSize(randomness, MLKEM_ENCAPS_SEED_BYTES, 'encapsulation randomness', 'CRYPTO_INVALID_ARGUMENT');
  try {
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, randomness);
    return { ciphertext: cipherText, sharedSecret };
  } catch (cause) {
    throw new CryptoError('CRYPTO_KEY_AGREEMENT', 'ml-kem-768 public key is malformed (coefficient out of range)', { cause });
  }
}

/**
 * Decapsulate a ciphertext with our secret key. A wrong-size ciphertext ->
 * CRYPTO_KEY_AGREEMENT; a tampered ciphertext of the right size yields an unrelated secret
 * (FIPS 203 implicit rejection), so the mismatch shows up when the peers' keys disagree.
 *
 * @example const sharedSecret = mlkemDecapsulate(ciphertext, mine.secretKey);
 */
export function mlkemDecapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  checkSize(ciphertext, MLKEM768_CIPHERTEXT_BYTES, 'ciphertext', 'CRYPTO_KEY_AGREEMENT');
  checkSize(secretKey, MLKEM768_SECRET_KEY_BYTES, 'secret key', 'CRYPTO_INVALID_ARGUMENT');
  try {
    return ml_kem768.decapsulate(ciphertext, secretKey);
  } catch (cause) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'ml-kem-768 secret key is malformed (hash check failed)', { cause });
  }
}
