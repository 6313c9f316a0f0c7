// SSE writer and reader (events.md §7): fields, multi-line data, retry, comments, field
// checks; the reader follows the HTML rules (CRLF/LF/CR, one leading space, id carry-over,
// BOM), round-trips at every split, and bounds what it holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEventBus, createSseDecoder, encodeSseEvent, formatSse, sseComment, sseRetry, type SseEvent, type SseResult } from '../src/index.js';
import { ev } from './helpers.js';

function messages(results: SseResult[]): SseEvent[] {
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return r.message;
  });
}

describe('formatSse', () => {
  it('writes id, event, one data line per line, and the blank line', () => {
    expect(formatSse({ id: 'a-1', event: 'link.state', data: 'one\ntwo\r\nthree\rfour' })).toBe(
      'id: a-1\nevent: link.state\ndata: one\ndata: two\ndata: three\ndata: four\n\n',
    );
    expect(formatSse({ data: '' })).toBe('data: \n\n');
    expect(formatSse({ data: ' leading space' })).toBe('data:  leading space\n\n');
  });

  it('writes retry hints and comments (heartbeats)', () => {
    expect(sseRetry(3000)).toBe('retry: 3000\n\n');
    expect(sseComment('heartbeat')).toBe(': heartbeat\n\n');
    expect(sseComment()).toBe(':\n\n');
    expect(formatSse({ comment: 'a\nb', retry: 0 })).toBe(': a\n: b\nretry: 0\n\n');
  });

  it('refuses ids and event names that would break the framing', () => {
    expect(() => formatSse({ id: 'a\nb' })).toThrow('sse id "a\\nb" is not a string without CR, LF or NUL');
    expect(() => formatSse({ id: 'a\0' })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    expect(() => formatSse({ event: 'x\ry' })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    expect(() => formatSse({ retry: -1 })).toThrow('sse retry -1 is not a non-negative integer');
  });
});

describe('encodeSseEvent', () => {
  it('uses the bus cursor as id, the kind as event, and the event JSON as data', () => {
    const bus = createEventBus({ epoch: 'e' });
    const entry = bus.publish(ev({ kind: 'session.established', data: { text: 'multi\nline' } }))!;
    const text = encodeSseEvent(entry);
    expect(text).toBe(`id: e-1\nevent: session.established\ndata: ${JSON.stringify(entry.event)}\n\n`);
    expect(text.split('\n').filter((l) => l.startsWith('data:'))).toHaveLength(1);
    expect(encodeSseEvent(entry, { eventField: 'none' })).toBe(`id: e-1\ndata: ${JSON.stringify(entry.event)}\n\n`);
    const [m] = messages(createSseDecoder().push(text));
    expect(m).toEqual({ id: 'e-1', event: 'session.established', data: JSON.stringify(entry.event) });
    expect(JSON.parse(m!.data)).toEqual(entry.event);
  });
});

describe('createSseDecoder', () => {
  it('follows the HTML parsing rules', () => {
    const d = createSseDecoder();
    const out = messages(
      d.push('\ufeffid: 1\r\nevent: a\r\ndata:x\r\ndata:  y\r\n\r\n: comment\n\ndata: no id\n\nid\ndata: reset id\n\nretry: 500\ndata: r\nretry: nope\nunknown: z\n\nevent: only-type\n\nid: bad\0\ndata: q\n\n'),
    );
    expect(out).toEqual([
      { id: '1', event: 'a', data: 'x\n y' },
      { id: '1', event: 'message', data: 'no id' },
      { id: '', event: 'message', data: 'reset id' },
      { id: '', event: 'message', data: 'r' },
      { id: '', event: 'message', data: 'q' },
    ]);
    expect(d.comments).toBe(1);
    expect(d.retry).toBe(500);
    expect(d.lastEventId).toBe('');
  });

  it('takes a lone CR as a line end, waiting for the next chunk in case it is CRLF', () => {
    const d = createSseDecoder();
    expect(d.push('data: a\r')).toEqual([]);
    expect(d.push('\r')).toEqual([]); // 'data: a' ended; the blank line's CR may still be a CRLF
    expect(messages(d.push('data: b\r\n\r\n'))).toEqual([
      { id: '', event: 'message', data: 'a' },
      { id: '', event: 'message', data: 'b' },
    ]);
    expect(messages(d.push('data: c\r\r\n'))).toEqual([{ id: '', event: 'message', data: 'c' }]);
  });

  it('decodes the same messages at every split of the stream, bytes or strings', () => {
    const bus = createEventBus({ epoch: 's' });
    const text =
      [ev({ data: { s: 'é ✓ 𝄞' } }), ev({ kind: 'x.y' })].map((e) => encodeSseEvent(bus.publish(e)!)).join(sseComment('hb')) + formatSse({ data: 'a\r\nb' });
    const whole = messages(createSseDecoder().push(text));
    expect(whole).toHaveLength(3);
    const bytes = Buffer.from(text);
    for (let i = 0; i <= bytes.length; i++) {
      const d = createSseDecoder();
      expect([...messages(d.push(bytes.subarray(0, i))), ...messages(d.push(bytes.subarray(i)))]).toEqual(whole);
    }
    fc.assert(
      fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 8 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), text.length];
        const d = createSseDecoder();
        const got: SseEvent[] = [];
        for (let k = 1; k < points.length; k++) got.push(...messages(d.push(text.slice(points[k - 1], points[k]))));
        expect(got).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a message over its bound once and skips to its blank line, then decodes on', () => {
    const d = createSseDecoder({ maxMessageLength: 20 });
    const out = d.push(`data: ${'x'.repeat(30)}\ndata: more\n\ndata: ok\n\n`);
    expect(out[0]).toMatchObject({ ok: false, error: { code: 'EVENTS_LINE_TOO_LONG' } });
    expect(out.slice(1)).toEqual([{ ok: true, message: { id: '', event: 'message', data: 'ok' } }]);
  });

  it('never holds more than its bound of a partial line, across chunks', () => {
    const d = createSseDecoder({ maxMessageLength: 20 });
    const results: SseResult[] = [];
    results.push(...d.push('data: 0123456789'));
    results.push(...d.push('0123456789'));
    results.push(...d.push('0123456789\r'));
    results.push(...d.push('\n\r'));
    results.push(...d.push('\ndata: next\n\n'));
    expect(results.map((r) => (r.ok ? r.message.data : r.error.code))).toEqual(['EVENTS_LINE_TOO_LONG', 'next']);
  });

  it('keeps skipping through a long line cut into chunks and does not take its end for a blank line', () => {
    const d = createSseDecoder({ maxMessageLength: 10 });
    const got = [...d.push('data: aaaaaaaaaaaaaaaa'), ...d.push('bbbb'), ...d.push('\ndata: same message\n'), ...d.push('\ndata: fine\n\n')];
    expect(got.map((r) => (r.ok ? r.message.data : r.error.code))).toEqual(['EVENTS_LINE_TOO_LONG', 'fine']);
  });

  it('validates its bound', () => {
    expect(() => createSseDecoder({ maxMessageLength: 0 })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
  });
});
