// Event v1 (events.md §2-§4): what createEvent builds, what parseEvent accepts, and that every
// rejection names the path, the value and the expectation with a stable code.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  EventV1Schema,
  EventsError,
  MAX_DATA_BYTES,
  MAX_DATA_DEPTH,
  createEvent,
  createEventFactory,
  isAddress,
  isSeverity,
  parseEvent,
  severityRank,
  tryParseEvent,
  type EventV1,
} from '../src/index.js';

const valid = {
  v: 1,
  id: 7,
  time: '2026-11-24T12:00:00.000Z',
  source: 'netevd',
  kind: 'link.state',
  severity: 'info',
  subject: 'eth0',
  interface: 'eth0',
  states: { old: 'degraded', new: 'routable' },
  addresses: ['10.0.0.2/24', 'fe80::1%eth0/64'],
  data: { ifindex: 3, operstate: 'up', nested: { list: [1, 'two', null, true] } },
};

function rejects(input: unknown): EventsError {
  try {
    parseEvent(input);
  } catch (err) {
    expect(err).toBeInstanceOf(EventsError);
    return err as EventsError;
  }
  throw new Error('parseEvent accepted the input');
}

describe('createEvent', () => {
  it('fills v, time, severity and data, and returns a frozen event equal to its JSON copy', () => {
    const e = createEvent({ id: 1, source: 'bonding', kind: 'link.up', subject: 'wan1' });
    expect(e).toMatchObject({ v: 1, id: 1, source: 'bonding', kind: 'link.up', severity: 'info', subject: 'wan1', data: {} });
    expect(Date.parse(e.time)).not.toBeNaN();
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.isFrozen(e.data)).toBe(true);
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
    expect(parseEvent(JSON.stringify(e))).toEqual(e);
  });

  it('copies data, so later changes to the caller object do not leak in, and omits undefined properties', () => {
    const data: { peers: string[]; rtt?: number } = { peers: ['a'], rtt: undefined };
    const e = createEvent({ id: 1, source: 'p2p', kind: 'peer.connected', data });
    data.peers.push('b');
    expect(e.data).toEqual({ peers: ['a'] });
    expect('rtt' in e.data).toBe(false);
    expect(Object.isFrozen(e.data['peers'])).toBe(true);
  });

  it('takes time as ISO text, a Date or epoch milliseconds, and refuses an invalid date', () => {
    expect(createEvent({ id: 1, source: 'x', kind: 'k', time: 0 }).time).toBe('1970-01-01T00:00:00.000Z');
    expect(createEvent({ id: 1, source: 'x', kind: 'k', time: new Date(86_400_000) }).time).toBe('1970-01-02T00:00:00.000Z');
    expect(createEvent({ id: 1, source: 'x', kind: 'k', time: '2026-01-01T00:00:00+02:00' }).time).toBe('2026-01-01T00:00:00+02:00');
    expect(() => createEvent({ id: 1, source: 'x', kind: 'k', time: new Date('nope') })).toThrow(/time .* is not a valid date/);
    expect(() => createEvent(null as never)).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
  });

  it('surfaces an app bug at the publisher with the same coded error a receiver would raise', () => {
    expect(() => createEvent({ id: 0, source: 'Bonding', kind: 'Link.Up' })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_EVENT' }));
    expect(() => createEvent({ id: 1, source: 'x', kind: 'k', data: { when: new Date() } as never })).toThrow(
      'event data.when: an object is invalid: expected a plain JSON object',
    );
    expect(() => createEvent({ id: 1, source: 'x', kind: 'k', data: { n: Number.NaN } })).toThrow('event data.n: NaN is invalid: expected a finite number');
  });

  it('keeps states without old (startup-synthesised) and drops nothing else', () => {
    const e = createEvent({ id: 1, source: 'netevd', kind: 'link.state', states: { new: 'routable' }, addresses: ['192.0.2.1'] });
    expect(e.states).toEqual({ new: 'routable' });
    expect(e.addresses).toEqual(['192.0.2.1']);
  });
});

