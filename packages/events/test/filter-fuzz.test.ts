// Fuzzing the filter parser and globs: any input either compiles or raises EVENTS_FILTER_SYNTAX
// (never another error, never a hang); compiled filters never throw on valid events; the
// RegExp-free glob matcher agrees with a plain RegExp reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter, compileGlob, compileGlobs, filterFromQuery, hasWildcard, isEventsError, parseFilterExpression } from '../src/index.js';
import { ev } from './helpers.js';

const samples = [
  ev({}),
  ev({ source: 'bonding', kind: 'link.down', severity: 'error', subject: 'wan1', addresses: ['10.0.0.1'], states: { new: 'down' }, data: { rttMs: 5, list: [1, 'a', null], o: { x: true } } }),
];

const pieces = [
  'kind', 'source', 'subject', 'interface', 'severity', 'time', 'id', 'v', 'states.new', 'states.old', 'addresses', 'addresses.0', 'data.rttMs', 'data.list.1', 'data.o.x', 'data',
  '==', '=', '!=', '~', '!~', '>', '>=', '<', '<=', 'in', '(', ')', '[', ']', ',', 'and', 'or', 'not', '&&', '||', '!',
  'link.*', 'wan?', 'eth0', '5', '-1.5e3', 'true', 'false', 'null', 'warning', '2026-11-24T12:00:00Z', "'quoted *'", '"dq"', "'", '"', '\\', '&', '|', '*',
];

function expectOnlyFilterErrors(run: () => void): void {
  try {
    run();
  } catch (err) {
    if (!isEventsError(err, 'EVENTS_FILTER_SYNTAX')) throw err;
  }
}

describe('filter parser fuzz', () => {
  it('raises only EVENTS_FILTER_SYNTAX on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (s) => {
        expectOnlyFilterErrors(() => parseFilterExpression(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('raises only EVENTS_FILTER_SYNTAX on token soup, and compiled filters never throw on events', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 25 }), fc.boolean(), (toks, spaced) => {
        const expr = toks.join(spaced ? ' ' : '');
        let f: ((e: (typeof samples)[number]) => boolean) | undefined;
        expectOnlyFilterErrors(() => {
          f = parseFilterExpression(expr);
        });
        if (f !== undefined) for (const e of samples) expect(typeof f(e)).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('raises only EVENTS_FILTER_SYNTAX on arbitrary specs and queries', () => {
    const anyValue = fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.integer(), fc.constant(undefined), fc.constant(null));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('source', 'kind', 'subject', 'interface', 'severity', 'where', 'app', 'x'), anyValue), (spec) => {
        expectOnlyFilterErrors(() => compileFilter(spec as never));
        expectOnlyFilterErrors(() => filterFromQuery(spec as never));
      }),
      { numRuns: 1000 },
    );
  });
});

// Reference: the same glob as an anchored RegExp.
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') re += (pattern[++i] ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (ch === '*') re += '[\\s\\S]*';
    else if (ch === '?') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

describe('globs', () => {
  const alphabet = fc.constantFrom('a', 'b', '.', '*', '?', '\\');
  const textAlphabet = fc.constantFrom('a', 'b', '.', '*', '?', '\\', 'c');

  it('agree with a RegExp reference on every pattern and text', () => {
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 10 }), fc.string({ unit: textAlphabet, maxLength: 14 }), (pattern, text) => {
        if (pattern.endsWith('\\') && !pattern.endsWith('\\\\')) return; // invalid: tested below
        let m: ((s: string) => boolean) | undefined;
        try {
          m = compileGlob(pattern);
        } catch (err) {
          expect(isEventsError(err, 'EVENTS_FILTER_SYNTAX')).toBe(true);
          return;
        }
        expect(m(text)).toBe(globToRegExp(pattern).test(text));
        expect(compileGlobs([pattern, 'zzz'])(text)).toBe(globToRegExp(pattern).test(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('use the cheap matchers for literal, prefix, suffix and match-all patterns', () => {
    expect(compileGlob('link.state')('link.state')).toBe(true);
    expect(compileGlob('link.state')('link.stat')).toBe(false);
    expect(compileGlob('link.*')('link.')).toBe(true);
    expect(compileGlob('*.down')('link.down')).toBe(true);
    expect(compileGlob('**')('')).toBe(true);
    expect(compileGlob('a**b')('ab')).toBe(true);
    expect(hasWildcard('a\\*')).toBe(false);
    expect(hasWildcard('a?')).toBe(true);
    expect(compileGlobs([])('x')).toBe(false);
    expect(compileGlobs(['a', 'b*', 'c?'])('c1')).toBe(true);
  });

  it('reject a trailing lone backslash and overlong patterns', () => {
    expect(() => compileGlob('abc\\')).toThrow('glob "abc\\\\" is invalid: expected a character after the final \\');
    expect(() => compileGlob('x'.repeat(257))).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
    expect(() => compileGlobs(['x'.repeat(257)])).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
    expect(() => compileGlob(5 as never)).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
  });

  it('stay fast on hostile patterns against 16 KiB values (no backtracking blow-up)', () => {
    const m = compileGlob('*a*a*a*a*a*a*a*b');
    const text = 'a'.repeat(16 * 1024);
    const t0 = performance.now();
    expect(m(text)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
