// Optional acknowledgements (p2p.md §4.2): send({ack: true}) resolves once the receiver's sealed
// ACK came back; a lost message or a lost ACK is retried with the same id and delivered once
// (the receiver drops the duplicate and acknowledges again); no ACK at all ends in
// P2P_ACK_TIMEOUT after the retries; a peer without the acks capability gets P2P_UNSUPPORTED.
import { afterEach, describe, expect, it } from 'vitest';
import { FLAG_ACK_REQUESTED } from '../src/constants.js';
import { collect, startNetwork, str, text } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Frame flags byte: header = version u8, type u8, flags u8, ... */
const isAckRequested = (frame: Uint8Array): boolean => (frame[2]! & FLAG_ACK_REQUESTED) !== 0;

describe.each(['memory', 'tcp'] as const)('acknowledged sends over %s', (transport) => {
  it('resolve once the receiver acknowledged; plain sends on the same stream are unaffected', async () => {
    const a = await startNetwork(transport, cleanup);
    const b = await startNetwork(transport, cleanup);
    await a.connect(b.peerId, b.multiaddrs());
    const got = collect(b, 3, { streams: ['chat'] });
    await a.send(b.peerId, 'chat', text('plain-1'));
    await a.send(b.peerId, 'chat', text('acked'), { ack: true });
    await a.send(b.peerId, 'chat', text('plain-2'));
    expect((await got).map((m) => str(m.data))).toEqual(['plain-1', 'acked', 'plain-2']);
    expect(a.counters()).toMatchObject({ acksReceived: 1, ackRetries: 0, ackTimeouts: 0 });
    expect(b.counters()).toMatchObject({ acksSent: 1, duplicates: 0 });
    expect(b.peers().find((p) => p.peer === a.peerId)?.streams['chat']).toMatchObject({ messagesIn: 3, bytesIn: 7 + 5 + 7 });
  });

  it('an acknowledged message of exactly maxMessageBytes arrives (the frame limit has room for the id)', async () => {
    const a = await startNetwork(transport, cleanup);
    const b = await startNetwork(transport, cleanup, { maxMessageBytes: 1000 });
    await a.connect(b.peerId, b.multiaddrs());
    const got = collect(b, 1, { streams: ['files'] });
    await a.send(b.peerId, 'files', new Uint8Array(1000).fill(3), { ack: true });
    expect((await got)[0]!.data).toEqual(new Uint8Array(1000).fill(3));
    expect(b.counters().dropped).toMatchObject({ malformed: 0, framing: 0 });
  });
});

