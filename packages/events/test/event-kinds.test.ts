// defineEventKind: typed, checked creation for publishers; guards and coded parse for receivers.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventFactory, defineEventKind, isEventsError, parseEvent } from '../src/index.js';

const LinkState = defineEventKind('link.state', z.strictObject({ ifindex: z.int().min(1), operstate: z.string() }));

describe('defineEventKind', () => {
  it('creates events of its kind through a source factory, with data checked and typed', () => {
    const events = createEventFactory({ source: 'netevd' });
    const e = LinkState.create(events, { subject: 'eth0', states: { new: 'up' }, data: { ifindex: 3, operstate: 'up' } });
    expect(e).toMatchObject({ kind: 'link.state', source: 'netevd', id: 1, data: { ifindex: 3, operstate: 'up' } });
    const ifindex: number = e.data.ifindex;
    expect(ifindex).toBe(3);
  });

  it('refuses bad data at the publisher, naming the data path', () => {
    const events = createEventFactory({ source: 'netevd' });
    try {
      LinkState.create(events, { data: { ifindex: 0, operstate: 'up', extra: 1 } as never });
      expect.unreachable();
    } catch (err) {
      expect(isEventsError(err, 'EVENTS_INVALID_EVENT')).toBe(true);
      const paths = ((err as { details: { issues: { path: string }[] } }).details.issues).map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['data.ifindex', 'data.extra']));
    }
  });

  it('guards and parses received events by kind and data', () => {
    const wire = { v: 1, id: 9, time: '2026-11-24T12:00:00Z', source: 'netevd', kind: 'link.state', severity: 'info', data: { ifindex: 2, operstate: 'down' } };
    const e = parseEvent(wire);
    expect(LinkState.is(e)).toBe(true);
    expect(LinkState.parse(e).data.operstate).toBe('down');
    const other = parseEvent({ ...wire, kind: 'link.added' });
    expect(LinkState.is(other)).toBe(false);
    expect(() => LinkState.parse(other)).toThrow('event kind: "link.added" is invalid: expected the kind "link.state"');
    const badData = parseEvent({ ...wire, data: { ifindex: 'two', operstate: 'down' } });
    expect(LinkState.is(badData)).toBe(false);
    expect(() => LinkState.parse(badData)).toThrow(/^event data\.ifindex: "two" is invalid/);
  });

  it('refuses a kind that is not dotted lowercase or a data schema that is not zod', () => {
    expect(() => defineEventKind('Link.State', z.object({}))).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_ARGUMENT' }));
    expect(() => defineEventKind('link.state', {} as never)).toThrow(/data schema an object is not a zod schema/);
  });
});
