// Every error code is documented in the README, and errors serialise with their code.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { NETLAB_ERROR_CODES, NetlabError, isNetlabError } from '@edgebox/netlab';

describe('errors', () => {
  it('README lists every code', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of NETLAB_ERROR_CODES) expect(readme).toContain(`\`${code}\``);
  });

  it('carries code and details through JSON', () => {
    const err = new NetlabError('NETLAB_UNKNOWN_NODE', 'unknown node "x"', { details: { node: 'x' } });
    const copy: unknown = JSON.parse(JSON.stringify(err));
    expect(copy).toEqual({ code: 'NETLAB_UNKNOWN_NODE', message: 'unknown node "x"', details: { node: 'x' } });
    expect(isNetlabError(copy, 'NETLAB_UNKNOWN_NODE')).toBe(true);
    expect(isNetlabError(new Error('x'))).toBe(false);
    expect(isNetlabError(null)).toBe(false);
    expect(new NetlabError('NETLAB_DESTROYED', 'gone').toJSON()).toEqual({ code: 'NETLAB_DESTROYED', message: 'gone' });
  });
});