describe('acknowledged sends with losses (memory)', () => {
  it('a lost message is sent again with the same id and delivered once', async () => {
    let dropped = 0;
    const a = await startNetwork('memory', cleanup, {}, {
      outboundFrames: (_peer, _stream, frame) => (isAckRequested(frame) && dropped++ === 0 ? [] : [frame]),
    });
    const b = await startNetwork('memory', cleanup);
    await a.connect(b.peerId, b.multiaddrs());
    const got = collect(b, 2, { streams: ['chat'] });
    await a.send(b.peerId, 'chat', text('important'), { ack: true, timeoutMs: 1000, retries: 3 });
    await a.send(b.peerId, 'chat', text('after'));
    expect((await got).map((m) => str(m.data))).toEqual(['important', 'after']);
    expect(a.counters()).toMatchObject({ ackRetries: 1, acksReceived: 1, ackTimeouts: 0 });
  });

  it('a lost ACK: the retry is a duplicate, dropped, and acknowledged again', async () => {
    let acks = 0;
    const a = await startNetwork('memory', cleanup);
    const b = await startNetwork('memory', cleanup, {}, {
      outboundFrames: (_peer, stream, frame) => (stream.endsWith('/ack') && acks++ === 0 ? [] : [frame]),
    });
    await a.connect(b.peerId, b.multiaddrs());
    const got = collect(b, 2, { streams: ['chat'] });
    await a.send(b.peerId, 'chat', text('once'), { ack: true, timeoutMs: 1000, retries: 3 });
    await a.send(b.peerId, 'chat', text('next'));
    expect((await got).map((m) => str(m.data))).toEqual(['once', 'next']);
    expect(b.counters()).toMatchObject({ duplicates: 1, acksSent: 2 });
    expect(a.counters()).toMatchObject({ ackRetries: 1, acksReceived: 1 });
  });

  it('no ACK at all: P2P_ACK_TIMEOUT after the retries, the message delivered once', async () => {
    const a = await startNetwork('memory', cleanup);
    const b = await startNetwork('memory', cleanup, {}, { outboundFrames: (_peer, stream, frame) => (stream.endsWith('/ack') ? [] : [frame]) });
    await a.connect(b.peerId, b.multiaddrs());
    const got = collect(b, 2, { streams: ['chat'] });
    await expect(a.send(b.peerId, 'chat', text('lost-acks'), { ack: true, timeoutMs: 150, retries: 2 })).rejects.toMatchObject({
      code: 'P2P_ACK_TIMEOUT',
      details: { attempts: 3 },
    });
    await a.send(b.peerId, 'chat', text('still-works'));
    expect((await got).map((m) => str(m.data))).toEqual(['lost-acks', 'still-works']);
    expect(a.counters()).toMatchObject({ ackRetries: 2, ackTimeouts: 1, acksReceived: 0 });
    expect(b.counters().duplicates).toBe(2);
  });

  it('chaos: a quarter of messages and ACKs dropped, some corrupted; every acknowledged send resolves, each delivered once, in order', async () => {
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const chaos = (_peer: string, _stream: string, frame: Uint8Array): Uint8Array[] => {
      const r = rand();
      if (r < 0.25) return [];
      if (r < 0.3) {
        const bad = frame.slice();
        bad[bad.length - 1]! ^= 0x01; // in the tag
        return [bad];
      }
      return [frame];
    };
    const a = await startNetwork('memory', cleanup, {}, { outboundFrames: chaos });
    const b = await startNetwork('memory', cleanup, {}, { outboundFrames: chaos });
    await a.connect(b.peerId, b.multiaddrs());
    const count = 40;
    const got = collect(b, count, { streams: ['chat'] });
    for (let i = 0; i < count; i++) await a.send(b.peerId, 'chat', text(`m${i}`), { ack: true, timeoutMs: 100, retries: 20 });
    expect((await got).map((m) => str(m.data))).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
    expect(a.counters().ackRetries).toBeGreaterThan(0);
    expect(b.counters().dropped['bad-auth'] + a.counters().dropped['bad-auth']).toBeGreaterThan(0);
    expect(a.counters().acksReceived).toBeGreaterThanOrEqual(count); // a slow ACK and its retry's ACK both count
  });

  it('a peer without the acks capability: P2P_UNSUPPORTED, its capabilities in status', async () => {
    const a = await startNetwork('memory', cleanup);
    const b = await startNetwork('memory', cleanup, { features: { acks: false } });
    await a.connect(b.peerId, b.multiaddrs());
    await expect(a.send(b.peerId, 'chat', text('x'), { ack: true })).rejects.toMatchObject({ code: 'P2P_UNSUPPORTED' });
    expect(a.peers().find((p) => p.peer === b.peerId)?.capabilities).toMatchObject({ version: 1, acks: false, priorities: true, resumption: true });
    const got = collect(b, 1);
    await a.send(b.peerId, 'chat', text('plain'));
    expect(str((await got)[0]!.data)).toBe('plain');
    // b's own acknowledged sends are refused too: a feature is used only when both sides have it.
    await expect(b.send(a.peerId, 'chat', text('x'), { ack: true })).rejects.toMatchObject({ code: 'P2P_UNSUPPORTED' });
  });
});
