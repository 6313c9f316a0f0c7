// The p2p Service: the runtime contract; three services on loopback TCP (and memory) connect from
// their address books, one restarts with the same identity and address and is reconnected;
// blocking a peer at runtime hangs up and publishes access.changed; status, health, metrics
// and bus events show it; a bad identity file is a P2P_START error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@edgebox/runtime';
import { describeServiceContract } from '@edgebox/runtime/testing';
import type { EventV1 } from '@edgebox/events';
import { createP2pService, peerIdOfKeyFile, type P2pService } from '../src/service.js';
import type { P2pMessage } from '../src/feed.js';

const silent = createLogger({ app: 'p2p', silent: true });
const dir = mkdtempSync(join(tmpdir(), 'p2p-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const started: P2pService[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

let n = 0;
function config(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    identity: { keyFile: join(dir, `${name}.pem`) },
    listen: [`/memory/svc-${process.pid}-${name}`],
    streams: ['chat', 'files'],
    addressBook: { path: join(dir, `${name}-peers.json`) },
    reconnect: { minMs: 50, maxMs: 300 },
    ...extra,
  };
}

async function start(cfg: Record<string, unknown>): Promise<P2pService> {
  const s = createP2pService({ logger: silent });
  await s.start(cfg);
  started.push(s);
  return s;
}

describeServiceContract({
  name: 'p2p',
  create: () => createP2pService({ logger: silent }),
  goodConfig: config('contract', { access: { rules: [] } }),
  changedConfig: config('contract', { access: { rules: [{ cidr: '203.0.113.0/24', action: 'block', reason: 'test' }] } }),
  badConfig: { identity: { keyFile: '' }, listen: [] },
});

describe('p2p service', () => {
  it.each(['memory', 'tcp'] as const)('three nodes over %s: address-book connect, two streams, restart and reconnect', async (transport) => {
    const tag = `${transport}-${++n}`;
    const listen = (name: string): string[] => (transport === 'tcp' ? ['/ip4/127.0.0.1/tcp/0'] : [`/memory/svc-${process.pid}-${tag}-${name}`]);
    const c = await start(config(`${tag}-c`, { listen: listen('c') }));
    const cAddress = c.network!.multiaddrs()[0]!.replace(/\/p2p\/.*$/, '');
    const cId = c.network!.peerId;
    const b = await start(config(`${tag}-b`, { listen: listen('b'), peers: [{ id: cId, addresses: [cAddress], autoConnect: true }] }));
    const a = await start(
      config(`${tag}-a`, {
        listen: listen('a'),
        peers: [
          { id: cId, addresses: [cAddress], autoConnect: true },
          { id: b.network!.peerId, addresses: b.network!.multiaddrs(), autoConnect: true },
        ],
      }),
    );
    const busEvents: EventV1[] = [];
    a.bus.listen((entry) => {
      busEvents.push(entry.event);
    });
    await vi.waitFor(() => expect(a.network!.established().sort()).toEqual([b.network!.peerId, cId].sort()), { timeout: 15_000 });
    await vi.waitFor(() => expect(c.network!.established()).toHaveLength(2), { timeout: 15_000 });
    expect(await a.health()).toMatchObject({ status: 'ok', ready: true });

    const received: P2pMessage[] = [];
    c.events.on('message', (m) => received.push(m));
    await a.network!.send(cId, 'chat', new TextEncoder().encode('hello'));
    await a.network!.send(cId, 'files', new Uint8Array(1000).fill(7));
    await b.network!.send(cId, 'chat', new TextEncoder().encode('from b'));
    await vi.waitFor(() => expect(received).toHaveLength(3));
    expect(received.map((m) => `${m.peer === a.network!.peerId ? 'a' : 'b'}:${m.stream}:${m.data.length}`).sort()).toEqual(['a:chat:5', 'a:files:1000', 'b:chat:6']);

    // c restarts with the same key file and the same address: a and b redial from their books.
    const cConfig = config(`${tag}-c`, { listen: [cAddress] });
    await c.stop();
    started.splice(started.indexOf(c), 1);
    await vi.waitFor(() => expect(a.network!.established()).toEqual([b.network!.peerId]), { timeout: 15_000 });
    expect(await a.health()).toMatchObject({ status: 'degraded', ready: true });
    const c2 = await start(cConfig);
    expect(c2.network!.peerId).toBe(cId);
    await vi.waitFor(() => expect(c2.network!.established()).toHaveLength(2), { timeout: 20_000 });
    await vi.waitFor(() => expect(a.network!.established()).toContain(cId), { timeout: 20_000 });
    const again = c2.network!.messages({ signal: AbortSignal.timeout(10_000) });
    await a.network!.send(cId, 'chat', new TextEncoder().encode('welcome back'));
    for await (const m of again) {
      expect(new TextDecoder().decode(m.data)).toBe('welcome back');
      break;
    }

    const status = a.status();
    expect(status.peers.find((p) => p.peer === cId)).toMatchObject({ state: 'established', autoConnect: true });
    expect(status.counters.handshakes).toBeGreaterThanOrEqual(3);
    expect(busEvents.map((e) => e.kind)).toEqual(expect.arrayContaining(['peer.state', 'handshake.completed']));
    const metrics = await a.registry.metrics();
    expect(metrics).toMatch(/edgebox_p2p_messages_sent_total\{app="p2p"\} [3-9]/);
    expect(metrics).toMatch(/edgebox_p2p_peers\{state="established",app="p2p"\} 2/);

    // The book was persisted: c is in a's file with its address.
    await a.addressBook!.save();
    const file = JSON.parse(readFileSync(join(dir, `${tag}-a-peers.json`), 'utf8')) as { peers: Array<{ id: string; lastSeen: number | null }> };
    expect(file.peers.find((p) => p.id === cId)?.lastSeen).not.toBeNull();
  });

  it('blocking a connected peer hangs up, publishes access.changed, and stops redials', async () => {
    const tag = `block-${++n}`;
    const b = await start(config(`${tag}-b`));
    const a = await start(config(`${tag}-a`, { peers: [{ id: b.network!.peerId, addresses: b.network!.multiaddrs(), autoConnect: true }] }));
    await vi.waitFor(() => expect(a.network!.established()).toEqual([b.network!.peerId]), { timeout: 10_000 });
    const kinds: string[] = [];
    a.events.on('event', (e) => kinds.push(e.kind));
    a.accessList!.blockPeer(b.network!.peerId, { reason: 'abuse' });
    await vi.waitFor(() => expect(a.network!.established()).toEqual([]));
    expect(kinds).toContain('access.changed');
    await new Promise((r) => setTimeout(r, 400)); // several backoff periods (50..300 ms)
    expect(a.network!.established()).toEqual([]);
    expect(b.network!.established()).toEqual([]);
  });

  it('refuses a reload that needs a restart and applies access rules; bad identity files fail start', async () => {
    const tag = `reload-${++n}`;
    const cfg = config(`${tag}-a`);
    const a = await start(cfg);
    expect(await a.reload({ ...cfg, listen: ['/memory/elsewhere'] })).toMatchObject({ applied: false, error: { code: 'P2P_RELOAD_UNSUPPORTED' } });
    expect(await a.reload({ ...cfg, access: { rules: [{ peer: a.network!.peerId, action: 'block', reason: 'self' }] } })).toMatchObject({ applied: true });
    expect(await peerIdOfKeyFile(join(dir, `${tag}-a.pem`))).toBe(a.network!.peerId);
    writeFileSync(join(dir, 'bad.pem'), 'not a key');
    const bad = createP2pService({ logger: silent });
    await expect(bad.start(config(`${tag}-bad`, { identity: { keyFile: join(dir, 'bad.pem') } }))).rejects.toMatchObject({ code: 'P2P_START' });
    await expect(peerIdOfKeyFile(join(dir, 'missing.pem'))).rejects.toMatchObject({ code: 'P2P_START' });
  });

  it('features, resumption and acks from the config: capabilities in status, a resumed reconnect counted in metrics', async () => {
    const tag = `features-${++n}`;
    const b = await start(config(`${tag}-b`, { features: { acks: false }, acks: { timeoutMs: 100, retries: 0 } }));
    const a = await start(config(`${tag}-a`, { resumption: { ticketLifetimeMs: 60_000, ticketKeyRotateMs: 60_000 } }));
    const bId = b.network!.peerId;
    const aId = a.network!.peerId;
    const [lo, hi] = aId < bId ? [a, b] : [b, a];
    await lo.network!.connect(hi.network!.peerId, hi.network!.multiaddrs());
    await vi.waitFor(() => expect(hi.network!.established()).toEqual([lo.network!.peerId]));
    expect(a.status().peers.find((p) => p.peer === bId)?.capabilities).toMatchObject({ acks: false, resumption: true });
    await expect(a.network!.send(bId, 'chat', new Uint8Array(1), { ack: true })).rejects.toMatchObject({ code: 'P2P_UNSUPPORTED' });
    await lo.network!.disconnect(hi.network!.peerId);
    await vi.waitFor(() => expect(hi.network!.established()).toEqual([]));
    await lo.network!.connect(hi.network!.peerId, hi.network!.multiaddrs());
    expect(lo.status().counters.resumed).toBe(1);
    expect(lo.status().peers.find((p) => p.peer === hi.network!.peerId)).toMatchObject({ resumed: true });
    await vi.waitFor(async () => expect(await hi.registry.metrics()).toMatch(/^edgebox_p2p_tickets_accepted_total(\{[^}]*\})? 1$/m));
    expect(await lo.registry.metrics()).toMatch(/^edgebox_p2p_resumed_handshakes_total(\{[^}]*\})? 1$/m);
    expect(await a.reload({ ...config(`${tag}-a`), features: { resumption: false } })).toMatchObject({ applied: false, error: { code: 'P2P_RELOAD_UNSUPPORTED' } });
  });
});
