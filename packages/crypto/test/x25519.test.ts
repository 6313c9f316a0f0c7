import { describe, expect, it } from 'vitest';
import { generateX25519KeyPair, x25519KeyPairFromPrivate, x25519SharedSecret } from '../src/x25519.js';
import { hex, loadVectors, toHex } from './vectors.js';

interface Rfc7748 {
  scalarMult: { scalar: string; u: string; output: string }[];
  iterated: { iterations: number; output: string }[];
  dh: { alicePrivate: string; alicePublic: string; bobPrivate: string; bobPublic: string; shared: string };
}
const v = loadVectors<Rfc7748>('rfc7748-x25519.json');

describe('X25519 (RFC 7748)', () => {
  it('§5.2 scalar multiplication vectors', () => {
    for (const s of v.scalarMult) expect(toHex(x25519SharedSecret(hex(s.scalar), hex(s.u)))).toBe(s.output);
  });

  it('§5.2 iterated vectors (1 and 1000 iterations)', () => {
    let k: Uint8Array = new Uint8Array(32);
    k[0] = 9;
    let u: Uint8Array = k.slice();
    let done = 0;
    for (const it of v.iterated) {
      for (; done < it.iterations; done++) {
        const r = x25519SharedSecret(k, u);
        u = k;
        k = r;
      }
      expect(toHex(k)).toBe(it.output);
    }
  });

  it('§6.1 Diffie-Hellman example', () => {
    const alice = x25519KeyPairFromPrivate(hex(v.dh.alicePrivate));
    const bob = x25519KeyPairFromPrivate(hex(v.dh.bobPrivate));
    expect(toHex(alice.publicKey)).toBe(v.dh.alicePublic);
    expect(toHex(bob.publicKey)).toBe(v.dh.bobPublic);
    expect(toHex(x25519SharedSecret(alice.privateKey, bob.publicKey))).toBe(v.dh.shared);
    expect(toHex(x25519SharedSecret(bob.privateKey, alice.publicKey))).toBe(v.dh.shared);
  });

  it('random key pairs agree', () => {
    const a = generateX25519KeyPair();
    const b = generateX25519KeyPair();
    expect(a.publicKey).toHaveLength(32);
    expect(a.privateKey).toHaveLength(32);
    expect(toHex(x25519SharedSecret(a.privateKey, b.publicKey))).toBe(toHex(x25519SharedSecret(b.privateKey, a.publicKey)));
    expect(toHex(x25519KeyPairFromPrivate(a.privateKey).publicKey)).toBe(toHex(a.publicKey));
  });

  it('refuses low-order points (all-zero shared secret) with CRYPTO_KEY_AGREEMENT', () => {
    const mine = generateX25519KeyPair();
    const one = new Uint8Array(32);
    one[0] = 1;
    const lowOrder = [new Uint8Array(32), one, hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800')];
    for (const p of lowOrder) {
      expect(() => x25519SharedSecret(mine.privateKey, p)).toThrow(expect.objectContaining({ code: 'CRYPTO_KEY_AGREEMENT' }));
    }
  });

  it('checks key sizes', () => {
    const mine = generateX25519KeyPair();
    expect(() => x25519SharedSecret(mine.privateKey, new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_KEY_AGREEMENT', message: 'x25519 peer public key length 31 != 32' }),
    );
    expect(() => x25519SharedSecret(new Uint8Array(33), mine.publicKey)).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT' }));
    expect(() => x25519KeyPairFromPrivate(new Uint8Array(1))).toThrow(/private key length 1 != 32/);
  });
});
