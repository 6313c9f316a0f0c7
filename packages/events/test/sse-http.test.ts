// SSE over a real node:http server on port 0, read by a real client (fetch): filters from the
// query, Last-Event-ID resume from the history ring with no gap and no duplicate, heartbeats,
// cleanup when the client goes, the end when the bus closes, 400 for a bad filter; and a
// response that stops draining costs the bus nothing (the stream is cut, the client resumes).
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEventBus,
  createSseDecoder,
  filterFromQuery,
  isEventsError,
  lastEventIdFrom,
  serveSse,
  type EventBus,
  type SseEvent,
  type SseResponse,
  type SseStreamResult,
} from '../src/index.js';
import { ev } from './helpers.js';

let server: Server;
let bus: EventBus;
let base: string;
let results: SseStreamResult[];

beforeEach(async () => {
  bus = createEventBus({ historySize: 100, epoch: 'h' });
  results = [];
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/v1/events') {
      res.writeHead(404).end();
      return;
    }
    // The query is parsed inside the promise chain, so a bad filter is a 400 like any other refusal.
    Promise.resolve()
      .then(() =>
        serveSse({
          bus,
          response: res,
          lastEventId: lastEventIdFrom(req.headers),
          filter: filterFromQuery(url.searchParams),
          heartbeatMs: Number(req.headers['x-heartbeat-ms'] ?? 0),
        }),
      )
      .then(
      (r) => results.push(r),
      (err: unknown) => {
        res.writeHead(isEventsError(err, 'EVENTS_FILTER_SYNTAX') ? 400 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as { toJSON(): unknown }).toJSON() }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events`;
});

afterEach(async () => {
  bus.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** An SSE client: fetch + our decoder; read(n) waits for n messages. */
async function connect(query = '', headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(`${base}${query}`, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const decoder = createSseDecoder();
  const reader = res.body!.getReader();
  const buffered: SseEvent[] = [];
  let ended = false;
  async function read(n: number): Promise<SseEvent[]> {
    while (buffered.length < n && !ended) {
      const chunk = await reader.read();
      if (chunk.done) {
        ended = true;
        break;
      }
      for (const r of decoder.push(chunk.value)) {
        if (!r.ok) throw r.error;
        buffered.push(r.message);
      }
    }
    return buffered.splice(0, n);
  }
  return {
    res,
    read,
    decoder,
    get ended() {
      return ended;
    },
    close: () => ac.abort(),
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('GET /api/v1/events (SSE over node:http)', () => {
  it('streams filtered events with id, event and data, and frees the subscriber when the client goes', async () => {
    const client = await connect('?app=bonding&kind=link.*');
    expect(client.res.status).toBe(200);
    expect(client.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.res.headers.get('cache-control')).toBe('no-cache, no-transform');
    await until(() => bus.stats().subscribers === 1);
    const up = ev({ source: 'bonding', kind: 'link.up', subject: 'wan1' });
    bus.publish(ev({ source: 'netevd', kind: 'link.state' }));
    bus.publish(up);
    bus.publish(ev({ source: 'bonding', kind: 'session.up' }));
    const [m] = await client.read(1);
    expect(m).toEqual({ id: 'h-2', event: 'link.up', data: JSON.stringify(up) });
    expect(client.decoder.retry).toBe(3000);
    expect(JSON.parse(m!.data)).toEqual(up);
    client.close();
    await until(() => bus.stats().subscribers === 0 && results.length === 1);
    expect(results[0]).toMatchObject({ reason: 'client-closed', sent: 1, dropped: 0 });
  });

  it('resumes after Last-Event-ID with exactly the missed events, then live ones, no duplicates', async () => {
    const first = await connect('?kind=link.*');
    await until(() => bus.stats().subscribers === 1);
    for (let i = 0; i < 4; i++) bus.publish(ev({ kind: 'link.up', data: { i } }));
    const seen = await first.read(2);
    expect(seen.map((m) => m.id)).toEqual(['h-1', 'h-2']);
    first.close();
    await until(() => bus.stats().subscribers === 0);
    // While disconnected: more events, some filtered out.
    bus.publish(ev({ kind: 'other' }));
    bus.publish(ev({ kind: 'link.down' }));

    // The id of the last event the client handled (its decoder may have read further ahead).
    const second = await connect('?kind=link.*', { 'last-event-id': seen[1]!.id });
    const replayed = await second.read(3);
    expect(replayed.map((m) => m.id)).toEqual(['h-3', 'h-4', 'h-6']);
    bus.publish(ev({ kind: 'link.up' }));
    expect((await second.read(1)).map((m) => m.id)).toEqual(['h-7']);
    second.close();
    await until(() => results.length === 2);
    expect(results[1]).toMatchObject({ replayed: 3, complete: true });
  });

  it('tells a client resuming past what the ring holds that the replay is incomplete', async () => {
    const small = createEventBus({ historySize: 2, epoch: 'h' });
    bus = small;
    for (let i = 0; i < 6; i++) bus.publish(ev());
    const client = await connect('', { 'last-event-id': 'h-1' });
    expect((await client.read(2)).map((m) => m.id)).toEqual(['h-5', 'h-6']);
    client.close();
    await until(() => results.length === 1);
    expect(results[0]).toMatchObject({ replayed: 2, complete: false });
  });

  it('sends heartbeat comments on an idle stream', async () => {
    const client = await connect('', { 'x-heartbeat-ms': '20' });
    await until(() => bus.stats().subscribers === 1);
    const reading = client.read(1);
    await until(() => client.decoder.comments >= 2);
    bus.publish(ev());
    expect((await reading).length).toBe(1);
    client.close();
  });

  it('ends the stream when the bus closes', async () => {
    const client = await connect();
    await until(() => bus.stats().subscribers === 1);
    bus.publish(ev());
    bus.close();
    expect((await client.read(5)).length).toBe(1);
    expect(client.ended).toBe(true);
    await until(() => results.length === 1);
    expect(results[0]).toMatchObject({ reason: 'bus-closed', sent: 1 });
  });

  it('answers 400 with the error envelope for a bad filter, before any stream starts', async () => {
    const res = await fetch(`${base}?kind=link.*&where=${encodeURIComponent('rtt >')}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('EVENTS_FILTER_SYNTAX');
    expect(body.error.message).toMatch(/unknown field "rtt"/);
    expect(bus.stats().subscribers).toBe(0);
  });
});

