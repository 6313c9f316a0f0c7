// The README lists every error code (CONVENTIONS.md "Errors") and every wire code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeReadmeCodes, readmeSection } from '@edgebox/runtime/testing';
import { TUNNEL_CODES } from '../src/constants.js';
import { TUNNEL_ERROR_CODES, TunnelError, isTunnelError } from '../src/errors.js';

const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

describeReadmeCodes({
  readme: new URL('../README.md', import.meta.url),
  codes: TUNNEL_ERROR_CODES,
  notCodes: ['TUNNEL_CODES', 'TUNNEL_FRAME_TYPES'],
});

describe('README wire codes', () => {
  it('the Wire codes table matches TUNNEL_CODES', () => {
    const rows = [...readmeSection(readme, 'Wire codes').matchAll(/^\| (\d+) \| `([A-Z_]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual(TUNNEL_CODES);
  });

  it('errors carry code, details and a JSON form; isTunnelError matches by code', () => {
    const e = new TunnelError('TUNNEL_LIMIT', 'too many', { details: { max: 1 }, cause: new Error('x') });
    expect(e.toJSON()).toEqual({ code: 'TUNNEL_LIMIT', message: 'too many', details: { max: 1 } });
    expect(new TunnelError('TUNNEL_CLOSED', 'closed').toJSON()).toEqual({ code: 'TUNNEL_CLOSED', message: 'closed' });
    expect(isTunnelError({ code: 'TUNNEL_LIMIT' }, 'TUNNEL_LIMIT')).toBe(true);
    expect(isTunnelError({ code: 'CRYPTO_AUTH_FAILED' })).toBe(false);
    expect(isTunnelError(null)).toBe(false);
  });
});
