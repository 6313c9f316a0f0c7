// The README lists every error code in full (CONVENTIONS.md "Errors"): its "Error codes"
// table holds exactly BONDING_ERROR_CODES, and any code named anywhere in it exists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BONDING_ERROR_CODES } from '../src/errors.js';

const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

/** The body of the `## Error codes` section (up to the next `## ` heading). */
function errorCodesSection(text: string): string {
  const start = text.indexOf('\n## Error codes\n');
  if (start < 0) return '';
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

/** Codes in the first column of a markdown table: "| `BONDING_X` | ...". */
function tableCodes(section: string): string[] {
  return [...section.matchAll(/^\| `(BONDING_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
}

describe('README error codes', () => {
  const table = tableCodes(errorCodesSection(readme));

  it('the Error codes table lists every exported code exactly once', () => {
    expect(new Set(table).size).toBe(table.length);
    const missing = BONDING_ERROR_CODES.filter((c) => !table.includes(c));
    const unknown = table.filter((c) => !(BONDING_ERROR_CODES as readonly string[]).includes(c));
    expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
  });

  it('every code named anywhere in the README exists (no stale or misspelt codes)', () => {
    const named = new Set(readme.match(/\bBONDING_[A-Z0-9]+(?:_[A-Z0-9]+)*\b(?!_?\*)/g) ?? []);
    named.delete('BONDING_ERROR_CODES'); // the export's name, not a code
    expect([...named].filter((c) => !(BONDING_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
    // a wildcard such as BONDING_X_* must stand for at least one real code
    for (const [, prefix] of readme.matchAll(/\b(BONDING_[A-Z0-9_]*_)\*/g)) {
      expect(BONDING_ERROR_CODES.some((c) => c.startsWith(prefix!)), `${prefix}*`).toBe(true);
    }
  });

  it('the checks themselves catch a missing and an unknown code', () => {
    const doctored = errorCodesSection(readme).replace('| `BONDING_MALFORMED` |', '| `BONDING_MALFORMD` |');
    const codes = tableCodes(doctored);
    expect(codes).not.toContain('BONDING_MALFORMED');
    expect(codes).toContain('BONDING_MALFORMD');
    expect(tableCodes(errorCodesSection('# x\n'))).toEqual([]);
  });
});
