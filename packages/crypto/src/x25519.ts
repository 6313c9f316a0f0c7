/**
 * X25519 key agreement (RFC 7748) on node:crypto, with raw 32-byte keys in and out (the form
 * the handshake carries on the wire). A shared secret that comes out all zero means the peer
 * sent a low-order point (RFC 7748 §6.1); it is refused with CRYPTO_KEY_AGREEMENT.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';
import { X25519_KEY_BYTES } from './constants.js';

/** An X25519 key pair as raw bytes. Wipe `privateKey` with zeroize() when done. */
export interface X25519KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

// RFC 8410 DER headers (OID 1.3.101.110); the raw key is the last 32 bytes.
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

function checkKey(key: Uint8Array, field: string, code: 'CRYPTO_INVALID_ARGUMENT' | 'CRYPTO_KEY_AGREEMENT'): void {
  if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_BYTES) {
    throw new CryptoError(code, `x25519 ${field} length ${key?.length} != ${X25519_KEY_BYTES}`);
  }
}

function der(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + raw.length);
  out.set(prefix, 0);
  out.set(raw, prefix.length);
  return out;
}

function privateKeyObject(raw: Uint8Array): KeyObject {
  const d = der(PKCS8_PREFIX, raw);
  try {
    return createPrivateKey({ key: d, format: 'der', type: 'pkcs8' });
  } finally {
    d.fill(0);
  }
}

function rawTail(key: KeyObject, type: 'spki' | 'pkcs8'): Uint8Array {
  const d = type === 'spki' ? key.export({ format: 'der', type }) : key.export({ format: 'der', type });
  const out = new Uint8Array(d.subarray(d.length - X25519_KEY_BYTES));
  d.fill(0);
  return out;
}

/**
 * Fresh random X25519 key pair.
 *
 * @example const { publicKey, privateKey } = generateX25519KeyPair();
 */
export function generateX25519KeyPair(): X25519KeyPair {
  const kp = generateKeyPairSync('x25519');
  return { publicKey: rawTail(kp.publicKey, 'spki'), privateKey: rawTail(kp.privateKey, 'pkcs8') };
}

/**
 * Key pair from a given 32-byte private key (deterministic: test vectors, stored keys). The
 * private key is copied; the caller keeps ownership of `privateRaw`.
 *
 * @example const kp = x25519KeyPairFromPrivate(seed32);
 */
export function x25519KeyPairFromPrivate(privateRaw: Uint8Array): X25519KeyPair {
  checkKey(privateRaw, 'private key', 'CRYPTO_INVALID_ARGUMENT');
  return { privateKey: privateRaw.slice(), publicKey: rawTail(createPublicKey(privateKeyObject(privateRaw)), 'spki') };
}

/**
 * X25519(privateRaw, peerPublicRaw): the 32-byte shared secret. Throws CRYPTO_KEY_AGREEMENT
 * when the peer key has the wrong size or the result is all zero (low-order point).
 *
 * @example const shared = x25519SharedSecret(mine.privateKey, peerPublicKey);
 */
export function x25519SharedSecret(privateRaw: Uint8Array, peerPublicRaw: Uint8Array): Uint8Array {
  checkKey(privateRaw, 'private key', 'CRYPTO_INVALID_ARGUMENT');
  checkKey(peerPublicRaw, 'peer public key', 'CRYPTO_KEY_AGREEMENT');
  let secret: Buffer;
  try {
    secret = diffieHellman({
      privateKey: privateKeyObject(privateRaw),
      publicKey: createPublicKey({ key: der(SPKI_PREFIX, peerPublicRaw), format: 'der', type: 'spki' }),
    });
  } catch (cause) {
    // OpenSSL itself refuses an all-zero output ("failed during derivation").
    throw new CryptoError('CRYPTO_KEY_AGREEMENT', 'x25519 key agreement failed: peer public key is a low-order point', { cause });
  }
  let acc = 0;
  for (let i = 0; i < secret.length; i++) acc |= secret[i]!;
  if (acc === 0) {
    throw new CryptoError('CRYPTO_KEY_AGREEMENT', 'x25519 shared secret is all zero: peer public key is a low-order point');
  }
  return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
}
