import { describe, expect, it } from 'vitest';
import { isSecretKey, isSecretPath, REDACTED, redactConfig } from '../src/index.js';

describe('redaction', () => {
  it('recognises secret-looking keys by name, case-insensitively', () => {
    for (const k of ['key', 'privateKey', 'private_key', 'PSK', 'adminPassword', 'apiToken', 'clientSecret', 'tlsKey', 'passwd', 'credentials']) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of ['port', 'host', 'interval', 'peers', 'mode', 0, Symbol('key')]) expect(isSecretKey(k), String(k)).toBe(false);
    expect(isSecretPath(['tunnel', 'auth', 'psk'])).toBe(true);
    expect(isSecretPath(['peers', 0, 'address'])).toBe(false);
  });

  it('redacts deeply, whatever the value type, without touching the input', () => {
    const input = {
      listen: { port: 443 },
      psk: 'hunter2',
      tls: { key: { pem: '---' }, cert: 'public' },
      peers: [{ name: 'a', token: 't0' }, { name: 'b' }],
      nothing: { secret: null, password: undefined },
    };
    const out = redactConfig(input);
    expect(out).toEqual({
      listen: { port: 443 },
      psk: REDACTED,
      tls: { key: REDACTED, cert: 'public' },
      peers: [{ name: 'a', token: REDACTED }, { name: 'b' }],
      nothing: { secret: null, password: undefined },
    });
    expect(input.psk).toBe('hunter2');
    expect(JSON.stringify(out)).not.toContain('hunter2');
  });

  it('handles cycles, scalars, dates and a parsed __proto__ key without prototype pollution', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(redactConfig(cyclic)).toEqual({ a: 1, self: '[Circular]' });
    expect(redactConfig(5)).toBe(5);
    expect(redactConfig(null)).toBe(null);
    const d = new Date(0);
    expect(redactConfig({ d }).d).toBe(d);
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as object;
    const out = redactConfig(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
  });
});
