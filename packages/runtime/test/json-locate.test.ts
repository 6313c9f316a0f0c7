import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from '../src/json-locate.js';

describe('jsonErrorOffset', () => {
  it('is -1 exactly when JSON.parse accepts the text (fast-check)', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(jsonErrorOffset(text)).toBe(-1);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom(',', '}', ']', '"', 'x', '\\u0001', ' ', ':'), (text, pos, ch) => {
        const i = pos % (text.length + 1);
        const mutated = text.slice(0, i) + ch + text.slice(i);
        let ok = true;
        try {
          JSON.parse(mutated);
        } catch {
          ok = false;
        }
        const at = jsonErrorOffset(mutated);
        if (ok) expect(at).toBe(-1);
        else {
          expect(at).toBeGreaterThanOrEqual(0);
          expect(at).toBeLessThanOrEqual(mutated.length);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('points at the offending character', () => {
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('listen:')).toBe(0);
    expect(jsonErrorOffset('[1, 2')).toBe(5);
    expect(jsonErrorOffset('"a\\x"')).toBe(3);
    expect(jsonErrorOffset('"\\u12G4"')).toBe(5);
    expect(jsonErrorOffset('"a\u0001"')).toBe(2);
    expect(jsonErrorOffset('01')).toBe(1);
    expect(jsonErrorOffset('-')).toBe(1);
    expect(jsonErrorOffset('1.e5')).toBe(2);
    expect(jsonErrorOffset('tru')).toBe(3);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('{1: 2}')).toBe(1);
    expect(jsonErrorOffset('[1 2]')).toBe(3);
    expect(jsonErrorOffset('{} x')).toBe(3);
    expect(jsonErrorOffset('"open')).toBe(5);
    expect(jsonErrorOffset('[]')).toBe(-1);
    expect(jsonErrorOffset('{"a": [true, false, null, -1.5e+3, "\\u00e9\\n"]}')).toBe(-1);
    expect(jsonErrorOffset('['.repeat(600) + ']'.repeat(600))).toBe(513);
  });
});
