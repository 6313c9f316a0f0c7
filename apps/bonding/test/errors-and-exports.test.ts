// Error shape (code, name, message naming field and value, details, JSON envelope) and the
// public surface of src/index.ts.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { BondingError, invalidArgument, isBondingError, malformed, tooLarge } from '../src/errors.js';

describe('BondingError', () => {
  it('carries a stable code, a name, details and a JSON envelope', () => {
    const e = invalidArgument('capacity', 3, 'a power of two');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('BondingError');
    expect(e.code).toBe('BONDING_INVALID_ARGUMENT');
    expect(e.message).toBe('capacity 3 is not a power of two');
    expect(e.toJSON()).toEqual({ code: 'BONDING_INVALID_ARGUMENT', message: e.message, details: { field: 'capacity', value: 3, expected: 'a power of two' } });
    expect(tooLarge('datagram length', 70_000, 65_507).message).toBe('datagram length 70000 > max 65507');
    expect(malformed('feedback', 'count 17 > max 16').details).toEqual({ what: 'feedback' });
    expect(new BondingError('BONDING_TOO_LARGE', 'x').toJSON()).toEqual({ code: 'BONDING_TOO_LARGE', message: 'x' });
    expect(new BondingError('BONDING_TOO_LARGE', 'x', { cause: e }).cause).toBe(e);
    expect(invalidArgument('deliver', undefined, 'a function').details).toMatchObject({ value: 'undefined' });
  });

  it('isBondingError matches on the code, so IPC copies match too', () => {
    const copy = JSON.parse(JSON.stringify(tooLarge('x', 2, 1))) as unknown;
    expect(isBondingError(copy)).toBe(true);
    expect(isBondingError(copy, 'BONDING_TOO_LARGE')).toBe(true);
    expect(isBondingError(copy, 'BONDING_MALFORMED')).toBe(false);
    expect(isBondingError(new Error('x'))).toBe(false);
    expect(isBondingError(null)).toBe(false);
    expect(isBondingError({ code: 'CRYPTO_AUTH_FAILED' })).toBe(false);
  });
});

describe('public API', () => {
  it('exports the factories, codecs, codes and constants of every concern', () => {
    for (const name of [
      'createSession',
      'createSessionTable',
      'createReorderBuffer',
      'createInnerHeader',
      'encodeInnerHeader',
      'tryDecodeInnerHeader',
      'createFeedbackReport',
      'encodeFeedback',
      'tryDecodeFeedback',
      'clampTcpMss',
      'tunMtuFor',
      'peekReceiverIndex',
      'reorderWaitMs',
      'clientKeyOf',
      'isBondingError',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(api.OPEN_CODE_NAMES[api.OPEN_REPLAYED]).toBe('replayed');
    expect(api.DATAGRAM_OVERHEAD_BYTES).toBe(44);
    expect([api.TYPE_DATA, api.TYPE_PROBE, api.TYPE_PROBE_ACK, api.TYPE_FEEDBACK, api.TYPE_CLOSE, api.TYPE_NACK]).toEqual([0x40, 0x41, 0x42, 0x43, 0x44, 0x45]);
    expect([...api.BONDING_TYPES.keys()]).toEqual([0x40, 0x41, 0x42, 0x43, 0x44, 0x45]);
    expect(api.REPLAY_WINDOW_BONDING).toBe(8192);
    expect(api.REKEY_AFTER_MESSAGES).toBeLessThan(api.REJECT_AFTER_MESSAGES);
    expect(api.REKEY_AFTER_MS).toBeLessThan(api.REJECT_AFTER_MS);
  });
});
