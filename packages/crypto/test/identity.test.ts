import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromRaw,
  exportIdentityPem,
  generateIdentity,
  identityFromSeed,
  importIdentityPem,
  rawFromEd25519PublicKey,
  signMessage,
  verifySignature,
} from '../src/identity.js';
import { hex, loadVectors, toHex } from './vectors.js';

interface Rfc8032 {
  vectors: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[];
}
const { vectors } = loadVectors<Rfc8032>('rfc8032-ed25519.json');

describe('Ed25519 identity: RFC 8032 §7.1 vectors', () => {
  for (const v of vectors) {
    it(v.name, () => {
      const id = identityFromSeed(hex(v.secretKey));
      expect(toHex(id.publicKey)).toBe(v.publicKey);
      const sig = signMessage(id.privateKey, hex(v.message));
      expect(toHex(sig)).toBe(v.signature);
      expect(verifySignature(hex(v.publicKey), hex(v.message), hex(v.signature))).toBe(true);
    });
  }
});

describe('Ed25519 identity', () => {
  it('generates, signs and verifies', () => {
    const id = generateIdentity();
    expect(id.publicKey).toHaveLength(32);
    const msg = new TextEncoder().encode('edgebox');
    const sig = signMessage(id.privateKey, msg);
    expect(sig).toHaveLength(64);
    expect(verifySignature(id.publicKey, msg, sig)).toBe(true);
    expect(verifySignature(id.publicKey, new TextEncoder().encode('edgebox!'), sig)).toBe(false);
    expect(verifySignature(generateIdentity().publicKey, msg, sig)).toBe(false);
  });

  it('verifySignature returns false on any malformed input, never throws', () => {
    const id = generateIdentity();
    const msg = Uint8Array.of(1, 2, 3);
    const sig = signMessage(id.privateKey, msg);
    const flipped = sig.slice();
    flipped[10]! ^= 1;
    expect(verifySignature(id.publicKey, msg, flipped)).toBe(false);
    expect(verifySignature(id.publicKey, msg, sig.subarray(0, 63))).toBe(false);
    expect(verifySignature(id.publicKey.subarray(0, 31), msg, sig)).toBe(false);
    expect(verifySignature(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
    expect(verifySignature(new Uint8Array(32), msg, new Uint8Array(64).fill(0xff))).toBe(false);
    expect(verifySignature('x' as unknown as Uint8Array, msg, sig)).toBe(false);
    expect(verifySignature(id.publicKey, null as unknown as Uint8Array, sig)).toBe(false);
  });

  it('converts raw public keys to KeyObjects and back', () => {
    const id = generateIdentity();
    const key = ed25519PublicKeyFromRaw(id.publicKey);
    expect(key.asymmetricKeyType).toBe('ed25519');
    expect(toHex(rawFromEd25519PublicKey(key))).toBe(toHex(id.publicKey));
    expect(toHex(rawFromEd25519PublicKey(id.privateKey))).toBe(toHex(id.publicKey));
    expect(() => ed25519PublicKeyFromRaw(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT' }));
    const x = generateKeyPairSync('x25519').publicKey;
    expect(() => rawFromEd25519PublicKey(x)).toThrow(/expected an ed25519 public key/);
  });

  it('rejects wrong-size seeds', () => {
    expect(() => ed25519PrivateKeyFromSeed(new Uint8Array(33))).toThrow(/seed length 33 != 32/);
  });

  it('round-trips through PEM (PKCS#8 + SPKI)', () => {
    const id = generateIdentity();
    const pem = exportIdentityPem(id);
    expect(pem.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(pem.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    const back = importIdentityPem(pem.privateKeyPem);
    expect(toHex(back.publicKey)).toBe(toHex(id.publicKey));
    expect(toHex(rawFromEd25519PublicKey(createPublicKey(pem.publicKeyPem)))).toBe(toHex(id.publicKey));
    const msg = Uint8Array.of(9);
    expect(verifySignature(id.publicKey, msg, signMessage(back.privateKey, msg))).toBe(true);
  });

  it('importIdentityPem rejects garbage and non-Ed25519 keys', () => {
    expect(() => importIdentityPem('not a pem')).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT' }));
    const x = generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(() => importIdentityPem(x)).toThrow(/expected an ed25519 private key/);
    expect(() => signMessage(generateKeyPairSync('x25519').privateKey, Uint8Array.of(1))).toThrow(/expected an ed25519 private key/);
  });
});