describe('createEventFactory', () => {
  it('stamps ids that increase by one per event, from startId, with its source', () => {
    const f = createEventFactory({ source: 'tunnel', startId: 41, now: () => 1000 });
    expect(f.lastId).toBe(40);
    const a = f.create({ kind: 'session.established', subject: 'client-1' });
    const b = f.create({ kind: 'session.closed', severity: 'warning' });
    expect([a.id, b.id, f.lastId]).toEqual([41, 42, 42]);
    expect(a.source).toBe('tunnel');
    expect(a.time).toBe('1970-01-01T00:00:01.000Z');
    expect(f.source).toBe('tunnel');
  });

  it('refuses a source outside [a-z0-9-] and a bad startId', () => {
    expect(() => createEventFactory({ source: 'Bad Source' })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    expect(() => createEventFactory({ source: 'x'.repeat(33) })).toThrow(/is not an app name/);
    expect(() => createEventFactory({ source: 'ok', startId: 0 })).toThrow('startId 0 is not an integer in 1..9007199254740991');
  });
});

describe('parseEvent', () => {
  it('accepts JSON text, UTF-8 bytes and parsed objects, returning a frozen event', () => {
    const text = JSON.stringify(valid);
    for (const input of [text, Buffer.from(text), new TextEncoder().encode(text), structuredClone(valid)]) {
      const e = parseEvent(input);
      expect(e).toEqual(valid);
      expect(Object.isFrozen(e)).toBe(true);
      expect(Object.isFrozen(e.states)).toBe(true);
    }
  });

  it('accepts every known source, any [a-z0-9-] source, and each severity', () => {
    for (const source of ['bonding', 'tunnel', 'netevd', 'p2p', 'supervisor', 'my-tool-2']) expect(parseEvent({ ...valid, source }).source).toBe(source);
    for (const severity of ['debug', 'info', 'warning', 'error']) expect(parseEvent({ ...valid, severity }).severity).toBe(severity);
  });

  it('says EVENTS_BAD_JSON for text that is not JSON', () => {
    const err = rejects('{"v":1,');
    expect(err.code).toBe('EVENTS_BAD_JSON');
    expect(err.message).toMatch(/^event text "\{\\"v\\":1," is invalid: expected JSON/);
  });

  it('rejects a higher integer version with EVENTS_UNSUPPORTED_VERSION and any other v as invalid', () => {
    const err = rejects({ ...valid, v: 2, somethingNew: true });
    expect(err.code).toBe('EVENTS_UNSUPPORTED_VERSION');
    expect(err.message).toBe('event v 2 is not supported: expected 1 (this reader knows v1 only)');
    expect(err.details).toEqual({ field: 'v', value: 2, supported: [1] });
    for (const v of [0, '1', 1.5, undefined, -1]) {
      const e = rejects({ ...valid, v });
      expect(e.code).toBe('EVENTS_INVALID_EVENT');
      expect((e.details!['issues'] as { path: string }[])[0]!.path).toBe('v');
    }
  });

  it('names path, value and expectation, listing several issues at once', () => {
    const err = rejects({ ...valid, kind: 'Link State', states: { new: 5 }, severity: 'fatal' });
    expect(err.code).toBe('EVENTS_INVALID_EVENT');
    expect(err.message).toMatch(/^event kind: "Link State" is invalid: expected a dotted lowercase kind .* \(\+2 more\)$/);
    expect(err.details!['issues']).toEqual([
      { path: 'kind', value: '"Link State"', expected: expect.stringContaining('dotted lowercase') },
      { path: 'severity', value: '"fatal"', expected: 'one of debug, info, warning, error' },
      { path: 'states.new', value: '5', expected: '1..64 printable characters' },
    ]);
  });

  it('says which required field is missing', () => {
    const { time: _time, ...noTime } = valid;
    const err = rejects(noTime);
    expect(err.details!['issues']).toEqual([{ path: 'time', value: 'missing', expected: expect.stringContaining('ISO 8601') }]);
  });

  it('rejects unknown top-level fields (the v1 top level is closed) and unknown states fields', () => {
    const err = rejects({ ...valid, extra: { a: 1 }, states: { new: 'up', when: 1 } });
    expect(err.details!['issues']).toEqual(
      expect.arrayContaining([
        { path: 'extra', value: 'an object', expected: 'no such field in v1 (put app specifics in data)' },
        { path: 'states.when', value: '1', expected: 'no such field in v1 (put app specifics in data)' },
      ]),
    );
  });

  it('rejects non-objects, arrays and null at the root', () => {
    for (const input of [null, 5, 'null', '[1]', [valid]]) {
      const e = rejects(input);
      expect(e.code).toBe('EVENTS_INVALID_EVENT');
      expect(e.message).toMatch(/^event \(root\): .* is invalid: expected a JSON object \(an event\)$/);
    }
  });

  it('checks ids, times, names and addresses', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ id: 0 }, 'id'],
      [{ id: 2 ** 53 }, 'id'],
      [{ id: '7' }, 'id'],
      [{ time: '2026-11-24 12:00:00' }, 'time'],
      [{ time: '2026-11-24T12:00:00' }, 'time'],
      [{ source: '' }, 'source'],
      [{ source: '-' + 'a'.repeat(40) }, 'source'],
      [{ kind: 'link..state' }, 'kind'],
      [{ kind: 'a'.repeat(129) }, 'kind'],
      [{ subject: '' }, 'subject'],
      [{ subject: 'eth0\nINJECT' }, 'subject'],
      [{ interface: 'x'.repeat(257) }, 'interface'],
      [{ addresses: ['10.0.0.300'] }, 'addresses[0]'],
      [{ addresses: ['10.0.0.1/33'] }, 'addresses[0]'],
      [{ addresses: 'not-a-list' }, 'addresses'],
      [{ addresses: Array.from({ length: 65 }, () => '10.0.0.1') }, 'addresses'],
      [{ data: [] }, 'data'],
      [{ data: null }, 'data'],
    ];
    for (const [patch, path] of cases) {
      const err = rejects({ ...valid, ...patch });
      expect(err.code, JSON.stringify(patch)).toBe('EVENTS_INVALID_EVENT');
      expect((err.details!['issues'] as { path: string }[]).map((i) => i.path), JSON.stringify(patch)).toContain(path);
    }
  });

  it('bounds data at MAX_DATA_BYTES encoded: the limit passes, one byte more is EVENTS_TOO_LARGE', () => {
    const filler = (n: number): Record<string, string> => ({ s: 'x'.repeat(n - '{"s":""}'.length) });
    expect(JSON.stringify(filler(MAX_DATA_BYTES)).length).toBe(MAX_DATA_BYTES);
    expect(parseEvent({ ...valid, data: filler(MAX_DATA_BYTES) }).data).toEqual(filler(MAX_DATA_BYTES));
    const err = rejects({ ...valid, data: filler(MAX_DATA_BYTES + 1) });
    expect(err.code).toBe('EVENTS_TOO_LARGE');
    expect(err.message).toBe(`event data: "${MAX_DATA_BYTES + 1} bytes" is invalid: expected at most ${MAX_DATA_BYTES} bytes encoded`);
  });

  it('counts data size in UTF-8 bytes, not characters', () => {
    const s = 'é'.repeat(MAX_DATA_BYTES / 2); // 2 bytes each: over the bound with the JSON around it
    expect(rejects({ ...valid, data: { s } }).code).toBe('EVENTS_TOO_LARGE');
  });

  it('bounds data depth at MAX_DATA_DEPTH without overflowing the stack on hostile nesting', () => {
    const nest = (depth: number): Record<string, unknown> => {
      let o: Record<string, unknown> = {};
      for (let i = 1; i < depth; i++) o = { a: o };
      return o;
    };
    expect(parseEvent({ ...valid, data: nest(MAX_DATA_DEPTH) }).v).toBe(1);
    expect(rejects({ ...valid, data: nest(MAX_DATA_DEPTH + 1) }).code).toBe('EVENTS_TOO_LARGE');
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const err = rejects(`{"v":1,"id":1,"time":"2026-11-24T12:00:00Z","source":"x","kind":"k","severity":"info","data":${deep}}`);
    expect(err.code).toBe('EVENTS_TOO_LARGE');
    expect(err.message).toMatch(/expected nesting at most 16 levels deep/);
  });

  it('reports a data problem together with shape problems', () => {
    const err = rejects({ ...valid, id: -1, data: { arr: [1, undefined] } });
    expect((err.details!['issues'] as { path: string }[]).map((i) => i.path)).toEqual(['id', 'data.arr[1]']);
  });

  it('caps the number of issues listed at 10', () => {
    const bad = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x${i}`, i]));
    const err = rejects({ ...valid, ...bad });
    expect(err.details!['issues']).toHaveLength(10);
    expect(err.message).toMatch(/\(\+9 more\)$/);
  });

  it('tryParseEvent returns the event or the error as a value, never throwing', () => {
    const ok = tryParseEvent(JSON.stringify(valid));
    expect(ok.ok && ok.event.id).toBe(7);
    const bad = tryParseEvent('nope');
    expect(!bad.ok && bad.error.code).toBe('EVENTS_BAD_JSON');
  });
});

describe('EventV1Schema', () => {
  it('composes into larger zod schemas with the data checks included', () => {
    const Batch = z.object({ events: z.array(EventV1Schema) });
    expect(Batch.safeParse({ events: [valid] }).success).toBe(true);
    const r = Batch.safeParse({ events: [{ ...valid, data: { n: Number.POSITIVE_INFINITY } }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['events', 0, 'data', 'n']);
  });

  it('infers a type compatible with EventV1', () => {
    const parsed: EventV1 = EventV1Schema.parse(valid) as EventV1;
    expect(parsed.kind).toBe('link.state');
  });
});

describe('severities and addresses', () => {
  it('ranks severities lowest first', () => {
    expect(['debug', 'info', 'warning', 'error'].map(severityRank)).toEqual([0, 1, 2, 3]);
    expect(severityRank('fatal')).toBe(-1);
    expect(isSeverity('warning')).toBe(true);
    expect(isSeverity(3)).toBe(false);
  });

  it('accepts IPv4/IPv6 with optional prefix and zone, nothing else', () => {
    for (const a of ['10.0.0.1', '10.0.0.1/0', '10.0.0.1/32', '::1', 'fe80::1%eth0', '2001:db8::/128']) expect(isAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1/33', '::1/129', '10.0.0.1/', '10.0.0.1/x', 'eth0', '00:11:22:33:44:55', '10.0.0.1/0008']) expect(isAddress(a), a).toBe(false);
  });
});
