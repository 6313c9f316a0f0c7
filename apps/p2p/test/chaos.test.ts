// Chaos on the wire (issue 6 done-when): frames dropped, corrupted, replayed and streams reset
// under a seeded random plan; no crash, bounded state, and every delivered message is intact
// and in order per stream (a subsequence of what was sent). Every peer state change seen is a
// legal transition of the @edgebox/peers state machine.
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { generateIdentity } from '@edgebox/crypto';
import { CONNECTION_TRANSITIONS, createAccessList } from '@edgebox/peers';
import { createP2pNetwork, type P2pNetwork, type P2pNetworkComponents } from '../src/network.js';
import { streamProtocol } from '../src/streams.js';
import { listenAddress } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startNetwork(components: Partial<P2pNetworkComponents> = {}): Promise<P2pNetwork> {
  const net = await createP2pNetwork(
    { listen: [listenAddress('memory')], streams: ['a', 'b'], feedCapacity: 10_000 },
    { identity: generateIdentity(), accessList: createAccessList(), ...components },
  );
  await net.start();
  cleanup.push(() => net.stop());
  return net;
}

/** Mulberry32: a small seeded PRNG so a failing plan can be replayed from its seed. */
function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

describe('chaos', () => {
  it.each([1, 2, 3])('drops, corruption, replays and resets (seed %i): delivered messages intact and in order', async (seed) => {
    const random = rng(seed);
    const states: Array<{ from: string; to: string }> = [];
    const receiver = await startNetwork();
    receiver.events.on('peer:state', (s) => states.push(s));
    const sender = await startNetwork({
      outboundFrames: (_peer, _stream, frame) => {
        const r = random();
        if (r < 0.1) return []; // drop
        if (r < 0.2) {
          const bad = frame.slice();
          const at = 12 + Math.floor(random() * (bad.length - 12));
          bad[at]! ^= 1 + Math.floor(random() * 255);
          return [bad]; // corrupt (counter, ciphertext or tag)
        }
        if (r < 0.25) return [frame, frame]; // replay
        return [frame];
      },
    });
    sender.events.on('peer:state', (s) => states.push(s));
    await sender.connect(receiver.peerId, receiver.multiaddrs());
    await vi.waitFor(() => expect(receiver.established()).toEqual([sender.peerId]));
    const got = new Map<string, number[]>([['a', []], ['b', []]]);
    const sub = receiver.messages();
    const reading = (async () => {
      for await (const m of sub) {
        const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
        const i = view.getUint32(0);
        // intact: the body repeats the index's low byte
        for (let k = 4; k < m.data.length; k++) expect(m.data[k]).toBe(i & 0xff);
        got.get(m.stream)!.push(i);
      }
    })();
    const total = 300;
    for (let i = 0; i < total; i++) {
      const stream = i % 3 === 0 ? 'b' : 'a';
      const data = new Uint8Array(4 + (i % 50)).fill(i & 0xff);
      new DataView(data.buffer).setUint32(0, i);
      if (random() < 0.02) {
        // reset: abort the outbound stream under the sender; its next send opens a new one
        for (const conn of sender.libp2p.getConnections()) for (const s of conn.streams) if (s.protocol === streamProtocol(stream)) s.abort(new Error('chaos reset'));
      }
      try {
        await sender.send(receiver.peerId, stream, data);
      } catch {
        // a send on a stream reset under it fails; the next one reopens
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    sub.close();
    await reading;
    for (const [, seq] of got) {
      for (let k = 1; k < seq.length; k++) expect(seq[k]!).toBeGreaterThan(seq[k - 1]!);
    }
    const delivered = got.get('a')!.length + got.get('b')!.length;
    expect(delivered).toBeGreaterThan(total * 0.5);
    const c = receiver.counters();
    expect(c.messagesIn).toBe(delivered);
    expect(c.dropped['bad-auth'] + c.dropped.malformed).toBeGreaterThan(0);
    expect(c.dropped.replayed).toBeGreaterThan(0);
    expect(receiver.established()).toEqual([sender.peerId]);
    for (const s of states) expect(CONNECTION_TRANSITIONS[s.from as keyof typeof CONNECTION_TRANSITIONS]).toContain(s.to);
  });

  it('property: random connect / disconnect / block sequences only make legal state transitions and never crash', async () => {
    const accessList = createAccessList();
    const a = await startNetwork({ accessList });
    const b = await startNetwork();
    const states: Array<{ from: string; to: string }> = [];
    a.events.on('peer:state', (s) => states.push(s));
    b.events.on('peer:state', (s) => states.push(s));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('connect', 'reverse', 'disconnect', 'block', 'unblock', 'send'), { maxLength: 8 }), async (ops) => {
        for (const op of ops) {
          try {
            if (op === 'connect') await a.connect(b.peerId, b.multiaddrs(), { timeoutMs: 2000 });
            else if (op === 'reverse') await b.connect(a.peerId, a.multiaddrs(), { timeoutMs: 2000 });
            else if (op === 'disconnect') await a.disconnect(b.peerId);
            else if (op === 'block') {
              accessList.blockPeer(b.peerId, { reason: 'p' });
              await a.enforceBlocks();
            } else if (op === 'unblock') accessList.removePeer(b.peerId);
            else await a.send(b.peerId, 'a', Uint8Array.of(1));
          } catch (err) {
            expect((err as { code?: string }).code).toMatch(/^P2P_/);
          }
        }
        accessList.removePeer(b.peerId);
        await a.disconnect(b.peerId);
      }),
      { numRuns: 8 },
    );
    for (const s of states) expect(CONNECTION_TRANSITIONS[s.from as keyof typeof CONNECTION_TRANSITIONS]).toContain(s.to);
  });
});
