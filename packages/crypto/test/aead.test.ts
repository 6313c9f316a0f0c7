import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAead, defaultAeadImplementation, nativeAeadAvailable, type AeadAlgorithm, type AeadImplementation } from '../src/aead.js';
import { hex, loadVectors, toHex } from './vectors.js';

interface AeadVectors {
  vectors: { name: string; key: string; nonce: string; aad: string; plaintext: string; ciphertext: string; tag: string }[];
}
const suites: [AeadAlgorithm, AeadVectors][] = [
  ['chacha20-poly1305', loadVectors<AeadVectors>('rfc8439-chacha20-poly1305.json')],
  ['aes-256-gcm', loadVectors<AeadVectors>('gcm-aes256.json')],
];
// 'native' is built by `npm ci` (node-gyp); a machine without a compiler fails here on purpose.
const IMPLEMENTATIONS: AeadImplementation[] = ['native', 'node', 'noble'];
const ALGORITHMS: AeadAlgorithm[] = ['chacha20-poly1305', 'aes-256-gcm'];

// One vector suite, run against every implementation.
for (const implementation of IMPLEMENTATIONS) {
  describe(`AEAD vectors (${implementation})`, () => {
    for (const [algorithm, { vectors }] of suites) {
      for (const v of vectors) {
        it(`${algorithm}: ${v.name}`, () => {
          const aead = createAead(algorithm, hex(v.key), { implementation });
          const aad = v.aad === '' ? undefined : hex(v.aad);
          const sealed = aead.seal(hex(v.nonce), hex(v.plaintext), aad);
          expect(toHex(sealed)).toBe(v.ciphertext + v.tag);
          expect(toHex(aead.open(hex(v.nonce), sealed, aad))).toBe(v.plaintext);
          const out = new Uint8Array(sealed.length + 8);
          expect(aead.sealInto(hex(v.nonce), hex(v.plaintext), out, aad, 8)).toBe(sealed.length);
          expect(toHex(out.subarray(8))).toBe(v.ciphertext + v.tag);
          const pt = new Uint8Array(sealed.length);
          expect(aead.openInto(hex(v.nonce), sealed, pt, aad, 4)).toBe(sealed.length - 16);
          expect(toHex(pt.subarray(4, 4 + sealed.length - 16))).toBe(v.plaintext);
          // the data-plane form: sealed at an offset of a larger buffer, opened in place
          const wire = new Uint8Array(sealed.length + 3);
          wire.set(sealed, 3);
          expect(aead.tryOpenInto(hex(v.nonce), wire, 3, sealed.length, wire, aad, 3)).toBe(sealed.length - 16);
          expect(toHex(wire.subarray(3, 3 + sealed.length - 16))).toBe(v.plaintext);
        });
      }
    }
  });
}

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 });
const data = fc.uint8Array({ maxLength: 300 });

describe('AEAD properties', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: native, node and noble produce the same bytes and open each other's output`, () => {
      fc.assert(
        fc.property(key, nonce, data, fc.option(data, { nil: undefined }), (k, n, pt, aad) => {
          const a = createAead(algorithm, k, { implementation: 'node' });
          const b = createAead(algorithm, k, { implementation: 'noble' });
          const c = createAead(algorithm, k, { implementation: 'native' });
          const sa = a.seal(n, pt, aad);
          expect(toHex(sa)).toBe(toHex(b.seal(n, pt, aad)));
          expect(toHex(sa)).toBe(toHex(c.seal(n, pt, aad)));
          expect(toHex(b.open(n, sa, aad))).toBe(toHex(pt));
          expect(toHex(a.open(n, sa, aad))).toBe(toHex(pt));
          expect(toHex(c.open(n, sa, aad))).toBe(toHex(pt));
          // in place: plaintext sealed over itself, opened over itself
          const buf = new Uint8Array(pt.length + 16);
          buf.set(pt);
          expect(c.sealInto(n, buf.subarray(0, pt.length), buf, aad)).toBe(pt.length + 16);
          expect(toHex(buf)).toBe(toHex(sa));
          expect(c.tryOpenInto(n, buf, 0, buf.length, buf, aad)).toBe(pt.length);
          expect(toHex(buf.subarray(0, pt.length))).toBe(toHex(pt));
        }),
        { numRuns: 100 },
      );
    });

    for (const implementation of IMPLEMENTATIONS) {
      it(`${algorithm} (${implementation}): tampering with any byte of sealed, aad or nonce -> CRYPTO_AUTH_FAILED`, () => {
        fc.assert(
          fc.property(key, nonce, data, data, fc.nat(), fc.integer({ min: 1, max: 255 }), (k, n, pt, aad, where, flip) => {
            const aead = createAead(algorithm, k, { implementation });
            const sealed = aead.seal(n, pt, aad);
            const bad = sealed.slice();
            bad[where % bad.length]! ^= flip;
            expect(() => aead.open(n, bad, aad)).toThrow(expect.objectContaining({ code: 'CRYPTO_AUTH_FAILED' }));
            const badNonce = n.slice();
            badNonce[where % 12]! ^= flip;
            expect(() => aead.open(badNonce, sealed, aad)).toThrow(expect.objectContaining({ code: 'CRYPTO_AUTH_FAILED' }));
            const badAad = Uint8Array.from([...aad, 0]);
            expect(() => aead.open(n, sealed, badAad)).toThrow(expect.objectContaining({ code: 'CRYPTO_AUTH_FAILED' }));
            // truncation is tampering too
            expect(() => aead.open(n, sealed.subarray(0, sealed.length - 1), aad)).toThrow(expect.objectContaining({ code: 'CRYPTO_AUTH_FAILED' }));
            // the data-plane form counts instead of throwing, and leaves no plaintext behind
            const out = new Uint8Array(sealed.length).fill(0xee);
            expect(aead.tryOpenInto(n, bad, 0, bad.length, out, aad)).toBe(-1);
            expect(out.subarray(0, pt.length).every((b) => b === 0)).toBe(true);
            expect(aead.tryOpenInto(n, sealed, 0, 15, out, aad)).toBe(-1);
          }),
          { numRuns: 60 },
        );
      });
    }
  }
});

