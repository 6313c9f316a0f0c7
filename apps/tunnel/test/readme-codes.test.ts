// The README lists every error code (CONVENTIONS.md "Errors") and every wire code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TUNNEL_CODES } from '../src/constants.js';
import { TUNNEL_ERROR_CODES, TunnelError, isTunnelError } from '../src/errors.js';

const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

describe('README codes', () => {
  it('the Error codes table lists every exported code exactly once', () => {
    const table = [...section(readme, 'Error codes').matchAll(/^\| `(TUNNEL_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(new Set(table).size).toBe(table.length);
    expect([...table].sort()).toEqual([...TUNNEL_ERROR_CODES].sort());
  });

  it('every code named in the README exists', () => {
    const exportsNamed = new Set(['TUNNEL_ERROR_CODES', 'TUNNEL_CODES', 'TUNNEL_FRAME_TYPES']);
    const named = new Set(readme.match(/\bTUNNEL_[A-Z0-9]+(?:_[A-Z0-9]+)*\b/g) ?? []);
    expect([...named].filter((c) => !exportsNamed.has(c) && !(TUNNEL_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('the Wire codes table matches TUNNEL_CODES', () => {
    const rows = [...section(readme, 'Wire codes').matchAll(/^\| (\d+) \| `([A-Z_]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
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
