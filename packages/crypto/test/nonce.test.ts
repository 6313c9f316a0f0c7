import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNonceSequence, readNonceCounter, writeCounterNonce } from '../src/nonce.js';
import { toHex } from './vectors.js';

const prefix = Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4);

describe('counter nonces', () => {
  it('lays out prefix || 64-bit little-endian counter in one reused buffer', () => {
    const seq = createNonceSequence({ prefix });
    const buf = seq.nonce;
    expect(seq.next()).toBe(0);
    expect(toHex(seq.nonce)).toBe('a1b2c3d4' + '0000000000000000');
    expect(seq.next()).toBe(1);
    expect(toHex(seq.nonce)).toBe('a1b2c3d4' + '0100000000000000');
    expect(seq.nonce).toBe(buf);
    const big = createNonceSequence({ prefix, start: 0x0102030405 });
    expect(big.next()).toBe(0x0102030405);
    expect(toHex(big.nonce)).toBe('a1b2c3d4' + '0504030201000000');
    const max = createNonceSequence({ prefix, start: Number.MAX_SAFE_INTEGER - 1 });
    max.next();
    expect(toHex(max.nonce)).toBe('a1b2c3d4' + 'feffffffffff1f00');
  });

  it('copies the prefix', () => {
    const p = prefix.slice();
    const seq = createNonceSequence({ prefix: p });
    p.fill(0);
    seq.next();
    expect(toHex(seq.nonce.subarray(0, 4))).toBe('a1b2c3d4');
  });

  it('raises CRYPTO_NONCE_EXHAUSTED exactly at the limit', () => {
    const seq = createNonceSequence({ prefix, limit: 3 });
    expect(seq.limit).toBe(3);
    expect([seq.next(), seq.next()]).toEqual([0, 1]);
    expect(seq.remaining).toBe(1);
    expect(seq.next()).toBe(2);
    expect(seq.remaining).toBe(0);
    expect(() => seq.next()).toThrow(expect.objectContaining({ code: 'CRYPTO_NONCE_EXHAUSTED', message: 'nonce counter 3 reached limit 3: rekey' }));
    expect(seq.counter).toBe(3); // stays exhausted
    expect(() => seq.next()).toThrow(expect.objectContaining({ code: 'CRYPTO_NONCE_EXHAUSTED' }));
  });

  it('never repeats a nonce', () => {
    const seq = createNonceSequence({ prefix, start: 2 ** 32 - 500, limit: 2 ** 32 + 500 });
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      seq.next();
      seen.add(toHex(seq.nonce));
    }
    expect(seen.size).toBe(1000);
  });

  it('writeCounterNonce / readNonceCounter round-trip and match the sequence', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }), fc.nat({ max: 8 }), (c, off) => {
        const seq = createNonceSequence({ prefix, start: c });
        seq.next();
        const out = new Uint8Array(12 + off);
        writeCounterNonce(out, prefix, c, off);
        expect(toHex(out.subarray(off))).toBe(toHex(seq.nonce));
        expect(readNonceCounter(out, off)).toBe(c);
      }),
    );
    expect(readNonceCounter(new Uint8Array(12).fill(0xff))).toBe(-1);
    expect(() => writeCounterNonce(new Uint8Array(12), prefix, -1)).toThrow(expect.objectContaining({ code: 'CRYPTO_INVALID_ARGUMENT' }));
  });

  it('validates its options', () => {
    expect(() => createNonceSequence({ prefix: new Uint8Array(3) })).toThrow('nonce prefix length 3 != 4');
    expect(() => createNonceSequence({ prefix, limit: 0 })).toThrow(/nonce limit 0/);
    expect(() => createNonceSequence({ prefix, limit: 2 ** 53 })).toThrow(/nonce limit/);
    expect(() => createNonceSequence({ prefix, limit: 5, start: 6 })).toThrow('nonce start 6 is not an integer in 0..5');
  });
});
