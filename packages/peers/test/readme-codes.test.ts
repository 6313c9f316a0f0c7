// The README lists every error code (CONVENTIONS.md): its "Error codes" table must name
// exactly PEERS_ERROR_CODES, no more, no fewer, and no other PEERS_* code appears anywhere.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PEERS_ERROR_CODES } from '../src/index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README error codes', () => {
  it('has a table row for every exported code and none other', () => {
    const section = readme.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? '';
    const rows = [...section.matchAll(/^\| `(PEERS_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...PEERS_ERROR_CODES].sort());
  });

  it('mentions no code anywhere that the package does not export', () => {
    const mentioned = new Set([...readme.matchAll(/\bPEERS_[A-Z_]+\b/g)].map((m) => m[0]).filter((c) => c !== 'PEERS_ERROR_CODES'));
    const known = new Set<string>(PEERS_ERROR_CODES);
    expect([...mentioned].filter((c) => !known.has(c))).toEqual([]);
  });
});
