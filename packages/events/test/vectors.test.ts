// docs/protocols/vectors/events/events.json (events.md §10): every valid event parses
// unchanged and encodes byte for byte to its JSON line and SSE message; every invalid input
// is rejected with the listed code at the listed path; filters match exactly the listed
// events. A wrong vector, or a drifting implementation, fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createEventLinesDecoder,
  createSseDecoder,
  encodeEventLine,
  encodeSseEvent,
  isEventsError,
  parseEvent,
  parseFilterExpression,
  type BusEntry,
  type EventV1,
} from '../src/index.js';

interface Vectors {
  valid: { name: string; cursor: string; event: EventV1; jsonl: string; sse: string }[];
  invalid: { name: string; input?: unknown; text?: string; code: string; path?: string }[];
  filters: { expression: string; matches: string[] }[];
  filterErrors: { expression: string }[];
}

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/protocols/vectors/events/events.json'), 'utf8')) as Vectors;

describe('valid vectors', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('%s parses unchanged and encodes byte for byte', (_name, v) => {
    const event = parseEvent(v.event);
    expect(event).toEqual(v.event);
    expect(parseEvent(v.jsonl)).toEqual(v.event);
    expect(encodeEventLine(event)).toBe(v.jsonl);
    const seq = Number(v.cursor.split('-')[1]);
    const entry: BusEntry = { seq, id: v.cursor, event };
    expect(encodeSseEvent(entry)).toBe(v.sse);
    const [decoded] = createSseDecoder().push(v.sse);
    expect(decoded?.ok && JSON.parse(decoded.message.data)).toEqual(v.event);
  });

  it('decode as one JSON-lines stream', () => {
    const results = createEventLinesDecoder().push(vectors.valid.map((v) => v.jsonl).join(''));
    expect(results.map((r) => (r.ok ? r.value : r.error.code))).toEqual(vectors.valid.map((v) => v.event));
  });
});

describe('invalid vectors', () => {
  it.each(vectors.invalid.map((v) => [v.name, v] as const))('%s is rejected with its code', (_name, v) => {
    let error: unknown;
    try {
      parseEvent(v.text ?? v.input);
    } catch (err) {
      error = err;
    }
    expect(isEventsError(error, v.code as never), String(error)).toBe(true);
    if (v.path !== undefined && v.code !== 'EVENTS_UNSUPPORTED_VERSION') {
      const issues = (error as { details: { issues: { path: string }[] } }).details.issues;
      expect(issues[0]!.path).toBe(v.path);
    }
    if (v.code === 'EVENTS_UNSUPPORTED_VERSION') expect((error as { details: { field: string } }).details.field).toBe(v.path);
  });
});

describe('filter vectors', () => {
  const byName = new Map(vectors.valid.map((v) => [v.name, parseEvent(v.event)]));
  it.each(vectors.filters.map((f) => [f.expression, f.matches] as const))('%s', (expression, matches) => {
    const f = parseFilterExpression(expression);
    expect([...byName].filter(([, e]) => f(e)).map(([name]) => name)).toEqual(matches);
  });

  it.each(vectors.filterErrors.map((f) => [f.expression] as const))('%s is EVENTS_FILTER_SYNTAX', (expression) => {
    expect(() => parseFilterExpression(expression)).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
  });
});
