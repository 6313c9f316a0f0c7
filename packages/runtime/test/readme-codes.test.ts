// The README lists every error code (CONVENTIONS.md), in the exported order; and the shared
// check itself catches a doctored table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_ERROR_CODES } from '../src/index.js';
import { describeReadmeCodes, readmeSection, tableCodes } from '../src/testing.js';

describeReadmeCodes({ readme: new URL('../README.md', import.meta.url), codes: RUNTIME_ERROR_CODES, section: 'Errors (`errors.ts`)', ordered: true });

describe('error codes in the source', () => {
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

describe('the README check itself', () => {
  it('finds a misspelt code and an empty section', () => {
    const doctored = '# x\n## Error codes\n| `RUNTIME_STATE` | a |\n| `RUNTIME_STAET` | b |\n## Next\n| `RUNTIME_OTHER` | c |\n';
    expect(tableCodes(readmeSection(doctored, 'Error codes'), 'RUNTIME_')).toEqual(['RUNTIME_STATE', 'RUNTIME_STAET']);
    expect(readmeSection('# x\n', 'Error codes')).toBe('');
  });
});
