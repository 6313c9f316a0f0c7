// FramingError shape (CONVENTIONS.md "Errors"): code, name, message, cause, details, toJSON,
// and isFramingError matching on the code (so IPC copies match too).
import { describe, expect, it } from 'vitest';
import { FRAMING_ERROR_CODES, FramingError, createStreamDecoder, isFramingError } from '../src/index.js';

describe('FramingError', () => {
  it('carries code, name, message, cause and details, and serialises without the stack', () => {
    const cause = new Error('socket');
    const err = new FramingError('FRAMING_TOO_LARGE', 'frame length 70000 > max 65535', { cause, details: { value: 70000 } });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('FramingError');
    expect(err.code).toBe('FRAMING_TOO_LARGE');
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({ code: 'FRAMING_TOO_LARGE', message: 'frame length 70000 > max 65535', details: { value: 70000 } });
    expect(new FramingError('FRAMING_TRUNCATED', 'x').toJSON()).toEqual({ code: 'FRAMING_TRUNCATED', message: 'x' });
    expect(new FramingError('FRAMING_TRUNCATED', 'x').cause).toBeUndefined();
  });

  it('is recognised by code, including plain-object copies from IPC', () => {
    const copy = JSON.parse(JSON.stringify(new FramingError('FRAMING_RESERVED', 'r'))) as unknown;
    expect(isFramingError(copy)).toBe(true);
    expect(isFramingError(copy, 'FRAMING_RESERVED')).toBe(true);
    expect(isFramingError(copy, 'FRAMING_TOO_LARGE')).toBe(false);
    expect(isFramingError(new Error('x'))).toBe(false);
    expect(isFramingError({ code: 'CRYPTO_REPLAYED' })).toBe(false);
    expect(isFramingError(null)).toBe(false);
    expect(isFramingError('FRAMING_RESERVED')).toBe(false);
  });

  it('lists seven distinct codes, all FRAMING_*', () => {
    expect(new Set(FRAMING_ERROR_CODES).size).toBe(7);
    for (const c of FRAMING_ERROR_CODES) expect(c).toMatch(/^FRAMING_[A-Z_]+$/);
  });

  it('names field, value and expectation in argument errors', () => {
    expect(() => createStreamDecoder({ maxPayload: 2 ** 30 })).toThrow('maxPayload 1073741824 is not an integer in 0..16777216');
    expect(() => createStreamDecoder({ knownTypes: ['a'] as unknown as number[] })).toThrow('knownTypes type "a" is not an integer in 0..255');
    expect(() => createStreamDecoder({ knownTypes: null as unknown as number[] })).toThrow('knownTypes null is not');
  });
});
