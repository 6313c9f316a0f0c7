import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configIssuesFromZod, formatConfigError, formatPath, formatValue, loadConfig, validateConfig } from '../src/index.js';
import type { ConfigError } from '../src/index.js';

const Tunnel = z.object({
  tunnel: z.object({
    listen: z.strictObject({ host: z.ipv4().default('127.0.0.1'), port: z.number().int().min(1).max(65535) }),
    mode: z.enum(['udp', 'tcp']).default('udp'),
    psk: z.string().min(32).optional(),
    peers: z.array(z.object({ name: z.string(), weight: z.number().multipleOf(5).optional() })).default([]),
    timeout: z.union([z.number(), z.string()]).optional(),
    tags: z.array(z.string()).max(2).optional(),
    id: z.string().regex(/^[a-z]+$/).optional(),
    url: z.url().optional(),
  }),
});

async function invalid(data: unknown, schema: z.ZodType = Tunnel): Promise<ConfigError> {
  try {
    await validateConfig(schema, data);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected RUNTIME_CONFIG_INVALID');
}

describe('config validation errors', () => {
  it('names path, value and expectation: the house example', async () => {
    const err = await invalid({ tunnel: { listen: { port: 70000 } } });
    expect(err.code).toBe('RUNTIME_CONFIG_INVALID');
    expect(err.issues).toEqual([
      { path: 'tunnel.listen.port', value: 70000, expected: 'integer <= 65535', message: 'tunnel.listen.port: 70000 is not valid: expected integer <= 65535' },
    ]);
    expect(err.message).toBe('config is invalid: tunnel.listen.port: 70000 is not valid: expected integer <= 65535');
  });

  it('explains each kind of issue in words', async () => {
    const err = await invalid({
      tunnel: {
        listen: { port: 0.5, host: 'nope', lisen: 1 },
        mode: 'fast',
        peers: [{ name: 'a', weight: 7 }, { weight: 5 }],
        timeout: true,
        tags: ['a', 'b', 'c'],
        id: 'ABC',
        url: 'not a url',
      },
    });
    const messages = err.issues.map((i) => i.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'tunnel.listen.host: "nope" is not valid: expected a valid ipv4',
        'tunnel.listen.port: 0.5 is not valid: expected integer',
        'tunnel.listen.lisen: unknown key: expected one of host, port',
        'tunnel.mode: "fast" is not valid: expected one of "udp", "tcp"',
        'tunnel.peers[0].weight: 7 is not valid: expected a multiple of 5',
        'tunnel.peers[1].name: missing: expected string',
        'tunnel.timeout: true is not valid: expected number or string',
        'tunnel.tags: ["a","b","c"] is not valid: expected at most 2 items',
        'tunnel.id: "ABC" is not valid: expected a string matching /^[a-z]+$/',
        'tunnel.url: "not a url" is not valid: expected a valid url',
      ]),
    );
    expect(err.message).toMatch(/^config is invalid \(\d+ issues\): /);
  });

  it('suggests the nearest known key for a typo', async () => {
    const S = z.strictObject({ listen: z.object({}).optional(), peers: z.array(z.string()).optional() });
    const err = await invalid({ lisen: {} }, S);
    expect(err.issues[0]!.message).toBe('lisen: unknown key: expected one of listen, peers (did you mean "listen"?)');
    const far = await invalid({ zzzzzz: 1 }, S);
    expect(far.issues[0]!.message).toBe('zzzzzz: unknown key: expected one of listen, peers');
    const snake = await invalid({ Listen: 1 }, S);
    expect(snake.issues[0]!.expected).toContain('did you mean "listen"?');
  });

  it('redacts values under secret-looking keys, nested secrets too', async () => {
    const err = await invalid({ tunnel: { listen: { port: 1 }, psk: 'short-secret' } });
    expect(err.issues[0]).toEqual({
      path: 'tunnel.psk',
      value: '[REDACTED]',
      expected: 'at least 32 characters',
      message: 'tunnel.psk: [REDACTED] is not valid: expected at least 32 characters',
    });
    expect(JSON.stringify(err)).not.toContain('short-secret');
    const nested = await invalid({ tunnel: { listen: { port: 1 }, peers: { token: 'tok-123' } } });
    expect(JSON.stringify(nested.issues)).not.toContain('tok-123');
    expect(nested.issues[0]!.message).toBe('tunnel.peers: {"token":"[REDACTED]"} is not valid: expected array');
  });

  it('words sizes, strings, exclusivity, literals and discriminated unions', async () => {
    const S = z.object({
      a: z.number().gt(0),
      b: z.string().length(4),
      c: z.string().min(1),
      d: z.literal('x'),
      e: z.discriminatedUnion('kind', [z.object({ kind: z.literal('udp') }), z.object({ kind: z.literal('tcp') })]),
      f: z.array(z.number()).min(2),
      g: z.string().startsWith('edge'),
      h: z.number().lt(10),
      i: z.bigint().max(5n),
      j: z.string().refine((v) => v === 'ok', 'must be ok'),
      k: z.date().max(new Date(0)),
      l: z.string().endsWith('.x'),
      m: z.string().includes('@'),
    });
    const err = await invalid({ a: 0, b: 'abc', c: '', d: 'y', e: { kind: 'quic' }, f: [1], g: 'core', h: 10, i: 6n, j: 'no', k: new Date(1000), l: 'a', m: 'b' }, S);
    const by = Object.fromEntries(err.issues.map((i) => [i.path, i.expected]));
    expect(by).toMatchObject({
      a: 'number > 0',
      b: 'exactly 4 characters',
      c: 'at least 1 character',
      d: '"x"',
      'e.kind': 'one of "udp", "tcp"',
      f: 'at least 2 items',
      g: 'a string starting with "edge"',
      h: 'number < 10',
      i: 'integer <= 5',
      j: 'must be ok',
      k: 'a date <= 1970-01-01T00:00:00.000Z',
      l: 'a string ending with ".x"',
      m: 'a string including "@"',
    });
    expect(err.issues.find((i) => i.path === 'i')!.message).toBe('i: 6n is not valid: expected integer <= 5');
  });

  it('a wrong document type is reported at (root)', async () => {
    const err = await invalid('just a string');
    expect(err.issues[0]!.message).toBe('(root): "just a string" is not valid: expected object');
  });

  it('unknown keys on a record or a non-object schema fall back to plain words', () => {
    const issues = configIssuesFromZod([{ code: 'unrecognized_keys', keys: ['x'], path: ['deep'], message: 'm' }], { data: { deep: { x: 1 } } });
    expect(issues[0]!.message).toBe('deep.x: unknown key: expected no such key');
  });

  it('formatPath and formatValue render paths and values for humans', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath([], 'tunnel')).toBe('tunnel');
    expect(formatPath(['peers', 0, 'port'], 'tunnel')).toBe('tunnel.peers[0].port');
    expect(formatPath(['a.b', 'c d', 3])).toBe('["a.b"]["c d"][3]');
    expect(formatValue('x'.repeat(200))).toHaveLength(80);
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue(new Date(NaN))).toBe('Invalid Date');
    const cyc: Record<string, unknown> = {};
    cyc['c'] = cyc;
    expect(formatValue(cyc)).toBe('[object Object]');
  });

  it('formatConfigError renders issues one per line, also from a plain envelope body', async () => {
    const err = await invalid({ tunnel: { listen: { port: 70000 }, mode: 'fast' } });
    expect(formatConfigError(err)).toBe(
      'config is invalid (2 issues):\n  tunnel.listen.port: 70000 is not valid: expected integer <= 65535\n  tunnel.mode: "fast" is not valid: expected one of "udp", "tcp"',
    );
    const body = JSON.parse(JSON.stringify(err)) as unknown;
    expect(formatConfigError(body)).toBe(formatConfigError(err));
    const one = await invalid({ tunnel: { listen: { port: 70000 } } });
    expect(formatConfigError(one)).toBe('config is invalid:\n  tunnel.listen.port: 70000 is not valid: expected integer <= 65535');
    expect(formatConfigError(new Error('plain'))).toBe('plain');
    expect(formatConfigError('text')).toBe('text');
    expect(formatConfigError({ code: 'RUNTIME_CONFIG_INVALID', message: 'm', details: { issues: [{ path: 'x' }] } })).toBe('m:\n  {"path":"x"}');
  });

  it('async refinements are honoured', async () => {
    const S = z.object({ name: z.string().refine(async (v) => v !== 'taken', 'name is taken') });
    await expect(validateConfig(S, { name: 'free' })).resolves.toEqual({ name: 'free' });
    const err = await invalid({ name: 'taken' }, S);
    expect(err.issues[0]!.message).toBe('name: "taken" is not valid: expected name is taken');
  });

  it('loadConfig labels the file and prefixes the section in paths', async () => {
    const S = z.object({ listen: z.object({ port: z.int().max(65535) }) });
    const err = (await loadConfig({ text: 'listen:\n  port: 70000\n', schema: S, section: 'tunnel', env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.message).toBe('YAML config is invalid: tunnel.listen.port: 70000 is not valid: expected integer <= 65535');
  });
});
