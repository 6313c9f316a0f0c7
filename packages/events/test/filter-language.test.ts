// The filter language (events.md §6), filter specs and query parsing: what matches, and that
// every mistake is EVENTS_FILTER_SYNTAX naming the position, the expectation and what was found.
import { describe, expect, it } from 'vitest';
import { EventsError, compileFilter, filterFromQuery, matchAll, parseFilterExpression, type EventFilter } from '../src/index.js';
import { ev } from './helpers.js';

const routable = ev({
  source: 'netevd',
  kind: 'link.state',
  severity: 'info',
  subject: 'eth0',
  interface: 'eth0',
  states: { old: 'degraded', new: 'routable' },
  addresses: ['10.0.0.2/24', 'fe80::2/64'],
  data: { rttMs: 72, up: true, name: 'wan one', note: null, peers: [{ id: 'a' }, { id: 'b' }], 'dash-key': 'x' },
  time: '2026-11-24T12:00:00.000Z',
});
const linkDown = ev({ source: 'bonding', kind: 'link.down', severity: 'warning', subject: 'wan2', data: { rttMs: 12 } });

function syntax(expr: string): EventsError {
  try {
    parseFilterExpression(expr);
  } catch (err) {
    expect(err).toBeInstanceOf(EventsError);
    expect((err as EventsError).code).toBe('EVENTS_FILTER_SYNTAX');
    return err as EventsError;
  }
  throw new Error(`accepted: ${expr}`);
}

describe('filter expressions', () => {
  const cases: [string, boolean, boolean][] = [
    // expression, matches routable, matches linkDown
    ['states.new == routable', true, false],
    ['states.new = routable', true, false],
    ["states.new == 'routable'", true, false],
    ['states.new != routable', false, true],
    ['states.old == degraded', true, false],
    ['data.rttMs > 50', true, false],
    ['data.rttMs >= 72', true, false],
    ['data.rttMs < 50', false, true],
    ['data.rttMs <= 12', false, true],
    ['data.rttMs == 72', true, false],
    ['data.rttMs == 72.0', true, false],
    ['data.rttMs ~ 7*', true, false],
    ['data.up == true', true, false],
    ['data.up', true, false],
    ['data.note', false, false],
    ['data.note == null', true, false],
    ['not data.note', true, true],
    ['data.missing', false, false],
    ['data.missing != 1', true, true],
    ['data.name == "wan one"', true, false],
    ['data.peers.1.id == b', true, false],
    ['data.peers.x.id == b', false, false],
    ['data.dash-key == x', true, false],
    ['kind ~ link.*', true, true],
    ['kind ~ link.s*', true, false],
    ['kind !~ link.s*', false, true],
    ['source in (bonding, tunnel)', false, true],
    ['source in [netevd]', true, false],
    ['subject ~ eth*', true, false],
    ['subject ~ wan?', false, true],
    ['interface', true, false],
    ['severity >= warning', false, true],
    ['severity < warning', true, false],
    ['severity == info', true, false],
    ['addresses ~ 10.0.*', true, false],
    ['addresses == fe80::2/64', true, false],
    ['addresses.0 == 10.0.0.2/24', true, false],
    ['addresses != 10.0.0.2/24', false, true],
    ['time >= 2026-11-24T11:00:00Z', true, true],
    ['time < 2026-11-24T11:00:00Z', false, false],
    ['v == 1 && id > 0', true, true],
    ['kind ~ link.* and (states.new == routable or severity >= warning)', true, true],
    ['kind == link.state or source == bonding and severity == error', true, false],
    ['!(source == netevd) || data.rttMs > 100', false, true],
    ['not not source == netevd', true, false],
    ['source == bonding and data.rttMs < 20', false, true],
    ["data.name ~ 'wan *'", true, false],
    ["data.name == 'wan\\ one'", true, false],
  ];
  it.each(cases)('%s', (expr, a, b) => {
    const f = parseFilterExpression(expr);
    expect(f(routable)).toBe(a);
    expect(f(linkDown)).toBe(b);
  });

  it('makes negations exact complements, missing fields included', () => {
    for (const [pos, neg] of [
      ['data.rttMs == 72', 'data.rttMs != 72'],
      ['kind ~ link.s*', 'kind !~ link.s*'],
      ['data.absent == 1', 'data.absent != 1'],
      ['subject ~ eth*', 'not subject ~ eth*'],
    ] as const) {
      for (const e of [routable, linkDown]) expect(parseFilterExpression(pos)(e)).toBe(!parseFilterExpression(neg)(e));
    }
  });

  it('reads own data keys only, never the prototype chain', () => {
    expect(parseFilterExpression('data.constructor')(routable)).toBe(false);
    expect(parseFilterExpression('data.toString')(routable)).toBe(false);
  });

  it('matches glob metacharacters literally when escaped in quotes', () => {
    const starry = ev({ subject: 'a*b' });
    expect(parseFilterExpression("subject ~ 'a\\*b'")(starry)).toBe(true);
    expect(parseFilterExpression("subject ~ 'a\\*b'")(ev({ subject: 'axb' }))).toBe(false);
    expect(parseFilterExpression("subject == 'a\\*b'")(starry)).toBe(true);
  });
});

