import { describe, expect, it } from 'vitest';
import { mlkemDecapsulate, mlkemEncapsulate, mlkemKeygen } from '../src/mlkem.js';
import { sha256 } from '../src/hash.js';
import { toHex } from './vectors.js';

const seed = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('ML-KEM-768', () => {
  it('sizes and round trip', () => {
    const kp = mlkemKeygen();
    expect(kp.publicKey).toHaveLength(1184);
    expect(kp.secretKey).toHaveLength(2400);
    const enc = mlkemEncapsulate(kp.publicKey);
    expect(enc.ciphertext).toHaveLength(1088);
    expect(enc.sharedSecret).toHaveLength(32);
    expect(toHex(mlkemDecapsulate(enc.ciphertext, kp.secretKey))).toBe(toHex(enc.sharedSecret));
    // the secret key stays usable (the library wipes only its decoded copy)
    expect(toHex(mlkemDecapsulate(enc.ciphertext, kp.secretKey))).toBe(toHex(enc.sharedSecret));
  });

  it('is deterministic with seeds (for test vectors)', () => {
    const a = mlkemKeygen(seed(64, 1));
    const b = mlkemKeygen(seed(64, 1));
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    expect(toHex(a.secretKey)).toBe(toHex(b.secretKey));
    expect(toHex(mlkemKeygen(seed(64, 2)).publicKey)).not.toBe(toHex(a.publicKey));
    const e1 = mlkemEncapsulate(a.publicKey, seed(32, 3));
    const e2 = mlkemEncapsulate(a.publicKey, seed(32, 3));
    expect(toHex(e1.ciphertext)).toBe(toHex(e2.ciphertext));
    expect(toHex(e1.sharedSecret)).toBe(toHex(e2.sharedSecret));
    // Regression pin (values from @noble/post-quantum 0.7.1, itself checked against NIST ACVP):
    // catches an accidental change of library, parameter set or seed handling.
    expect(toHex(sha256(a.publicKey)).slice(0, 16)).toBe('e68d60857f9cb41f');
    expect(toHex(e1.sharedSecret)).toBe('f39b95557ee52af1954cd59f19febcb39f127e4abefc6f90546e7b8139ce94ba');
  });

  it('implicit rejection: a tampered ciphertext gives an unrelated secret, no throw', () => {
    const kp = mlkemKeygen(seed(64, 4));
    const enc = mlkemEncapsulate(kp.publicKey, seed(32, 5));
    const bad = enc.ciphertext.slice();
    bad[100]! ^= 1;
    const s = mlkemDecapsulate(bad, kp.secretKey);
    expect(s).toHaveLength(32);
    expect(toHex(s)).not.toBe(toHex(enc.sharedSecret));
  });

  it('validates sizes with clear errors', () => {
    const kp = mlkemKeygen();
    const enc = mlkemEncapsulate(kp.publicKey);
    expect(() => mlkemKeygen(seed(32, 0))).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT', message: 'ml-kem-768 keygen seed length 32 != 64' }));
    expect(() => mlkemEncapsulate(kp.publicKey.subarray(1))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_KEY_AGREEMENT', message: 'ml-kem-768 public key length 1183 != 1184' }),
    );
    expect(() => mlkemEncapsulate(kp.publicKey, seed(31, 0))).toThrow(/encapsulation randomness length 31 != 32/);
    expect(() => mlkemDecapsulate(enc.ciphertext.subarray(0, 1087), kp.secretKey)).toThrow(
      expect.objectContaining({ code: 'CRYPTO_KEY_AGREEMENT', message: 'ml-kem-768 ciphertext length 1087 != 1088' }),
    );
    expect(() => mlkemDecapsulate(enc.ciphertext, kp.secretKey.subarray(1))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT', message: 'ml-kem-768 secret key length 2399 != 2400' }),
    );
  });

  it('rejects a public key whose coefficients are out of range (FIPS 203 modulus check)', () => {
    expect(() => mlkemEncapsulate(new Uint8Array(1184).fill(0xff))).toThrow(expect.objectContaining({ code: 'CRYPTO_KEY_AGREEMENT' }));
  });

  it('rejects a secret key whose embedded hash does not match', () => {
    const kp = mlkemKeygen();
    const enc = mlkemEncapsulate(kp.publicKey);
    const sk = kp.secretKey.slice();
    sk[2400 - 40]! ^= 1; // inside H(ek)
    expect(() => mlkemDecapsulate(enc.ciphertext, sk)).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT' }));
  });
});
