// The multiformats helpers behind peer ids: base58btc, strict base32, minimal varints.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, base58btcDecode, base58btcEncode, readVarint, writeVarint } from '../src/multiformats.js';

describe('base58btc', () => {
  it('round-trips any bytes, leading zeros included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base58btcDecode(base58btcEncode(bytes))).toEqual(bytes);
      }),
    );
  });

  it('matches known encodings and refuses characters outside the alphabet', () => {
    expect(base58btcEncode(new TextEncoder().encode('Hello World!'))).toBe('2NEpo7TZRRrLZSi2U');
    expect(base58btcEncode(Uint8Array.of(0, 0, 1))).toBe('112');
    expect(base58btcEncode(new Uint8Array(0))).toBe('');
    for (const bad of ['0', 'O', 'I', 'l', 'é', ' ']) expect(base58btcDecode(`2N${bad}`)).toBeUndefined();
  });
});

describe('base32 (RFC 4648, lowercase, no padding)', () => {
  it('matches the RFC 4648 §10 vectors (lowercased, unpadded)', () => {
    const cases: [string, string][] = [['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'], ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi']];
    for (const [plain, encoded] of cases) {
      expect(base32Encode(new TextEncoder().encode(plain))).toBe(encoded);
      expect(new TextDecoder().decode(base32Decode(encoded))).toBe(plain);
    }
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
      }),
    );
  });

  it('has one text form per byte string: impossible lengths, padding, uppercase and non-zero tail bits are refused', () => {
    expect(base32Decode('m')).toBeUndefined(); // 1 char: impossible
    expect(base32Decode('mzx')).toBeUndefined(); // 3 chars: impossible
    expect(base32Decode('mzxw6y')).toBeUndefined(); // 6 chars: impossible
    expect(base32Decode('my======')).toBeUndefined();
    expect(base32Decode('MY')).toBeUndefined();
    expect(base32Decode('mz')).toBeUndefined(); // 'z' leaves tail bits set
    expect(base32Decode('m\u00e9')).toBeUndefined();
  });
});

describe('unsigned varint', () => {
  it('round-trips safe integers', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const bytes = writeVarint(n);
        expect(readVarint(bytes)).toEqual({ value: n, length: bytes.length });
      }),
    );
  });

  it('reads at an offset and refuses truncated, over-long and non-minimal encodings', () => {
    expect(readVarint(Uint8Array.of(9, 0xac, 0x02), 1)).toEqual({ value: 300, length: 2 });
    expect(readVarint(Uint8Array.of(0x80))).toBeUndefined();
    expect(readVarint(Uint8Array.of(0x81, 0x00))).toBeUndefined();
    expect(readVarint(new Uint8Array(10).fill(0x80))).toBeUndefined();
    expect(readVarint(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))).toBeUndefined(); // 2^63-1 > safe
    expect(readVarint(Uint8Array.of(0))).toEqual({ value: 0, length: 1 });
  });
});
