import { describe, expect, it } from 'vitest';
import { ConfigError, isRuntimeError, RUNTIME_ERROR_CODES, RuntimeError, toErrorBody, toErrorEnvelope, toJsonSafe } from '../src/index.js';

describe('RuntimeError', () => {
  it('carries code, name, message, cause and details, and serialises to {code,message,details}', () => {
    const cause = new Error('root');
    const err = new RuntimeError('RUNTIME_STATE', 'cannot start demo while stopping', { cause, details: { state: 'stopping' } });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('RuntimeError');
    expect(err.code).toBe('RUNTIME_STATE');
    expect(err.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'RUNTIME_STATE', message: 'cannot start demo while stopping', details: { state: 'stopping' } });
    expect(new RuntimeError('RUNTIME_INTERNAL', 'x').toJSON()).toEqual({ code: 'RUNTIME_INTERNAL', message: 'x' });
  });

  it('ConfigError puts file, line, column and issues into details', () => {
    const err = new ConfigError('RUNTIME_CONFIG_PARSE', 'bad', { file: '/x.yaml', line: 3, column: 7 });
    expect(err.name).toBe('ConfigError');
    expect(err.details).toEqual({ file: '/x.yaml', line: 3, column: 7 });
    expect(err.issues).toEqual([]);
    const inv = new ConfigError('RUNTIME_CONFIG_INVALID', 'bad', { issues: [{ path: 'a', value: 1, expected: 'string', message: 'a: 1 is not valid: expected string' }] });
    expect(inv.details?.['issues']).toHaveLength(1);
  });

  it('isRuntimeError matches by code prefix, also on plain objects that crossed IPC', () => {
    expect(isRuntimeError(new RuntimeError('RUNTIME_STATE', 'x'))).toBe(true);
    expect(isRuntimeError({ code: 'RUNTIME_STOP_TIMEOUT', message: 'x' }, 'RUNTIME_STOP_TIMEOUT')).toBe(true);
    expect(isRuntimeError({ code: 'RUNTIME_STOP_TIMEOUT' }, 'RUNTIME_STATE')).toBe(false);
    expect(isRuntimeError({ code: 'CRYPTO_AUTH_FAILED' })).toBe(false);
    expect(isRuntimeError('RUNTIME_STATE')).toBe(false);
    expect(isRuntimeError(null)).toBe(false);
  });

  it('every code is unique and starts with RUNTIME_', () => {
    expect(new Set(RUNTIME_ERROR_CODES).size).toBe(RUNTIME_ERROR_CODES.length);
    for (const c of RUNTIME_ERROR_CODES) expect(c).toMatch(/^RUNTIME_[A-Z_]+$/);
  });
});

describe('toErrorEnvelope', () => {
  it('keeps our code, message and details', () => {
    const err = new RuntimeError('RUNTIME_CONFIG_NOT_FOUND', 'config file /x not found', { details: { file: '/x' } });
    expect(toErrorEnvelope(err)).toEqual({ error: { code: 'RUNTIME_CONFIG_NOT_FOUND', message: 'config file /x not found', details: { file: '/x' } } });
  });

  it('keeps foreign string codes (Node errno, other packages)', () => {
    const err = Object.assign(new Error('nope'), { code: 'ENOENT' });
    expect(toErrorBody(err)).toEqual({ code: 'ENOENT', message: 'nope' });
    expect(toErrorBody({ code: 'CRYPTO_AUTH_FAILED', message: 'tag', details: { n: 1 } })).toEqual({ code: 'CRYPTO_AUTH_FAILED', message: 'tag', details: { n: 1 } });
  });

  it('wraps any other thrown value as RUNTIME_INTERNAL and stays JSON-safe', () => {
    for (const thrown of [new TypeError('boom'), 'a string', 42, undefined, null, Symbol('s'), 10n, { weird: true }, new Error('')]) {
      const env = toErrorEnvelope(thrown);
      expect(env.error.code).toBe('RUNTIME_INTERNAL');
      expect(typeof env.error.message).toBe('string');
      expect(env.error.message.length).toBeGreaterThan(0);
      expect(JSON.parse(JSON.stringify(env))).toEqual(env);
    }
    expect(toErrorBody(new TypeError('boom')).message).toBe('boom');
    expect(toErrorBody(undefined).message).toBe('undefined was thrown');
    expect(toErrorBody(new Error('')).message).toBe('Error');
  });

  it('makes hostile details JSON-safe: bigint, cycles, buffers, deep nesting, huge strings', () => {
    const cyclic: Record<string, unknown> = { n: 1n, buf: Buffer.alloc(5), when: new Date(0), bad: new Date(NaN), fn: () => 1, inf: Infinity };
    cyclic['self'] = cyclic;
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20; i++) deep = deep['d'] = {};
    const err = Object.assign(new Error('x'), {
      code: 'X_CODE',
      details: { cyclic, root, long: 'a'.repeat(10_000), list: Array.from({ length: 150 }, (_, i) => i), map: new Map([['k', 1]]), set: new Set([1]), inner: new RangeError('r') },
    });
    const body = toErrorBody(err);
    const text = JSON.stringify(body);
    const back = JSON.parse(text) as { details: Record<string, unknown> };
    expect(back.details['cyclic']).toMatchObject({ n: '1', buf: '<5 bytes>', when: '1970-01-01T00:00:00.000Z', bad: 'Invalid Date', inf: 'Infinity', self: '[Circular]' });
    expect(text).toContain('[Truncated]');
    expect((back.details['long'] as string).length).toBeLessThan(5000);
    expect(back.details['list']).toHaveLength(101);
    expect(back.details['map']).toEqual({ k: 1 });
    expect(back.details['set']).toEqual([1]);
    expect(back.details['inner']).toEqual({ name: 'RangeError', message: 'r' });
  });

  it('toJsonSafe truncates wide objects and keeps shared (non-cyclic) references', () => {
    const wide = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(toJsonSafe(wide) as object)).toHaveLength(101);
    const shared = { a: 1 };
    expect(toJsonSafe({ x: shared, y: shared })).toEqual({ x: { a: 1 }, y: { a: 1 } });
    expect(toJsonSafe([undefined, () => 1])).toEqual([null, null]);
    expect(toJsonSafe(Object.assign(new Error('e'), { code: 7 }))).toEqual({ name: 'Error', message: 'e', code: 7 });
  });
});
