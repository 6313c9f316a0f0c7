// PeersError shape (CONVENTIONS.md "Errors"): code, name, message, cause, details, toJSON,
// and isPeersError matching on the code (so IPC copies match too).
import { describe, expect, it } from 'vitest';
import { PEERS_ERROR_CODES, PeersError, createJsonFileStore, isPeersError } from '../src/index.js';

describe('PeersError', () => {
  it('carries code, name, message, cause and details, and serialises without the stack', () => {
    const cause = new Error('disk');
    const err = new PeersError('PEERS_STORE_IO', 'writing x failed', { cause, details: { file: 'x' } });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PeersError');
    expect(err.code).toBe('PEERS_STORE_IO');
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({ code: 'PEERS_STORE_IO', message: 'writing x failed', details: { file: 'x' } });
    expect(new PeersError('PEERS_LIMIT', 'x').toJSON()).toEqual({ code: 'PEERS_LIMIT', message: 'x' });
    expect(new PeersError('PEERS_LIMIT', 'x').cause).toBeUndefined();
  });

  it('is recognised by code, including plain-object copies from IPC', () => {
    const copy = JSON.parse(JSON.stringify(new PeersError('PEERS_CIRCUIT_OPEN', 'open'))) as unknown;
    expect(isPeersError(copy)).toBe(true);
    expect(isPeersError(copy, 'PEERS_CIRCUIT_OPEN')).toBe(true);
    expect(isPeersError(copy, 'PEERS_LIMIT')).toBe(false);
    expect(isPeersError(new Error('x'))).toBe(false);
    expect(isPeersError({ code: 'CRYPTO_REPLAYED' })).toBe(false);
    expect(isPeersError({ code: 5 })).toBe(false);
    expect(isPeersError(null)).toBe(false);
    expect(isPeersError('PEERS_LIMIT')).toBe(false);
  });

  it('lists thirteen distinct codes, all PEERS_*', () => {
    expect(new Set(PEERS_ERROR_CODES).size).toBe(13);
    for (const c of PEERS_ERROR_CODES) expect(c).toMatch(/^PEERS_[A-Z_]+$/);
  });
});

describe('json file store arguments', () => {
  it('refuses a bad path or size bound and a save before load', async () => {
    const parse = (json: unknown) => ({ value: json, dropped: [] });
    expect(() => createJsonFileStore({ path: '', parse })).toThrow('path "" is not a non-empty file path');
    expect(() => createJsonFileStore({ path: '/tmp/x.json', parse, maxBytes: 0 })).toThrow('maxBytes 0 is not an integer');
    const store = createJsonFileStore({ path: '/nonexistent-edgebox/x.json', parse });
    await expect(store.save('{}')).rejects.toThrow(/save\(\) before load\(\)/);
    expect(store.backupPath).toBe('/nonexistent-edgebox/x.json.bak');
  });
});
