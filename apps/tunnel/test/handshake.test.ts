import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { createHandshakeInitiator, createHandshakeResponder } from '@edgebox/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptStreamHandshake, initiateStreamHandshake } from '../src/handshake.js';
import { createMux, type Mux } from '../src/mux.js';
import { streamPair } from '../src/stream-pair.js';
import { collect, sha256, until } from './helpers.js';

const psk = randomBytes(32);
const responder = () => createHandshakeResponder({ psk: { lookup: (id) => (id === 'box-1' ? psk : undefined) } });
const initiator = (key = psk) => createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'box-1', psk: key } });

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

describe('handshake over a stream', () => {
  it('gives both sides matching keys, and the multiplexer takes over with the leftover bytes', async () => {
    const [a, b] = streamPair();
    const [src, dst] = await Promise.all([initiateStreamHandshake(a, initiator()), acceptStreamHandshake(b, responder())]);
    expect(Buffer.from(src.result.sendKey)).toEqual(Buffer.from(dst.result.receiveKey));
    const source = createMux({ transport: a, keys: src.result, leftover: src.leftover }, { role: 'source' });
    // The source sends OPEN + DATA before the dest multiplexer exists: they wait in the transport.
    const s = source.openStream({ protocol: 'tcp', port: 7, target: '' }).on('error', () => {});
    const got = collect(s);
    s.end('hello through the tunnel');
    await new Promise((r) => setImmediate(r));
    const dest = createMux({ transport: b, keys: dst.result, leftover: dst.leftover }, { role: 'dest', onStream: (x) => x.pipe(x) });
    cleanup.push(() => source.destroy(), () => dest.destroy());
    expect((await got).bytes).toBe(24);
  });

  it('a wrong key fails with TUNNEL_HANDSHAKE naming the crypto code', async () => {
    const [a, b] = streamPair();
    const results = (await Promise.all([
      initiateStreamHandshake(a, initiator(randomBytes(32))).catch((e: unknown) => e),
      acceptStreamHandshake(b, responder()).catch((e: unknown) => e),
    ])) as { code: string; details?: { cause?: string } }[];
    expect(results.map((r) => r.code)).toEqual(['TUNNEL_HANDSHAKE', 'TUNNEL_HANDSHAKE']);
    // the side that found the wrong key names the crypto code; the other saw the connection close
    expect(results.map((r) => r.details?.cause ?? '').join(' ')).toMatch(/CRYPTO_HANDSHAKE_AUTH/);
  });

  it('garbage, a timeout, an abort and a closed transport all reject with TUNNEL_HANDSHAKE', async () => {
    const [a, b] = streamPair();
    const p = acceptStreamHandshake(b, responder());
    a.write(Buffer.from('01100000000000000000000000', 'hex'));
    await expect(p).rejects.toMatchObject({ code: 'TUNNEL_HANDSHAKE' });
    const [c, d] = streamPair();
    await expect(acceptStreamHandshake(d, responder(), { timeoutMs: 10 })).rejects.toThrow(/not done after 10 ms/);
    const ac = new AbortController();
    const q = acceptStreamHandshake(d, responder(), { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(q).rejects.toMatchObject({ code: 'TUNNEL_HANDSHAKE' });
    const r = initiateStreamHandshake(c, initiator());
    d.destroy();
    await expect(r).rejects.toMatchObject({ code: 'TUNNEL_HANDSHAKE' });
    a.destroy();
  });

  it('over loopback TCP: handshake, then parallel streams deliver exact bytes', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const muxes: Mux[] = [];
    cleanup.push(() => {
      for (const m of muxes) m.destroy();
      server.close();
    });
    server.on('connection', (sock: Socket) => {
      void acceptStreamHandshake(sock, responder(), { peerAddress: `${sock.remoteAddress}:${sock.remotePort}` }).then(({ result, leftover }) => {
        muxes.push(createMux({ transport: sock, keys: result, leftover }, { role: 'dest', onStream: (s) => s.pipe(s) }));
      });
    });
    const { port } = server.address() as { port: number };
    const sock = connect(port, '127.0.0.1');
    await once(sock, 'connect');
    sock.setNoDelay(true);
    const { result, leftover } = await initiateStreamHandshake(sock, initiator());
    const source = createMux({ transport: sock, keys: result, leftover }, { role: 'source', rekeyAfterMessages: 100 });
    muxes.push(source);
    const jobs = Array.from({ length: 4 }, async () => {
      const data = randomBytes(4 * 1024 * 1024);
      const s = source.openStream({ protocol: 'tcp', port: 5201, target: '' });
      const got = collect(s);
      s.end(data);
      expect((await got).sha256).toBe(sha256(data));
    });
    await Promise.all(jobs);
    expect(source.stats.rekeys).toBeGreaterThan(0);
    await until(() => source.openStreams === 0, 'closed');
  });
});
