import { describe, expect, it } from 'vitest';
import { hmacSha256, sha256 } from '../src/hash.js';
import { hkdf, hkdfExpand, hkdfExtract } from '../src/hkdf.js';
import { hex, loadVectors, toHex } from './vectors.js';

interface HashVectors {
  sha256: { message: string; digest: string }[];
  hmacSha256: { name: string; key: string; data: string; mac: string }[];
}
interface HkdfVectors {
  vectors: { name: string; ikm: string; salt: string; info: string; length: number; prk: string; okm: string }[];
}

const hashV = loadVectors<HashVectors>('sha256-hmac.json');
const hkdfV = loadVectors<HkdfVectors>('rfc5869-hkdf-sha256.json');

describe('sha256 / hmacSha256 (FIPS 180-2, RFC 4231)', () => {
  for (const v of hashV.sha256) {
    it(`sha256 of ${v.message.length / 2} bytes`, () => {
      expect(toHex(sha256(hex(v.message)))).toBe(v.digest);
      // parts hash like their concatenation
      const m = hex(v.message);
      const cut = m.length >> 1;
      expect(toHex(sha256(m.subarray(0, cut), m.subarray(cut)))).toBe(v.digest);
    });
  }
  for (const v of hashV.hmacSha256) {
    it(v.name, () => {
      expect(toHex(hmacSha256(hex(v.key), hex(v.data)))).toBe(v.mac);
      const d = hex(v.data);
      expect(toHex(hmacSha256(hex(v.key), d.subarray(0, 3), d.subarray(3)))).toBe(v.mac);
    });
  }
  it('sha256 of no parts is the empty digest', () => {
    expect(toHex(sha256())).toBe(hashV.sha256[0]!.digest);
  });
});

describe('HKDF-SHA256 (RFC 5869 Appendix A)', () => {
  for (const v of hkdfV.vectors) {
    it(v.name, () => {
      const prk = hkdfExtract(hex(v.salt), hex(v.ikm));
      expect(toHex(prk)).toBe(v.prk);
      expect(toHex(hkdfExpand(prk, hex(v.info), v.length))).toBe(v.okm);
      expect(toHex(hkdf(hex(v.salt), hex(v.ikm), hex(v.info), v.length))).toBe(v.okm);
    });
  }

  it('long info (> 1024 bytes, beyond node hkdfSync) goes through Expand and agrees with it', () => {
    const info = new Uint8Array(2000).fill(7);
    const salt = Uint8Array.of(1, 2, 3);
    const ikm = new Uint8Array(32).fill(9);
    expect(toHex(hkdf(salt, ikm, info, 64))).toBe(toHex(hkdfExpand(hkdfExtract(salt, ikm), info, 64)));
  });

  it('Expand at its maximum length and rejects beyond it', () => {
    const prk = new Uint8Array(32).fill(1);
    expect(hkdfExpand(prk, new Uint8Array(0), 8160)).toHaveLength(8160);
    expect(() => hkdfExpand(prk, new Uint8Array(0), 8161)).toThrow(/hkdf length 8161 outside 1\.\.8160/);
    expect(() => hkdf(prk, prk, new Uint8Array(0), 0)).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT' }));
    expect(() => hkdfExpand(new Uint8Array(16), new Uint8Array(0), 32)).toThrow(/prk length 16 < 32/);
  });
});