/** A response whose socket stops draining after `accept` writes (a stalled client). */
class StalledResponse extends EventEmitter implements SseResponse {
  written: string[] = [];
  ended = false;
  headersSent = false;
  constructor(private accept: number) {
    super();
  }
  writeHead(): this {
    this.headersSent = true;
    return this;
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    return this.written.length <= this.accept;
  }
  end(): void {
    this.ended = true;
  }
  get writableEnded(): boolean {
    return this.ended;
  }
}

describe('serveSse with a stalled client', () => {
  it('cuts the stream at overflow instead of waiting, while the bus and other subscribers go on', async () => {
    const local = createEventBus({ historySize: 1000, epoch: 's' });
    const res = new StalledResponse(2); // retry hint + one event, then write() returns false forever
    const other = local.subscribe();
    const done = serveSse({ bus: local, response: res, bufferSize: 8, heartbeatMs: 0 });
    for (let i = 0; i < 100; i++) {
      expect(local.publish(ev())?.seq).toBe(i + 1);
      await Promise.resolve();
    }
    expect(other.stats.queued).toBe(100);
    const r = await done;
    expect(r.reason).toBe('overflow');
    expect(r.dropped).toBe(1);
    expect(res.ended).toBe(true);
    expect(local.stats().subscribers).toBe(1);
    expect(local.stats().disconnected).toBe(1);
  });

  it('resumes writing after drain', async () => {
    const local = createEventBus({ epoch: 'd' });
    const res = new StalledResponse(1);
    const done = serveSse({ bus: local, response: res, heartbeatMs: 0, eventField: 'none', headers: { 'x-app': 'test' } });
    local.publish(ev());
    local.publish(ev());
    await new Promise((r) => setImmediate(r));
    expect(res.written.length).toBe(2); // retry + first event; waiting for drain
    res.emit('drain');
    await new Promise((r) => setImmediate(r));
    expect(res.written.length).toBe(3);
    expect(res.written[2]).toMatch(/^id: d-2\ndata: /);
    res.emit('close');
    expect((await done).reason).toBe('client-closed');
  });

  it('stops on its abort signal and rejects bad options before writing', async () => {
    const local = createEventBus();
    const res = new StalledResponse(100);
    const ac = new AbortController();
    const done = serveSse({ bus: local, response: res, signal: ac.signal, heartbeatMs: 0 });
    ac.abort();
    expect((await done).reason).toBe('aborted');
    expect(res.ended).toBe(true);
    await expect(serveSse({ bus: local, response: new StalledResponse(1), heartbeatMs: -1 })).rejects.toMatchObject({ code: 'EVENTS_INVALID_ARGUMENT' });
    local.close();
    const fresh = new StalledResponse(1);
    await expect(serveSse({ bus: local, response: fresh })).rejects.toMatchObject({ code: 'EVENTS_BUS_CLOSED' });
    expect(fresh.written).toEqual([]);
  });

  it('reads Last-Event-ID from request headers', () => {
    expect(lastEventIdFrom({ 'last-event-id': 'h-4' })).toBe('h-4');
    expect(lastEventIdFrom({ 'last-event-id': ['h-5', 'h-6'] })).toBe('h-5');
    expect(lastEventIdFrom({ 'last-event-id': '' })).toBeUndefined();
    expect(lastEventIdFrom({})).toBeUndefined();
  });
});
