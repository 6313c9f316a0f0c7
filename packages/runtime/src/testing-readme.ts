/**
 * `describeReadmeCodes`: the README-lists-every-error-code check (CONVENTIONS.md "Errors") as
 * one vitest suite, so each project keeps its README and its exported code list in step in a
 * few lines instead of its own copy of the parsing.
 *
 * Needs vitest (a peer dependency); import it from test files only.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Options of {@link describeReadmeCodes}. */
export interface ReadmeCodesInit {
  /** The README to check. */
  readme: string | URL;
  /** The exported code list (`FRAMING_ERROR_CODES`); all share one prefix (`FRAMING_`). */
  codes: readonly string[];
  /** Heading (`## <section>`) of the section holding the code table (default 'Error codes'). */
  section?: string;
  /** The table must list the codes in the exported order (default false: same set, once each). */
  ordered?: boolean;
  /** Names with the codes' prefix that are not codes (`FRAMING_VERSION`); `<PREFIX>ERROR_CODES` is always allowed. */
  notCodes?: readonly string[];
}

/**
 * The body of the `## <heading>` section of a markdown text, up to the next `## ` heading
 * ('' when there is none).
 *
 * @example readmeSection(readme, 'Error codes');
 */
export function readmeSection(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

/**
 * Codes in the first column of a markdown table (`| \`FRAMING_X\` | ...`).
 *
 * @example tableCodes(readmeSection(readme, 'Error codes'), 'FRAMING_');
 */
export function tableCodes(section: string, prefix: string): string[] {
  return [...section.matchAll(new RegExp(`^\\| \`(${prefix}[A-Z0-9_]+)\` \\|`, 'gm'))].map((m) => m[1]!);
}

/**
 * Asserts that the README's code table lists exactly the exported codes, and that every
 * `<PREFIX>...` name the README mentions anywhere is a real code (a wildcard `<PREFIX>X_*`
 * must stand for at least one).
 *
 * @example
 * describeReadmeCodes({ readme: new URL('../README.md', import.meta.url), codes: FRAMING_ERROR_CODES, notCodes: ['FRAMING_VERSION'] });
 */
export function describeReadmeCodes(init: ReadmeCodesInit): void {
  const codes = init.codes;
  const prefix = `${codes[0]?.split('_')[0] ?? ''}_`;
  const heading = init.section ?? 'Error codes';
  const notCodes = new Set([...(init.notCodes ?? []), `${prefix}ERROR_CODES`]);

  describe('README error codes', () => {
    const readme = readFileSync(init.readme, 'utf8');
    const table = tableCodes(readmeSection(readme, heading), prefix);

    it(`the "${heading}" table lists every exported code exactly once`, () => {
      expect(codes.length).toBeGreaterThan(0);
      if (init.ordered === true) {
        expect(table).toEqual([...codes]);
        return;
      }
      expect(new Set(table).size).toBe(table.length);
      const missing = codes.filter((c) => !table.includes(c));
      const unknown = table.filter((c) => !codes.includes(c));
      expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
    });

    it(`every ${prefix} name mentioned anywhere in the README exists (no stale or misspelt codes)`, () => {
      const named = new Set(readme.match(new RegExp(`\\b${prefix}[A-Z0-9]+(?:_[A-Z0-9]+)*\\b(?!_?\\*)`, 'g')) ?? []);
      expect([...named].filter((c) => !codes.includes(c) && !notCodes.has(c))).toEqual([]);
      for (const [, stem] of readme.matchAll(new RegExp(`\\b(${prefix}[A-Z0-9_]*_)\\*`, 'g'))) {
        expect(codes.some((c) => c.startsWith(stem!)), `${stem}*`).toBe(true);
      }
    });
  });
}
