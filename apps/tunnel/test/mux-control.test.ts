import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createStreamDecoder, frameHeaderView } from '@edgebox/framing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_OPEN,
  FRAME_OPEN_ACK,
  FRAME_PING,
  FRAME_PONG,
  FRAME_REKEY,
  FRAME_WINDOW_UPDATE,
  MAX_SEALED_PAYLOAD_BYTES,
  TUNNEL_FRAME_TYPES,
} from '../src/constants.js';
import { encodeFrameBody, type TunnelFrame } from '../src/frames.js';
import { createMux, type Mux } from '../src/mux.js';
import { createFrameSealer, type FrameSealer } from '../src/seal.js';
import { streamPair } from '../src/stream-pair.js';
import { collect, keyPair, sha256, twin, until } from './helpers.js';

const open: Mux[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.destroy();
});

/** A dest multiplexer facing a hand-driven source: raw sealed frames in, decoded frames out. */
function rawPeer(init: Parameters<typeof createMux>[1] = { role: 'dest', onStream: (s) => s.pipe(s) }) {
  const [a, b] = streamPair();
  const [ka, kb] = keyPair();
  const onStream = init.onStream;
  const mux = createMux({ transport: b, keys: kb }, { ...init, onStream: onStream && ((s) => onStream(s.on('error', () => {}) as typeof s)) });
  open.push(mux);
  const sealer: FrameSealer = createFrameSealer(ka);
  const got: TunnelFrame[] = [];
  const decoder = createStreamDecoder({ maxPayload: MAX_SEALED_PAYLOAD_BYTES, knownTypes: TUNNEL_FRAME_TYPES });
  a.on('data', (c: Buffer) => {
    decoder.decode(c, (f) => {
      const body = Buffer.from(sealer.open(frameHeaderView(f), f.payload));
      got.push({ type: f.type, channel: f.channel, flags: f.flags, body } as unknown as TunnelFrame);
    }, null);
  });
  a.on('error', () => {});
  const send = (f: TunnelFrame): void => {
    const { flags, body } = encodeFrameBody(f);
    a.write(sealer.seal(f.type, flags, f.channel, body));
  };
  return { mux, sealer, got, send, transport: a };
}

async function closedWith(mux: Mux): Promise<string | undefined> {
  const err = await mux.done;
  return (err as { code?: string } | undefined)?.code;
}

