/**
 * Glob patterns for filters: `*` matches any run of characters (dots included: `link.*`
 * matches `link.state` and `link.up.slow`), `?` exactly one, `\` escapes the next character.
 * Everything else is literal; matching is case-sensitive and whole-string.
 *
 * Compiled once into the cheapest matcher that fits (equality, prefix, suffix, or a
 * backtracking-to-last-star scan). No RegExp: the scan is O(pattern × text) in the worst case,
 * so a hostile pattern like `*a*a*a*b` cannot blow up on a 16 KiB value.
 */
import { MAX_GLOB_LENGTH } from './constants.js';
import { EventsError, describeValue } from './errors.js';

/** A compiled glob: a predicate over strings. */
export type GlobMatcher = (text: string) => boolean;

const LIT = 0;
const ONE = 1;
const ANY = 2;

/** True when `pattern` has an unescaped `*` or `?`. */
export function hasWildcard(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x2a || c === 0x3f) return true;
  }
  return false;
}

/**
 * Compile a glob into a matcher. Throws EVENTS_FILTER_SYNTAX for a pattern over
 * MAX_GLOB_LENGTH or ending in a lone `\`.
 *
 * @example
 * const isLink = compileGlob('link.*');
 * isLink('link.state'); // true
 * compileGlob('eth?')('eth0'); // true
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (typeof pattern !== 'string' || pattern.length > MAX_GLOB_LENGTH) {
    throw new EventsError('EVENTS_FILTER_SYNTAX', `glob ${describeValue(pattern)} is invalid: expected a string of at most ${MAX_GLOB_LENGTH} characters`, {
      details: { pattern: describeValue(pattern), expected: `at most ${MAX_GLOB_LENGTH} characters` },
    });
  }
  const chars: string[] = [];
  const kinds: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      if (i + 1 >= pattern.length) {
        throw new EventsError('EVENTS_FILTER_SYNTAX', `glob ${describeValue(pattern)} is invalid: expected a character after the final \\`, {
          details: { pattern: describeValue(pattern), position: i, expected: 'a character after \\' },
        });
      }
      i++;
      chars.push(pattern[i]!);
      kinds.push(LIT);
    } else if (ch === '*') {
      // Collapse runs of stars: `**` means the same as `*`.
      if (kinds[kinds.length - 1] !== ANY) {
        chars.push(ch);
        kinds.push(ANY);
      }
    } else {
      chars.push(ch);
      kinds.push(ch === '?' ? ONE : LIT);
    }
  }

  const stars = kinds.filter((k) => k === ANY).length;
  const ones = kinds.filter((k) => k === ONE).length;
  const literal = (from: number, to: number): string => chars.slice(from, to).join('');
  if (stars === 0 && ones === 0) {
    const text = literal(0, chars.length);
    return (s) => s === text;
  }
  if (ones === 0 && stars === 1) {
    if (chars.length === 1) return () => true;
    if (kinds[kinds.length - 1] === ANY) {
      const prefix = literal(0, chars.length - 1);
      return (s) => s.startsWith(prefix);
    }
    if (kinds[0] === ANY) {
      const suffix = literal(1, chars.length);
      return (s) => s.endsWith(suffix);
    }
  }
  const kindArray = Uint8Array.from(kinds);
  return (s) => wildMatch(chars, kindArray, s);
}

// Greedy scan remembering the last star: on a mismatch, let that star swallow one more
// character and retry from just after it. Earlier stars never need revisiting.
function wildMatch(p: readonly string[], kinds: Uint8Array, s: string): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (kinds[pi] === ONE || (kinds[pi] === LIT && p[pi] === s[si]))) {
      pi++;
      si++;
    } else if (pi < p.length && kinds[pi] === ANY) {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && kinds[pi] === ANY) pi++;
  return pi === p.length;
}

/**
 * One matcher for a list of globs: true when any matches. An empty list matches nothing.
 *
 * @example compileGlobs(['link.*', 'session.*'])('session.closed'); // true
 */
export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const exact = new Set<string>();
  const others: GlobMatcher[] = [];
  for (const p of patterns) {
    if (typeof p === 'string' && p.length <= MAX_GLOB_LENGTH && !hasWildcard(p) && !p.includes('\\')) exact.add(p);
    else others.push(compileGlob(p));
  }
  if (others.length === 0) return (s) => exact.has(s);
  if (exact.size === 0 && others.length === 1) return others[0]!;
  return (s) => {
    if (exact.has(s)) return true;
    for (const m of others) if (m(s)) return true;
    return false;
  };
}
