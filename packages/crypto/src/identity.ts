/**
 * Ed25519 identities (RFC 8032) on node:crypto: key generation, signing, verification and
 * PEM import/export. Public keys travel as 32 raw bytes (the form certificates and the
 * handshake carry); private keys stay inside a node:crypto KeyObject so their bytes are not
 * copied around the JS heap.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES } from './constants.js';

/** An Ed25519 key pair: raw 32-byte public key + private KeyObject. */
export interface Identity {
  /** Raw 32-byte Ed25519 public key (RFC 8032 §5.1.5 encoding). */
  publicKey: Uint8Array;
  /** The private key; never leaves node:crypto unless exported on purpose. */
  privateKey: KeyObject;
}

/** PEM forms of an identity: PKCS#8 private key and SPKI public key. */
export interface IdentityPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

// DER headers for Ed25519 (RFC 8410): SPKI = SEQ{ SEQ{OID 1.3.101.112}, BIT STRING(raw) },
// PKCS#8 = SEQ{ INT 0, SEQ{OID}, OCTET STRING{ OCTET STRING(seed) } }. Raw keys are the tail.
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

function concat(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function assertEd25519(key: KeyObject, type: 'public' | 'private', field: string): void {
  if (key.asymmetricKeyType !== 'ed25519' || key.type !== type) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `${field} is a ${key.asymmetricKeyType ?? key.type} ${key.type} key, expected an ed25519 ${type} key`);
  }
}

/**
 * Generate a new random Ed25519 identity.
 *
 * @example
 * const id = generateIdentity();
 * const sig = signMessage(id.privateKey, msg);
 * verifySignature(id.publicKey, msg, sig); // true
 */
export function generateIdentity(): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawFromEd25519PublicKey(publicKey) };
}

/**
 * Deterministic identity from a 32-byte RFC 8032 secret key ("seed"); for test vectors and
 * keys stored as raw seeds.
 *
 * @example const id = identityFromSeed(seed32);
 */
export function identityFromSeed(seed: Uint8Array): Identity {
  const privateKey = ed25519PrivateKeyFromSeed(seed);
  return { privateKey, publicKey: rawFromEd25519PublicKey(createPublicKey(privateKey)) };
}

/**
 * Private KeyObject from a 32-byte Ed25519 seed.
 *
 * @example const key = ed25519PrivateKeyFromSeed(seed32);
 */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `ed25519 seed length ${seed?.length} != ${ED25519_SEED_BYTES}`);
  }
  const der = concat(PKCS8_PREFIX, seed);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0); // the DER copy holds the seed
  }
}

/**
 * Sign `message` (pure Ed25519, no pre-hash). Returns the 64-byte signature.
 *
 * @example const sig = signMessage(id.privateKey, new TextEncoder().encode('hello'));
 */
export function signMessage(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  assertEd25519(privateKey, 'private', 'privateKey');
  const sig = sign(null, message, privateKey);
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/**
 * Verify an Ed25519 signature. Never throws: a malformed key or signature, or any other bad
 * input, returns false (wire input must not raise out of a data loop).
 *
 * @example if (!verifySignature(peerKey, transcript, sig)) drop();
 */
export function verifySignature(publicKeyRaw: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (
    !(publicKeyRaw instanceof Uint8Array) ||
    !(message instanceof Uint8Array) ||
    !(signature instanceof Uint8Array) ||
    publicKeyRaw.length !== ED25519_PUBLIC_KEY_BYTES ||
    signature.length !== ED25519_SIGNATURE_BYTES
  ) {
    return false;
  }
  try {
    return verify(null, message, ed25519PublicKeyFromRaw(publicKeyRaw), signature);
  } catch {
    return false;
  }
}

/**
 * Public KeyObject from a raw 32-byte Ed25519 public key.
 *
 * @example const key = ed25519PublicKeyFromRaw(cert.publicKey);
 */
export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `ed25519 public key length ${raw?.length} != ${ED25519_PUBLIC_KEY_BYTES}`);
  }
  try {
    return createPublicKey({ key: concat(SPKI_PREFIX, raw), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'ed25519 public key is not a valid point encoding', { cause });
  }
}

/**
 * Raw 32 bytes of an Ed25519 public KeyObject (a private KeyObject gives its public half).
 *
 * @example const raw = rawFromEd25519PublicKey(createPublicKey(pem));
 */
export function rawFromEd25519PublicKey(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  assertEd25519(pub, 'public', 'key');
  const der = pub.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - ED25519_PUBLIC_KEY_BYTES));
}

/**
 * PEM export: PKCS#8 private key and SPKI public key.
 *
 * @example writeFileSync('id.pem', exportIdentityPem(id).privateKeyPem, { mode: 0o600 });
 */
export function exportIdentityPem(identity: Identity): IdentityPem {
  assertEd25519(identity.privateKey, 'private', 'identity.privateKey');
  return {
    privateKeyPem: identity.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicKeyPem: ed25519PublicKeyFromRaw(identity.publicKey).export({ format: 'pem', type: 'spki' }) as string,
  };
}

/**
 * Import an identity from a PKCS#8 PEM Ed25519 private key.
 *
 * @example const id = importIdentityPem(readFileSync('id.pem', 'utf8'));
 */
export function importIdentityPem(pkcs8Pem: string): Identity {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pkcs8Pem, format: 'pem' });
  } catch (cause) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'identity PEM does not parse as a PKCS#8 private key', { cause });
  }
  assertEd25519(privateKey, 'private', 'identity PEM');
  return { privateKey, publicKey: rawFromEd25519PublicKey(createPublicKey(privateKey)) };
}