describe('AEAD API', () => {
  for (const implementation of IMPLEMENTATIONS) {
    it(`${implementation}: checks sizes, destroy() wipes and disables the key`, () => {
      const k = new Uint8Array(32).fill(1);
      const aead = createAead('chacha20-poly1305', k, { implementation });
      expect(aead).toMatchObject({ algorithm: 'chacha20-poly1305', implementation, keyLength: 32, nonceLength: 12, tagLength: 16, destroyed: false });
      k.fill(0); // the caller's buffer is not the AEAD's key
      const n = new Uint8Array(12);
      const sealed = aead.seal(n, Uint8Array.of(1, 2, 3));
      expect(toHex(createAead('chacha20-poly1305', new Uint8Array(32).fill(1)).open(n, sealed))).toBe('010203');
      expect(() => aead.seal(new Uint8Array(8), Uint8Array.of(1))).toThrow(
        expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT', message: 'chacha20-poly1305 nonce length 8 != 12' }),
      );
      expect(() => aead.open(n, new Uint8Array(15))).toThrow(
        expect.objectContaining({ code: 'CRYPTO_AUTH_FAILED', message: 'chacha20-poly1305 sealed length 15 < tag length 16' }),
      );
      expect(() => aead.sealInto(n, new Uint8Array(10), new Uint8Array(25))).toThrow(/output length 25 < offset 0 \+ 26/);
      expect(() => aead.openInto(n, sealed, new Uint8Array(2))).toThrow(/output length 2 < offset 0 \+ 3/);
      expect(() => aead.tryOpenInto(n, sealed, 1, sealed.length, new Uint8Array(64))).toThrow(/input range 1\+19 lies outside an array of 19 bytes/);
      expect(() => aead.tryOpenInto(n, sealed, 0, sealed.length, new Uint8Array(2))).toThrow(/output length 2 < offset 0 \+ 3/);
      aead.destroy();
      aead.destroy();
      expect(aead.destroyed).toBe(true);
      expect(() => aead.seal(n, Uint8Array.of(1))).toThrow(/key was destroyed/);
      expect(() => aead.open(n, sealed)).toThrow(/key was destroyed/);
    });
  }

  it('rejects bad keys, algorithms and implementations', () => {
    expect(() => createAead('aes-256-gcm', new Uint8Array(16))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT', message: 'aes-256-gcm key length 16 != 32' }),
    );
    expect(() => createAead('aes-128-gcm' as AeadAlgorithm, new Uint8Array(32))).toThrow(/aes-128-gcm is not one of chacha20-poly1305, aes-256-gcm/);
    expect(() => createAead('aes-256-gcm', new Uint8Array(32), { implementation: 'wasm' as AeadImplementation })).toThrow(/wasm is not one of native, node, noble/);
  });

  it('defaults to native when the addon is built', () => {
    expect(nativeAeadAvailable()).toBe(true);
    expect(defaultAeadImplementation()).toBe('native');
    expect(createAead('chacha20-poly1305', new Uint8Array(32)).implementation).toBe('native');
  });

  it('openInto leaves no unauthenticated plaintext in the output on failure', () => {
    const aead = createAead('aes-256-gcm', new Uint8Array(32).fill(3));
    const n = new Uint8Array(12);
    const sealed = aead.seal(n, new Uint8Array(64).fill(7));
    sealed[70]! ^= 1;
    const out = new Uint8Array(64);
    expect(() => aead.openInto(n, sealed, out)).toThrow(expect.objectContaining({ code: 'CRYPTO_AUTH_FAILED' }));
    expect(out.every((b) => b === 0)).toBe(true);
  });
});
