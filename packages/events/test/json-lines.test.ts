// JSON lines (events.md §8): the writer, and the decoder's promises: the same values at every
// split (UTF-8 sequences included), the line bound at limit and limit+1 with skip-to-newline,
// one bad line never spoils the next, nothing throws out of push, and held bytes stay bounded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_EVENT_BYTES,
  createEventLinesDecoder,
  createJsonLinesDecoder,
  encodeEventLine,
  encodeJsonLine,
  type JsonLineResult,
} from '../src/index.js';
import { ev } from './helpers.js';

function summary<T>(results: JsonLineResult<T>[]): (T | string)[] {
  return results.map((r) => (r.ok ? r.value : `${r.line}:${r.error.code}`));
}

describe('encodeJsonLine / encodeEventLine', () => {
  it('writes one line per value, newlines inside strings escaped', () => {
    expect(encodeJsonLine({ a: 'x\ny' })).toBe('{"a":"x\\ny"}\n');
    const e = ev({ data: { note: 'line1\nline2\u2028' } });
    const line = encodeEventLine(e);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual(e);
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => encodeJsonLine(undefined)).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    expect(() => encodeJsonLine(() => 1)).toThrow('json line value a function is not a JSON value');
  });
});

describe('createJsonLinesDecoder', () => {
  const values = [{ a: 1 }, 'é ✓ 𝄞', [1, 2, { b: null }], 42, true, null, { nested: { s: 'x\ny' } }];
  const text = values.map((v) => encodeJsonLine(v)).join('');

  it('decodes the same values at every split point of the byte stream', () => {
    const bytes = Buffer.from(text);
    for (let i = 0; i <= bytes.length; i++) {
      const d = createJsonLinesDecoder();
      const got = [...d.push(bytes.subarray(0, i)), ...d.push(bytes.subarray(i)), ...d.end()];
      expect(summary(got)).toEqual(values);
    }
  });

  it('decodes the same values for any chunking (property), bytes or strings', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }), fc.boolean(), (fractions, asBytes) => {
        const bytes = Buffer.from(text);
        const length = asBytes ? bytes.length : text.length;
        const points = [0, ...fractions.map((f) => Math.floor(f * length)).sort((a, b) => a - b), length];
        const d = createJsonLinesDecoder();
        const got: JsonLineResult<unknown>[] = [];
        for (let k = 1; k < points.length; k++) got.push(...d.push(asBytes ? bytes.subarray(points[k - 1], points[k]) : text.slice(points[k - 1], points[k])));
        got.push(...d.end());
        expect(summary(got)).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('holds the high half of a surrogate pair split across string chunks', () => {
    const d = createJsonLinesDecoder();
    const line = encodeJsonLine('𝄞');
    expect([...d.push(line.slice(0, 2)), ...d.push(line.slice(2))]).toEqual([{ ok: true, line: 1, value: '𝄞' }]);
    expect(d.push('"\ud834')).toEqual([]);
    expect(summary(d.end())).toEqual(['2:EVENTS_BAD_JSON']); // a lone surrogate at the end: an unterminated line
  });

  it('numbers lines, skips blank ones and drops a CR before the newline', () => {
    const d = createJsonLinesDecoder();
    const got = d.push('1\r\n\n  \n{"x":2}\n');
    expect(got).toEqual([
      { ok: true, line: 1, value: 1 },
      { ok: true, line: 4, value: { x: 2 } },
    ]);
    expect(d.stats()).toEqual({ lines: 4, values: 2, errors: 0, skippedBytes: 0 });
  });

  it('decodes a last line without newline at end() and resets', () => {
    const d = createJsonLinesDecoder();
    expect(d.push('1\n2')).toEqual([{ ok: true, line: 1, value: 1 }]);
    expect(d.bufferedBytes).toBe(1);
    expect(d.end()).toEqual([{ ok: true, line: 2, value: 2 }]);
    expect(d.end()).toEqual([]);
    expect(d.push('3\n')).toEqual([{ ok: true, line: 1, value: 3 }]);
  });

  it('accepts a line of exactly maxLineBytes and reports limit+1, whole or split', () => {
    const max = 32;
    const atLimit = `"${'a'.repeat(max - 2)}"`;
    const over = `"${'a'.repeat(max - 1)}"`;
    expect(Buffer.byteLength(atLimit)).toBe(max);
    for (const chunks of [[`${atLimit}\n${over}\n7\n`], [atLimit, `\n${over.slice(0, 10)}`, `${over.slice(10)}\n7\n`]]) {
      const d = createJsonLinesDecoder({ maxLineBytes: max });
      const got = chunks.flatMap((c) => d.push(c));
      expect(summary(got)).toEqual(['a'.repeat(max - 2), '2:EVENTS_LINE_TOO_LONG', 7]);
      const err = got[1]!;
      expect(!err.ok && err.error.message).toBe(`line 2 length 33 > max ${max} bytes: skipped to the next newline`);
    }
  });

  it('reports an over-long line as soon as it crosses the bound, holding nothing of it, then skips to the newline', () => {
    const d = createJsonLinesDecoder({ maxLineBytes: 10 });
    expect(summary(d.push('"abcdefgh'))).toEqual([]);
    expect(d.bufferedBytes).toBe(9);
    expect(summary(d.push('ijklmnop'))).toEqual(['1:EVENTS_LINE_TOO_LONG']);
    expect(d.bufferedBytes).toBe(0);
    expect(summary(d.push('x'.repeat(1000)))).toEqual([]);
    expect(d.bufferedBytes).toBe(0);
    expect(summary(d.push('yy"\n5\n'))).toEqual([5]);
    expect(d.stats()).toMatchObject({ lines: 2, values: 1, errors: 1, skippedBytes: 17 + 1000 + 3 });
    // Over-long at end of input: reported once, nothing more at end().
    expect(summary(d.push('z'.repeat(11)))).toEqual(['3:EVENTS_LINE_TOO_LONG']);
    expect(d.end()).toEqual([]);
  });

  it('reports bad JSON and invalid UTF-8 per line and decodes the next line', () => {
    const d = createJsonLinesDecoder();
    const got = [...d.push('{"a":\n'), ...d.push(Buffer.from([0xff, 0xfe, 0x0a])), ...d.push('[1]\n')];
    expect(summary(got)).toEqual(['1:EVENTS_BAD_JSON', '2:EVENTS_BAD_JSON', [1]]);
    expect(!got[0]!.ok && got[0]!.error.message).toMatch(/^line 1 "\{\\"a\\":" is invalid: expected JSON/);
    expect(!got[1]!.ok && got[1]!.error.message).toBe('line 2 is invalid: expected UTF-8 text');
  });

  it('passes values through parse, keeping EventsError codes and wrapping other errors', () => {
    const d = createJsonLinesDecoder<number>({
      parse: (v) => {
        if (typeof v !== 'number') throw new Error('not a number');
        return v * 2;
      },
    });
    const got = d.push('2\n"x"\n');
    expect(summary(got)).toEqual([4, '2:EVENTS_INVALID_EVENT']);
    expect(!got[1]!.ok && got[1]!.error.message).toBe('line 2 was rejected: not a number');
    const d2 = createJsonLinesDecoder({
      parse: () => {
        throw 'plain';
      },
    });
    expect(summary(d2.push('1\n'))).toEqual(['1:EVENTS_INVALID_EVENT']);
  });

  it('never throws out of push or end, whatever the bytes (fuzz), and holds at most maxLineBytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), fc.integer({ min: 1, max: 40 }), (chunks, max) => {
        const d = createEventLinesDecoder({ maxLineBytes: max });
        for (const c of chunks) {
          for (const r of d.push(c)) if (!r.ok) expect(r.error.code).toMatch(/^EVENTS_/);
          expect(d.bufferedBytes).toBeLessThanOrEqual(max);
        }
        for (const r of d.end()) if (!r.ok) expect(r.error.code).toMatch(/^EVENTS_/);
      }),
      { numRuns: 1000 },
    );
  });

  it('validates its bound', () => {
    expect(() => createJsonLinesDecoder({ maxLineBytes: 0 })).toThrow('maxLineBytes 0 is not an integer in 1..67108864');
  });
});

describe('createEventLinesDecoder', () => {
  it('yields valid events and coded errors per line, defaulting to MAX_EVENT_BYTES', () => {
    const a = ev({ kind: 'link.up' });
    const b = ev({ kind: 'link.down' });
    const d = createEventLinesDecoder();
    const lines = [encodeEventLine(a), '{"v":2,"id":1}\n', '{"v":1}\n', encodeEventLine(b), `"${'x'.repeat(MAX_EVENT_BYTES)}"\n`].join('');
    const got = d.push(lines);
    expect(summary(got)).toEqual([a, '2:EVENTS_UNSUPPORTED_VERSION', '3:EVENTS_INVALID_EVENT', b, '5:EVENTS_LINE_TOO_LONG']);
  });
});
