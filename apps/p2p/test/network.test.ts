// The network over the memory transport and loopback TCP: three nodes establish, exchange on two
// named streams in order, a blocked peer is refused (and hung up on when blocked later), a peer
// whose handshake identity is not its peer id is rejected, tampered frames reach the
// decryption-error callback while the stream goes on, replayed frames are refused.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList } from '@edgebox/peers';
import { createP2pNetwork, type P2pNetwork, type P2pNetworkComponents, type P2pNetworkInit } from '../src/network.js';
import type { DecryptError } from '../src/streams.js';
import type { P2pMessage } from '../src/feed.js';
import { listenAddress } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Transport = 'memory' | 'tcp';

async function startNetwork(transport: Transport, init: Partial<P2pNetworkInit> = {}, components: Partial<P2pNetworkComponents> = {}): Promise<P2pNetwork> {
  const net = await createP2pNetwork(
    { listen: [listenAddress(transport)], streams: ['chat', 'files'], ...init },
    { identity: generateIdentity(), accessList: createAccessList(), ...components },
  );
  await net.start();
  cleanup.push(() => net.stop());
  return net;
}

async function collect(net: P2pNetwork, count: number, filter?: { streams?: string[] }): Promise<P2pMessage[]> {
  const out: P2pMessage[] = [];
  if (count === 0) return out;
  for await (const m of net.messages({ ...filter, signal: AbortSignal.timeout(20_000) })) {
    out.push(m);
    if (out.length >= count) break;
  }
  return out;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

describe.each(['memory', 'tcp'] as const)('network over %s', (transport) => {
  it('three nodes establish and exchange in order on two named streams', async () => {
    const nodes = [await startNetwork(transport), await startNetwork(transport), await startNetwork(transport)];
    for (let i = 0; i < 3; i++) {
      for (let j = i + 1; j < 3; j++) await nodes[i]!.connect(nodes[j]!.peerId, nodes[j]!.multiaddrs());
    }
    // connect() resolves when our side is established; the other side follows a frame later.
    for (const n of nodes) await vi.waitFor(() => expect(n.established().sort()).toEqual(nodes.filter((o) => o !== n).map((o) => o.peerId).sort()));
    const [a, b, c] = nodes as [P2pNetwork, P2pNetwork, P2pNetwork];
    const atC = collect(c, 60);
    for (let i = 0; i < 20; i++) {
      await a.send(c.peerId, 'chat', text(`a-chat-${i}`));
      await a.send(c.peerId, 'files', text(`a-files-${i}`));
      await b.send(c.peerId, 'chat', text(`b-chat-${i}`));
    }
    const got = await atC;
    for (const [peer, stream, prefix] of [[a.peerId, 'chat', 'a-chat'], [a.peerId, 'files', 'a-files'], [b.peerId, 'chat', 'b-chat']] as const) {
      const seq = got.filter((m) => m.peer === peer && m.stream === stream).map((m) => str(m.data));
      expect(seq).toEqual(Array.from({ length: 20 }, (_, i) => `${prefix}-${i}`));
    }
    expect(c.peers().find((p) => p.peer === a.peerId)?.streams['files']).toMatchObject({ messagesIn: 20, bytesIn: 20 * 9 + 10 * 1 });
    expect(await a.ping(b.peerId)).toBeGreaterThanOrEqual(0);
    const many = await a.sendToMany([b.peerId, c.peerId], 'chat', text('all'));
    expect([...many.values()]).toEqual([null, null]);
  });

  it('bulk: 16 MiB of 64 KiB messages through a 1 MiB send buffer, each send awaited, all arrive in order and intact', async () => {
    // Regressed on libp2p's onDrain() (drain.ts): once over the buffer cap the sender spun on
    // a settled promise, the peer got ~256 KiB, and the send failed with P2P_LIMIT after 30 s.
    const a = await startNetwork(transport, { maxMessageBytes: 128 * 1024, maxBufferedBytes: 1024 * 1024 });
    const b = await startNetwork(transport, { maxMessageBytes: 128 * 1024, rateLimit: { capacity: 1e6, refillPerSecond: 1e6 } });
    await a.connect(b.peerId, b.multiaddrs());
    const count = 256;
    const got = collect(b, count, { streams: ['files'] });
    for (let i = 0; i < count; i++) {
      const m = new Uint8Array(64 * 1024).fill(i & 0xff);
      new DataView(m.buffer).setUint32(0, i);
      await a.send(b.peerId, 'files', m, { signal: AbortSignal.timeout(20_000) });
    }
    const msgs = await got;
    expect(msgs.map((m) => new DataView(m.data.buffer, m.data.byteOffset).getUint32(0))).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(msgs.every((m, i) => m.data.length === 64 * 1024 && m.data[100] === (i & 0xff))).toBe(true);
  });

  it('the responder may send as soon as its connect() resolves (before the initiator has keys)', async () => {
    const x = await startNetwork(transport);
    const y = await startNetwork(transport);
    const [lo, hi] = x.peerId < y.peerId ? [x, y] : [y, x];
    const got = collect(lo, 3);
    await hi.connect(lo.peerId, lo.multiaddrs()); // hi is the responder (p2p.md §3)
    for (let i = 0; i < 3; i++) await hi.send(lo.peerId, 'chat', text(`early-${i}`));
    expect((await got).map((m) => str(m.data))).toEqual(['early-0', 'early-1', 'early-2']);
    expect(lo.counters().dropped['bad-auth']).toBe(0);
  });

  it('refuses a blocked peer and hangs up on a peer blocked while connected', async () => {
    const accessList = createAccessList();
    const a = await startNetwork(transport, {}, { accessList });
    const b = await startNetwork(transport);
    const c = await startNetwork(transport);
    accessList.blockPeer(c.peerId, { reason: 'test' });
    await expect(c.connect(a.peerId, a.multiaddrs(), { timeoutMs: 3000 })).rejects.toMatchObject({ code: expect.stringMatching(/P2P_NOT_CONNECTED|P2P_HANDSHAKE/) });
    await expect(a.connect(c.peerId, c.multiaddrs())).rejects.toMatchObject({ code: 'P2P_BLOCKED' });
    expect(a.established()).toEqual([]);
    await a.connect(b.peerId, b.multiaddrs());
    accessList.blockPeer(b.peerId, { reason: 'later' });
    expect(await a.enforceBlocks()).toEqual([b.peerId]);
    expect(a.established()).toEqual([]);
    await vi.waitFor(() => expect(b.established()).toEqual([]), { timeout: 5000 });
    await expect(a.send(b.peerId, 'chat', text('x'))).rejects.toMatchObject({ code: 'P2P_NOT_CONNECTED' });
  });

  it('rejects a peer whose handshake identity does not match its peer id', async () => {
    const honest = await startNetwork(transport);
    const impostor = await startNetwork(transport, {}, { handshakeIdentity: generateIdentity() });
    const failures: Array<{ peer: string; code: string }> = [];
    honest.events.on('handshake:failed', (f) => failures.push(f));
    await expect(impostor.connect(honest.peerId, honest.multiaddrs(), { timeoutMs: 5000 })).rejects.toThrow();
    // Whichever side initiates, the honest node is the one that checks the impostor's certificate.
    await vi.waitFor(() => expect(failures.map((f) => f.code)).toContain('P2P_IDENTITY_MISMATCH'), { timeout: 5000 });
    expect(honest.established()).toEqual([]);
    expect(impostor.established()).toEqual([]);
    expect(honest.counters().identityMismatches).toBe(1);
  });
});

describe('tampering and replay on the wire', () => {
  it('tampered ciphertext reaches the decryption-error callback, is counted, and the stream goes on; replays are refused', async () => {
    let n = 0;
    const receiverErrors: DecryptError[] = [];
    const receiver = await startNetwork('memory', {}, { onDecryptError: (e) => receiverErrors.push(e) });
    const sender = await startNetwork('memory', {}, {
      outboundFrames: (_peer, _stream, frame) => {
        n++;
        if (n % 5 === 2) {
          const bad = frame.slice();
          bad[bad.length - 3]! ^= 0x40; // inside the tag
          return [bad];
        }
        if (n % 5 === 4) return [frame, frame]; // replay
        return [frame];
      },
    });
    await sender.connect(receiver.peerId, receiver.multiaddrs());
    const got = collect(receiver, 12, { streams: ['chat'] });
    for (let i = 0; i < 20; i++) await sender.send(receiver.peerId, 'chat', text(`m${i}`));
    const delivered = (await got).map((m) => str(m.data));
    // Sends 2, 7, 12, 17 (1-based 2, 7, ...) were tampered: every other message arrives once, in order.
    const expected = Array.from({ length: 20 }, (_, i) => i).filter((i) => (i + 1) % 5 !== 2).map((i) => `m${i}`);
    expect(delivered).toEqual(expected.slice(0, 12));
    await vi.waitFor(() => {
      expect(receiverErrors.filter((e) => e.reason === 'bad-auth').length).toBe(4);
      expect(receiverErrors.filter((e) => e.reason === 'replayed').length).toBe(4);
    });
    expect(receiver.counters().dropped).toMatchObject({ 'bad-auth': 4, replayed: 4 });
    expect(receiver.counters().messagesIn).toBe(16);
  });

  it('per-peer message rate limit drops and counts beyond the bucket', async () => {
    const receiver = await startNetwork('memory', { rateLimit: { capacity: 5, refillPerSecond: 0.001 } });
    const sender = await startNetwork('memory');
    await sender.connect(receiver.peerId, receiver.multiaddrs());
    for (let i = 0; i < 10; i++) await sender.send(receiver.peerId, 'chat', text(`m${i}`));
    await vi.waitFor(() => expect(receiver.counters().dropped['rate-limited']).toBe(5));
    expect(receiver.counters().messagesIn).toBe(5);
  });

  it('validates stream names and sizes; unknown peers are not connected', async () => {
    const a = await startNetwork('memory', { maxMessageBytes: 100 });
    const b = await startNetwork('memory');
    await expect(a.send(b.peerId, 'chat', text('x'))).rejects.toMatchObject({ code: 'P2P_NOT_CONNECTED' });
    await a.connect(b.peerId, b.multiaddrs());
    await expect(a.send(b.peerId, 'Bad/Name', text('x'))).rejects.toMatchObject({ code: 'P2P_INVALID_STREAM_NAME' });
    await expect(a.send(b.peerId, 'chat', new Uint8Array(101))).rejects.toMatchObject({ code: 'P2P_TOO_LARGE' });
    await expect(a.addStream('../x')).rejects.toMatchObject({ code: 'P2P_INVALID_STREAM_NAME' });
    await expect(a.send(b.peerId, 'unregistered', text('x'))).rejects.toThrow();
  });
});
