import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, zeroize } from '../src/zeroize.js';

describe('zeroize', () => {
  it('wipes every buffer and skips missing ones', () => {
    const a = Uint8Array.of(1, 2, 3);
    const b = new Uint8Array(new ArrayBuffer(8), 2, 4).fill(5);
    zeroize(a, undefined, b, null);
    expect([...a]).toEqual([0, 0, 0]);
    expect([...b]).toEqual([0, 0, 0, 0]);
  });
  it('wipes only the view, not the rest of the backing buffer', () => {
    const whole = new Uint8Array(8).fill(9);
    zeroize(whole.subarray(2, 4));
    expect([...whole]).toEqual([9, 9, 0, 0, 9, 9, 9, 9]);
  });
});

describe('constantTimeEqual', () => {
  it('is false for different lengths and non-buffers, without throwing', () => {
    expect(constantTimeEqual(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(constantTimeEqual('ab' as unknown as Uint8Array, Uint8Array.of(1, 2))).toBe(false);
  });
  it('agrees with plain comparison', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        const plain = a.length === b.length && a.every((x, i) => x === b[i]);
        expect(constantTimeEqual(a, b)).toBe(plain);
        expect(constantTimeEqual(a, a.slice())).toBe(true);
      }),
    );
  });
});
