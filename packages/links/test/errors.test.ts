// Every error code is documented in the README, and errors serialise with their code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LINKS_ERROR_CODES, LinksError, LinksInvalidArgumentError, LinksStateError, isLinksError } from '../src/index.js';

describe('errors', () => {
  it('README lists every code', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of LINKS_ERROR_CODES) expect(readme).toContain(`\`${code}\``);
  });

  it('carries code and details through JSON', () => {
    const err = new LinksInvalidArgumentError('windowSize', 100, 'a multiple of 32 in 32..65536');
    expect(err.message).toBe('windowSize 100 is not a multiple of 32 in 32..65536');
    const copy: unknown = JSON.parse(JSON.stringify(err));
    expect(copy).toEqual({ code: 'LINKS_INVALID_ARGUMENT', message: err.message, details: { field: 'windowSize', value: 100, expected: 'a multiple of 32 in 32..65536' } });
    expect(isLinksError(copy, 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect(isLinksError(copy, 'LINKS_STATE')).toBe(false);
    expect(isLinksError(new Error('x'))).toBe(false);
    expect(isLinksError(null)).toBe(false);
    expect(new LinksError('LINKS_STATE', 'no').toJSON()).toEqual({ code: 'LINKS_STATE', message: 'no' });
  });

  it('names the field, the value and the expectation, and keeps the cause', () => {
    const cause = new Error('root');
    const err = new LinksStateError('down', 'up', { cause });
    expect(err).toMatchObject({ name: 'LinksStateError', code: 'LINKS_STATE', message: 'link state transition down -> up is not allowed', details: { from: 'down', to: 'up' } });
    expect(err.cause).toBe(cause);
    expect(isLinksError(err)).toBe(true);
    expect(new LinksInvalidArgumentError('links', { a: 1 }, 'an array').details).toMatchObject({ value: 'object' });
    expect(new LinksInvalidArgumentError('links', [1, 2], 'x').message).toBe('links array(2) is not x');
    expect(new LinksInvalidArgumentError('on', true, 'x').message).toBe('on true is not x');
  });
});