describe('filter syntax errors', () => {
  const cases: [string, string][] = [
    ['', 'at 0: expected a condition, found end of input'],
    ['states.new ==', 'at 13: expected a value after "==", found end of input'],
    ['sorce == bonding', 'at 0: expected a field (v, id, time, source, kind, severity, subject, interface, states.old, states.new, addresses, data.<key>), found unknown field "sorce"'],
    ['states.newest == up', 'found unknown field "states.newest"'],
    ['kind.sub == x', 'found unknown field "kind.sub"'],
    ['addresses.x == 1', 'found unknown field "addresses.x"'],
    ['severity >= warnin', 'at 12: expected a severity (debug, info, warning, error) after >=, found "warnin"'],
    ['data.rttMs > fast', 'at 13: expected a number after >, found "fast"'],
    ['time > yesterday', 'expected an ISO 8601 date-time after >, found "yesterday"'],
    ['(kind == x', 'at 10: expected ")", found end of input'],
    ['kind == x)', 'at 9: expected "and", "or" or end of input, found ")"'],
    ['kind == x and', 'at 13: expected a field or "(", found end of input'],
    ['kind == x & source == y', 'at 10: expected "&&", found "&"'],
    ["subject == 'eth0", "at 11: expected a closing ', found end of input"],
    ['source in bonding', 'at 10: expected "(" after in, found "bonding"'],
    ['source in (a b)', 'at 13: expected "," or ")", found "b"'],
    ['source in (a,', 'expected a value after ",", found end of input'],
    ['== x', 'at 0: expected a field or "(", found "=="'],
    ['1abc == x', 'expected a field'],
    ['kind == and', 'at 8: expected a value after "==", found "and"'],
    ["kind ~ 'a\\", 'expected a closing'],
  ];
  it.each(cases)('%s', (expr, message) => {
    const err = syntax(expr);
    expect(err.message).toContain(message);
    expect(err.details).toMatchObject({ position: expect.any(Number), expected: expect.any(String), found: expect.any(String) });
  });

  it('bounds the expression length and nesting depth', () => {
    expect(syntax('kind == x or '.repeat(400) + 'kind == y').message).toMatch(/expected at most 4096 characters/);
    expect(syntax('('.repeat(33) + 'kind == x' + ')'.repeat(33)).message).toMatch(/expected nesting at most 32 levels deep/);
    expect(parseFilterExpression('('.repeat(32) + 'kind == x' + ')'.repeat(32))(ev({ kind: 'x' }))).toBe(true);
    expect(syntax('not '.repeat(33) + 'kind').message).toMatch(/nesting at most 32/);
    expect(syntax(`kind ~ ${'a'.repeat(257)}`).message).toMatch(/expected a glob of at most 256 characters/);
  });

  it('refuses a non-string expression', () => {
    expect(syntax(42 as never).message).toMatch(/expected a filter expression \(a string\)/);
  });
});

