// The README lists every error code (CONVENTIONS.md): its "Error codes" table must name
// exactly EVENTS_ERROR_CODES, no more, no fewer, and mention no other EVENTS_* code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTS_ERROR_CODES } from '../src/index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const spec = readFileSync(join(import.meta.dirname, '../../../docs/protocols/events.md'), 'utf8');

describe('README error codes', () => {
  it('has a table row for every exported code and none other', () => {
    const section = readme.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? '';
    const rows = [...section.matchAll(/^\| `(EVENTS_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...EVENTS_ERROR_CODES].sort());
  });

  it('mentions no code, in the README or the spec, that the package does not export', () => {
    const known = new Set<string>(EVENTS_ERROR_CODES);
    for (const text of [readme, spec]) {
      const mentioned = new Set([...text.matchAll(/\bEVENTS_[A-Z_]+\b/g)].map((m) => m[0]).filter((c) => c !== 'EVENTS_ERROR_CODES'));
      expect([...mentioned].filter((c) => !known.has(c))).toEqual([]);
    }
  });
});