describe('mux control frames', () => {
  it('PING measures a round trip and PONG echoes the bytes', async () => {
    const t = twin();
    open.push(t.source, t.dest);
    const rtt = await t.source.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(t.source.stats.lastRttMs).toBe(rtt);
    const ac = new AbortController();
    const p = t.source.ping({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    await expect(t.source.ping({ signal: ac.signal })).rejects.toThrow('stop');
  });

  it('pings are bounded and rejected on close', async () => {
    const t = twin({ source: { maxPendingPings: 1 } });
    open.push(t.source, t.dest);
    const p1 = t.source.ping();
    await expect(t.source.ping()).rejects.toMatchObject({ code: 'TUNNEL_LIMIT' });
    t.source.destroy();
    await expect(p1).rejects.toMatchObject({ code: 'TUNNEL_CLOSED' });
    await expect(t.source.ping()).rejects.toMatchObject({ code: 'TUNNEL_CLOSED' });
  });

  it('REKEY during a transfer loses nothing, and both directions switch', async () => {
    const t = twin({ source: { rekeyAfterMessages: 40 }, dest: { rekeyAfterMessages: 55 } });
    open.push(t.source, t.dest);
    const data = randomBytes(6 * 1024 * 1024);
    const s = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    const got = collect(s);
    s.end(data);
    const r = await got;
    expect(r.sha256).toBe(sha256(data));
    expect(t.source.stats.rekeys).toBeGreaterThan(2);
    expect(t.dest.stats.rekeys).toBeGreaterThan(2);
  });

  it('explicit rekey: one pending at a time; crossing requests each rotate once', async () => {
    const t = twin();
    open.push(t.source, t.dest);
    expect(t.source.rekey()).toBe(true);
    expect(t.source.rekey()).toBe(false);
    expect(t.dest.rekey()).toBe(true); // crosses the source's request
    await until(() => t.source.stats.rekeys === 1 && t.dest.stats.rekeys === 1, 'crossed rekey done');
    expect(t.source.rekey()).toBe(true);
    await until(() => t.source.stats.rekeys === 2 && t.dest.stats.rekeys === 2, 'acked rekey done');
    expect(await t.source.ping()).toBeGreaterThanOrEqual(0);
  });

  it('GOAWAY drains: open streams finish, new ones are refused, then the connection closes', async () => {
    const t = twin();
    open.push(t.source, t.dest);
    const s = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    await once(s, 'open');
    t.dest.goAway();
    await until(() => t.source.draining, 'source saw GOAWAY');
    expect(() => t.source.openStream({ protocol: 'tcp', port: 1, target: '' })).toThrow(expect.objectContaining({ code: 'TUNNEL_LIMIT' }));
    const got = collect(s);
    s.end('last words');
    expect((await got).bytes).toBe(10);
    expect(await t.dest.done).toBeUndefined();
    expect(await t.source.done).toBeUndefined();
    expect(t.source.closed && t.dest.closed).toBe(true);
  });

  it('GOAWAY fails streams above lastStreamId and refuses late OPENs with GOING_AWAY', async () => {
    const p = rawPeer();
    p.send({ type: FRAME_OPEN, channel: 1, open: { protocol: 'tcp', port: 80, target: '' } });
    await until(() => p.got.some((f) => f.type === FRAME_OPEN_ACK), 'ack');
    p.mux.goAway();
    p.send({ type: FRAME_OPEN, channel: 3, open: { protocol: 'tcp', port: 80, target: '' } });
    await until(() => p.got.length >= 3, 'goaway and open_err');
    const goaway = p.got.find((f) => f.type === FRAME_GOAWAY) as unknown as { body: Buffer };
    expect(goaway.body.readUInt32BE(0)).toBe(1);
    expect((p.got.at(-1) as unknown as { body: Buffer }).body.readUInt16BE(0)).toBe(4);

    const t = twin({ onStream: () => {} });
    open.push(t.source, t.dest);
    const s1 = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    await once(s1, 'open');
    // the dest says goodbye before it saw stream 3
    const s3 = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    const e = once(s3, 'error').catch((x: unknown) => [x]);
    (t.dest as unknown as { lastPeerIdAccepted: number }).lastPeerIdAccepted = 1;
    t.dest.goAway();
    const [err] = (await e) as [{ code: string }];
    expect(['TUNNEL_OPEN_FAILED', 'TUNNEL_STREAM_RESET']).toContain(err.code);
  });

  it('a tampered frame closes the connection with TUNNEL_AUTH', async () => {
    const p = rawPeer();
    const frame = p.sealer.seal(FRAME_PING, 0, 0, Buffer.alloc(8));
    frame[frame.length - 1]! ^= 1;
    p.transport.write(frame);
    expect(await closedWith(p.mux)).toBe('TUNNEL_AUTH');
    expect(p.got.at(-1)?.type).toBe(FRAME_GOAWAY);
  });

  it.each([
    ['DATA for a stream never opened', (p: ReturnType<typeof rawPeer>) => p.send({ type: FRAME_DATA, channel: 5, data: Buffer.from('x') }), 'TUNNEL_PROTOCOL'],
    ['OPEN with the wrong parity', (p: ReturnType<typeof rawPeer>) => p.send({ type: FRAME_OPEN, channel: 2, open: { protocol: 'tcp', port: 1, target: '' } }), 'TUNNEL_PROTOCOL'],
    ['REKEY ACK with nothing pending', (p: ReturnType<typeof rawPeer>) => p.send({ type: FRAME_REKEY, channel: 0, ack: true, generation: 1 }), 'TUNNEL_PROTOCOL'],
    ['REKEY skipping a generation', (p: ReturnType<typeof rawPeer>) => p.send({ type: FRAME_REKEY, channel: 0, ack: false, generation: 2 }), 'TUNNEL_PROTOCOL'],
    ['connection credit over 16 MiB', (p: ReturnType<typeof rawPeer>) => p.send({ type: FRAME_WINDOW_UPDATE, channel: 0, credit: 16 * 1024 * 1024 }), 'TUNNEL_FLOW_CONTROL'],
    ['a malformed body', (p: ReturnType<typeof rawPeer>) => p.transport.write(p.sealer.seal(FRAME_PING, 0, 0, Buffer.alloc(3))), 'TUNNEL_MALFORMED'],
    ['a frame of another protocol', (p: ReturnType<typeof rawPeer>) => p.transport.write(Buffer.from('014000000000000000000000', 'hex')), 'TUNNEL_PROTOCOL'],
  ])('%s closes the connection', async (_n, act, code) => {
    const p = rawPeer();
    act(p);
    expect(await closedWith(p.mux)).toBe(code);
    expect(p.mux.openStreams).toBe(0);
  });

  it('DATA beyond the stream credit is TUNNEL_FLOW_CONTROL', async () => {
    const p = rawPeer({ role: 'dest', streamWindowBytes: 1024, onStream: () => {} });
    p.send({ type: FRAME_OPEN, channel: 1, open: { protocol: 'tcp', port: 80, target: '' } });
    p.send({ type: FRAME_DATA, channel: 1, data: Buffer.alloc(1024) });
    p.send({ type: FRAME_DATA, channel: 1, data: Buffer.alloc(1) });
    expect(await closedWith(p.mux)).toBe('TUNNEL_FLOW_CONTROL');
  });

  it('frames crossing a RESET are ignored and their connection credit returned', async () => {
    const p = rawPeer({ role: 'dest', onStream: (s) => s.destroy() });
    p.send({ type: FRAME_OPEN, channel: 1, open: { protocol: 'tcp', port: 80, target: '' } });
    for (let i = 0; i < 20; i++) p.send({ type: FRAME_DATA, channel: 1, data: Buffer.alloc(65536) });
    await until(() => p.got.some((f) => f.type === FRAME_WINDOW_UPDATE && f.channel === 0), 'connection credit back');
    p.send({ type: FRAME_PING, channel: 0, opaque: Buffer.alloc(8, 7) });
    await until(() => p.got.some((f) => f.type === FRAME_PONG), 'still alive');
    expect(p.mux.closed).toBe(false);
    expect(p.mux.openStreams).toBe(0);
  });

  it('an OPEN without an onStream handler is refused', async () => {
    const p = rawPeer({ role: 'dest' });
    p.send({ type: FRAME_OPEN, channel: 1, open: { protocol: 'tcp', port: 80, target: '' } });
    await until(() => p.got.length === 1, 'open_err');
    expect((p.got[0] as unknown as { body: Buffer }).body.readUInt16BE(0)).toBe(1);
  });

  it('the transport ending with streams open closes them with an error', async () => {
    const t = twin({ onStream: () => {} });
    open.push(t.source, t.dest);
    const s = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    await once(s, 'open');
    const err = once(t.accepted[0]!, 'error').catch((e: unknown) => [e]);
    t.transports[0].destroy();
    const [e] = (await err) as [{ code: string }];
    expect(e.code).toBe('TUNNEL_STREAM_RESET');
    expect(await closedWith(t.dest)).toBe('TUNNEL_CLOSED');
    expect(t.dest.openStreams).toBe(0);
    expect(() => t.dest.openStream({ protocol: 'tcp', port: 1, target: '' })).toThrow(expect.objectContaining({ code: 'TUNNEL_CLOSED' }));
  });

  it('turns Nagle off on a socket transport (credit frames must not wait for delayed ACKs)', () => {
    const [a] = streamPair();
    const [k] = keyPair();
    const calls: boolean[] = [];
    Object.assign(a, { setNoDelay: (on: boolean) => calls.push(on) });
    createMux({ transport: a, keys: k }, { role: 'source' }).destroy();
    expect(calls).toEqual([true]);
  });

  it('rejects bad options, naming them', () => {
    const [a] = streamPair();
    const [k] = keyPair();
    expect(() => createMux({ transport: a, keys: k }, { role: 'source', maxStreams: 0 })).toThrow(/maxStreams 0/);
    expect(() => createMux({ transport: a, keys: k }, { role: 'both' as 'source' })).toThrow(/role both/);
    a.destroy();
  });
});
