// Fuzzed inbound frames and handshake messages over real libp2p streams never crash the node:
// random bytes and random well-framed garbage on a named stream are dropped and counted, the
// node keeps its session and still delivers a genuine message; random handshake messages end
// in P2P_HANDSHAKE failures, not exceptions. Plus the feed's bound and order as properties.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Stream } from '@libp2p/interface';
import fc from 'fast-check';
import { generateIdentity } from '@edgebox/crypto';
import { encodeFrame } from '@edgebox/framing';
import { createAccessList } from '@edgebox/peers';
import { HANDSHAKE_PROTOCOL, TYPE_CAPS, TYPE_HANDSHAKE, TYPE_HANDSHAKE_DONE, TYPE_MESSAGE, TYPE_RESUME, TYPE_RESUME_REJECTED, TYPE_TICKET } from '../src/constants.js';
import { createMessageFeed, type P2pMessage } from '../src/feed.js';
import { createP2pNetwork, type P2pNetwork } from '../src/network.js';
import { streamProtocol } from '../src/streams.js';
import { listenAddress } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startNetwork(): Promise<P2pNetwork> {
  const net = await createP2pNetwork({ listen: [listenAddress('memory')], streams: ['chat'], maxMessageBytes: 4096 }, { identity: generateIdentity(), accessList: createAccessList() });
  await net.start();
  cleanup.push(() => net.stop());
  return net;
}

/** Send, ignoring a stream the node already reset: refusing garbage that way is allowed. */
function sendQuietly(stream: Stream, bytes: Uint8Array): void {
  try {
    stream.send(bytes);
  } catch {
    // StreamStateError: closed by the node under test
  }
}

describe('fuzzed inbound', () => {
  it('random bytes and random frames on a named stream are dropped; the session goes on', async () => {
    const a = await startNetwork();
    const b = await startNetwork();
    await a.connect(b.peerId, b.multiaddrs());
    await vi.waitFor(() => expect(b.established()).toEqual([a.peerId]));
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.record({ type: fc.constantFrom(TYPE_MESSAGE, 0x11, 0x01), flags: fc.constantFrom(0, 1), payload: fc.uint8Array({ maxLength: 200 }) }).map((f) => encodeFrame(f)),
        fc.constant(encodeFrame({ type: TYPE_MESSAGE, payload: new Uint8Array(3) })),
      ),
      { numRuns: 60, seed: 42 },
    );
    for (const bytes of samples) {
      const raw = await a.libp2p.dialProtocol(b.libp2p.peerId, streamProtocol('chat'));
      sendQuietly(raw, bytes);
      await raw.close().catch(() => undefined);
    }
    // A frame header announcing more than the limit is refused without buffering it.
    const huge = await a.libp2p.dialProtocol(b.libp2p.peerId, streamProtocol('chat'));
    const header = encodeFrame({ type: TYPE_MESSAGE, payload: new Uint8Array(0) });
    new DataView(header.buffer).setUint32(8, 16 * 1024 * 1024);
    sendQuietly(huge, header);
    await vi.waitFor(() => {
      const d = b.counters().dropped;
      expect(d.framing + d.malformed + d['bad-auth'] + d.replayed).toBeGreaterThan(10);
    });
    expect(b.established()).toEqual([a.peerId]);
    const got = b.messages({ signal: AbortSignal.timeout(10_000) });
    await a.send(b.peerId, 'chat', new TextEncoder().encode('still fine'));
    for await (const m of got) {
      expect(new TextDecoder().decode(m.data)).toBe('still fine');
      break;
    }
    expect(b.counters().messagesIn).toBe(1);
  });

  it('random handshake messages fail the handshake cleanly', async () => {
    const a = await startNetwork();
    const b = await startNetwork();
    const failures: string[] = [];
    a.events.on('handshake:failed', (f) => failures.push(f.code));
    b.events.on('handshake:failed', (f) => failures.push(f.code));
    await a.libp2p.dial(b.libp2p.getMultiaddrs()[0]!);
    const [lo, hi] = a.peerId < b.peerId ? [a, b] : [b, a];
    // The higher peer id is the responder: garbage sent to it as an Init ends in P2P_HANDSHAKE.
    // Any handshake-stream frame type (RESUME with a garbage ticket, CAPS, TICKET ...), then
    // sometimes a random Init after it.
    const frame = fc.record({
      type: fc.constantFrom(TYPE_HANDSHAKE, TYPE_HANDSHAKE_DONE, TYPE_CAPS, TYPE_RESUME, TYPE_RESUME_REJECTED, TYPE_TICKET),
      payload: fc.uint8Array({ minLength: 1, maxLength: 2000 }),
    });
    const samples = fc.sample(fc.tuple(frame, fc.option(fc.uint8Array({ minLength: 1, maxLength: 600 }))), { numRuns: 15, seed: 7 });
    for (const [first, then] of samples) {
      const s = await lo.libp2p.dialProtocol(hi.libp2p.peerId, HANDSHAKE_PROTOCOL).catch(() => undefined);
      if (s === undefined) continue; // the failing handshakes closed the connection: fine
      sendQuietly(s, encodeFrame(first));
      if (then !== null) sendQuietly(s, encodeFrame({ type: TYPE_HANDSHAKE, payload: then }));
    }
    await vi.waitFor(() => expect(failures.length).toBeGreaterThan(0));
    for (const code of failures) expect(code).toMatch(/^P2P_(HANDSHAKE|IDENTITY_MISMATCH)$/);
    // Both nodes are still up and can establish afresh (one retry: the connection may still be
    // closing from the last failed handshake when the first attempt starts).
    await lo.connect(hi.peerId, hi.multiaddrs(), { timeoutMs: 10_000 }).catch(async () => lo.connect(hi.peerId, hi.multiaddrs(), { timeoutMs: 10_000 }));
    expect(lo.established()).toEqual([hi.peerId]);
  });
});

describe('message feed', () => {
  it('property: a reader sees messages in push order, at most `capacity` behind, drops counted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 100 }), async (capacity, count) => {
        const feed = createMessageFeed(capacity);
        const sub = feed.subscribe();
        for (let i = 0; i < count; i++) feed.push({ peer: 'p', stream: 's', data: Uint8Array.of(i), receivedAt: 0 } satisfies P2pMessage);
        feed.close();
        const seen: number[] = [];
        for await (const m of sub) seen.push(m.data[0]!);
        expect(seen).toEqual(Array.from({ length: Math.min(count, capacity) }, (_, k) => count - Math.min(count, capacity) + k));
        expect(sub.dropped).toBe(count - seen.length);
        expect(feed.dropped).toBe(sub.dropped);
      }),
      { numRuns: 100 },
    );
  });

  it('filters by stream and peer; an aborted subscription ends', async () => {
    const feed = createMessageFeed(10);
    const ac = new AbortController();
    const sub = feed.subscribe({ streams: ['x'], peers: ['p1'], signal: ac.signal });
    feed.push({ peer: 'p1', stream: 'y', data: Uint8Array.of(1), receivedAt: 0 });
    feed.push({ peer: 'p2', stream: 'x', data: Uint8Array.of(2), receivedAt: 0 });
    feed.push({ peer: 'p1', stream: 'x', data: Uint8Array.of(3), receivedAt: 0 });
    const it = sub[Symbol.asyncIterator]();
    expect((await it.next()).value?.data[0]).toBe(3);
    const pending = it.next();
    ac.abort();
    expect((await pending).done).toBe(true);
    expect(feed.subscribers).toBe(0);
  });
});
