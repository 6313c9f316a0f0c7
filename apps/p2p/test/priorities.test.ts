// Message priorities under back-pressure (send-queue.ts): with the stream's window full and a
// queue of low-priority messages waiting, a high-priority message is delivered before the
// earlier-queued low ones; order within a priority is kept; a full priority queue refuses with
// P2P_LIMIT while a higher priority still goes through.
import { afterEach, describe, expect, it } from 'vitest';
import { collect, startNetwork, str, text } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const big = { capacity: 1e6, refillPerSecond: 1e6 };

describe.each(['memory', 'tcp'] as const)('priorities over %s', (transport) => {
  it('a high-priority message overtakes low ones queued before it', async () => {
    const a = await startNetwork(transport, cleanup);
    const b = await startNetwork(transport, cleanup, { rateLimit: big });
    await a.connect(b.peerId, b.multiaddrs());
    await a.send(b.peerId, 'chat', text('warm-up')); // the stream is open before the burst
    const count = 100;
    const got = collect(b, count + 2, { streams: ['chat'] });
    const pad = 'x'.repeat(16 * 1024);
    // Fired without waiting: the first ones fill the yamux window, the rest queue (low).
    const lows = Array.from({ length: count }, (_, i) => a.send(b.peerId, 'chat', text(`low-${i}-${pad}`), { priority: 'low' }));
    const high = a.send(b.peerId, 'chat', text('HIGH'), { priority: 'high' });
    await Promise.all([...lows, high]);
    const order = (await got).map((m) => str(m.data).split('-').slice(0, 2).join('-')).filter((s) => s !== 'warm-up');
    expect(order).toHaveLength(count + 1);
    const at = order.indexOf('HIGH');
    // About one yamux window (256 KiB = 16 messages) left before the stream needed a drain.
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(count / 2);
    expect(order.filter((s) => s !== 'HIGH')).toEqual(Array.from({ length: count }, (_, i) => `low-${i}`));
    expect(a.counters().sendQueued).toBeGreaterThanOrEqual(count / 2);
  });

  it('messages bigger than the send buffer cap still go out (one per priority queue at a time), acknowledged or not', async () => {
    const a = await startNetwork(transport, cleanup, { maxMessageBytes: 2 * 1024 * 1024, maxBufferedBytes: 512 * 1024 });
    const b = await startNetwork(transport, cleanup, { maxMessageBytes: 2 * 1024 * 1024, rateLimit: big });
    await a.connect(b.peerId, b.multiaddrs());
    const got = collect(b, 4, { streams: ['files'] });
    for (const i of [0, 1, 2]) await a.send(b.peerId, 'files', new Uint8Array(2 * 1024 * 1024).fill(i), { priority: 'low' });
    await a.send(b.peerId, 'files', new Uint8Array(2 * 1024 * 1024).fill(9), { ack: true });
    expect((await got).map((m) => [m.data.length, m.data[12345]])).toEqual([[2097152, 0], [2097152, 1], [2097152, 2], [2097152, 9]]);
  });

  it('a full priority queue refuses with P2P_LIMIT; a higher priority still goes through', async () => {
    const a = await startNetwork(transport, cleanup, { maxBufferedBytes: 32 * 1024, sendQueueMessages: 4 });
    const b = await startNetwork(transport, cleanup, { rateLimit: big });
    await a.connect(b.peerId, b.multiaddrs());
    await a.send(b.peerId, 'files', text('warm-up'));
    const pad = new Uint8Array(32 * 1024);
    const lows = await Promise.allSettled(Array.from({ length: 40 }, () => a.send(b.peerId, 'files', pad, { priority: 'low' })));
    const refused = lows.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'P2P_LIMIT' });
    expect(a.counters().sendQueueFull).toBe(refused.length);
    const got = collect(b, 1, { streams: ['chat'] });
    await a.send(b.peerId, 'chat', text('urgent'), { priority: 'high' });
    expect(str((await got)[0]!.data)).toBe('urgent');
    await expect(a.send(b.peerId, 'chat', text('x'), { priority: 'urgent' as never })).rejects.toMatchObject({ code: 'P2P_INVALID_ARGUMENT' });
  });
});
