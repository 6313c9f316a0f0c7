/**
 * Interface-name globs for discovery's include/exclude/labels: `*` any run of characters, `?`
 * one character, `[abc]` / `[a-z]` / `[!0-9]` one of a set; everything else literal. The whole
 * name must match. Compiled once per pattern (cold path).
 */
import { LinksError } from './errors.js';

/**
 * Compiles an interface-name glob to an anchored RegExp.
 *
 * @example
 * compileGlob('wwan*').test('wwan0'); // true
 */
export function compileGlob(pattern: string): RegExp {
  if (typeof pattern !== 'string' || pattern === '' || pattern.length > 64) {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `interface pattern ${JSON.stringify(pattern)} is not valid: expected a glob of 1-64 characters`, { details: { field: 'pattern', value: pattern } });
  }
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, end);
      const negate = set.startsWith('!');
      if (negate) set = set.slice(1);
      source += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * True when `name` matches any of the compiled patterns.
 *
 * @example
 * matchesAny('eth0', [compileGlob('eth*')]); // true
 */
export function matchesAny(name: string, patterns: readonly RegExp[]): boolean {
  for (const p of patterns) if (p.test(name)) return true;
  return false;
}
