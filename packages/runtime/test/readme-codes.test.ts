// The README lists every error code (CONVENTIONS.md): the table and the exported list must agree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_ERROR_CODES } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README error codes', () => {
  it('the code table lists exactly the exported codes, in order', () => {
    const table = [...readme.matchAll(/^\| `(RUNTIME_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(table).toEqual([...RUNTIME_ERROR_CODES]);
  });

  it('every RUNTIME_ code mentioned anywhere in the README exists', () => {
    const mentioned = new Set([...readme.matchAll(/\bRUNTIME_[A-Z_]+[A-Z]\b/g)].map((m) => m[0]));
    for (const code of mentioned) expect(RUNTIME_ERROR_CODES, code).toContain(code);
  });

  it('every code is raised or documented by the source', () => {
    const src = ['errors', 'config', 'config-parse', 'lifecycle', 'typed-events', 'health', 'ops-server', 'metrics', 'logger', 'signals', 'host']
      .map((f) => readFileSync(new URL(`../src/${f}.ts`, import.meta.url), 'utf8'))
      .join('\n');
    for (const code of RUNTIME_ERROR_CODES) {
      const uses = src.split(`'${code}'`).length - 1;
      expect(uses, `${code} is only declared, never raised`).toBeGreaterThanOrEqual(2);
    }
  });
});