describe('compileFilter', () => {
  it('passes everything for undefined and an empty spec, and keeps functions as they are', () => {
    expect(compileFilter(undefined)).toBe(matchAll);
    expect(compileFilter({})).toBe(matchAll);
    const f: EventFilter = (e) => e.id === 1;
    expect(compileFilter(f)).toBe(f);
    expect(compileFilter({ severity: 'debug' })).toBe(matchAll);
  });

  it('ANDs spec fields and ORs the globs within one', () => {
    const f = compileFilter({ source: ['bonding', 'tunnel'], kind: 'link.*', severity: 'warning' });
    expect(f(linkDown)).toBe(true);
    expect(f(routable)).toBe(false);
    expect(f(ev({ source: 'tunnel', kind: 'link.down', severity: 'info' }))).toBe(false);
    expect(compileFilter({ subject: 'eth*', interface: 'eth?', where: 'data.rttMs > 50' })(routable)).toBe(true);
    expect(compileFilter({ subject: 'eth*' })(ev({}))).toBe(false);
    expect(compileFilter({ interface: 'eth*' })(linkDown)).toBe(false);
    expect(compileFilter('source == bonding')(linkDown)).toBe(true);
  });

  it('reports unknown spec fields, empty glob lists and bad severities', () => {
    const code = { code: 'EVENTS_FILTER_SYNTAX' };
    expect(() => compileFilter({ app: 'bonding' } as never)).toThrow(expect.objectContaining(code));
    expect(() => compileFilter({ app: 'bonding' } as never)).toThrow('filter field "app" is unknown: expected one of source, kind, subject, interface, severity, where');
    expect(() => compileFilter({ kind: [] })).toThrow('filter kind an array(0) is invalid: expected a non-empty glob or list of globs');
    expect(() => compileFilter({ kind: [''] })).toThrow(expect.objectContaining(code));
    expect(() => compileFilter({ severity: 'loud' as never })).toThrow('filter severity "loud" is invalid: expected one of debug, info, warning, error');
    expect(() => compileFilter(5 as never)).toThrow(expect.objectContaining(code));
  });
});

describe('filterFromQuery', () => {
  it('reads app/source, kind, subject, interface (comma-separated or repeated), severity and where', () => {
    const q = new URLSearchParams('app=bonding&kind=link.*,session.*&kind=peer.*&severity=warning&where=data.rttMs>50&where=subject~wan*&lastEventId=x');
    const spec = filterFromQuery(q, { ignore: ['lastEventId'] });
    expect(spec).toEqual({
      source: ['bonding'],
      kind: ['link.*', 'session.*', 'peer.*'],
      severity: 'warning',
      where: '(data.rttMs>50) and (subject~wan*)',
    });
    const f = compileFilter(spec);
    expect(f(ev({ source: 'bonding', kind: 'link.down', severity: 'error', subject: 'wan1', data: { rttMs: 60 } }))).toBe(true);
    expect(f(ev({ source: 'bonding', kind: 'link.down', severity: 'error', subject: 'lan1', data: { rttMs: 60 } }))).toBe(false);
  });

  it('takes a parsed query object (fastify request.query) too', () => {
    expect(filterFromQuery({ source: ['netevd', 'p2p'], subject: 'eth0', interface: 'eth0', where: 'kind ~ link.*', other: undefined })).toEqual({
      source: ['netevd', 'p2p'],
      subject: ['eth0'],
      interface: ['eth0'],
      where: 'kind ~ link.*',
    });
    expect(filterFromQuery({})).toEqual({});
    expect(filterFromQuery({ kind: ',', severity: '' })).toEqual({});
  });

  it('refuses unknown parameters (a typo must not stream everything) and bad values before subscribing', () => {
    expect(() => filterFromQuery(new URLSearchParams('knd=link.*'))).toThrow('query parameter "knd" is unknown: expected one of app, source, kind, subject, interface, severity, where');
    expect(() => filterFromQuery({ constructor: 'x' })).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
    expect(() => filterFromQuery(new URLSearchParams('severity=loud'))).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
    expect(() => filterFromQuery(new URLSearchParams('where=kind ==='))).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
  });

  it('checks each where on its own, so halves cannot pair up across parameters', () => {
    expect(() => filterFromQuery(new URLSearchParams([['where', 'kind == a)'], ['where', '(kind == b']]))).toThrow(expect.objectContaining({ code: 'EVENTS_FILTER_SYNTAX' }));
  });
});
