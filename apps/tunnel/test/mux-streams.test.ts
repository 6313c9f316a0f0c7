import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { STREAM_WINDOW_INITIAL_BYTES } from '../src/constants.js';
import type { Mux } from '../src/mux.js';
import type { TunnelStream } from '../src/stream.js';
import { collect, sha256, twin, until } from './helpers.js';

const open: Mux[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.destroy();
});

describe('mux streams', () => {
  it('many parallel streams deliver exact bytes both ways', async () => {
    const t = twin();
    open.push(t.source, t.dest);
    const jobs = Array.from({ length: 24 }, async (_, i) => {
      const data = randomBytes(10_000 + i * 37_000);
      const s = t.source.openStream({ protocol: 'tcp', port: 1000 + i, target: '' });
      const got = collect(s);
      s.end(data);
      const r = await got;
      expect(r.bytes).toBe(data.length);
      expect(r.sha256).toBe(sha256(data));
    });
    await Promise.all(jobs);
    await until(() => t.source.openStreams === 0 && t.dest.openStreams === 0, 'streams closed');
    expect(t.dest.stats.streamsAccepted).toBe(24);
  });

  it('emits open on OPEN_ACK and passes the request to the dest', async () => {
    const t = twin();
    open.push(t.source, t.dest);
    const s = t.source.openStream({ protocol: 'tcp', port: 8080, target: 'web.internal:80' });
    await once(s, 'open');
    expect(s.accepted).toBe(true);
    expect(t.accepted[0]!.request).toEqual({ protocol: 'tcp', port: 8080, target: 'web.internal:80' });
    expect(t.accepted[0]!.id).toBe(1);
    expect(t.source.openStream({ protocol: 'tcp', port: 1, target: '' }).id).toBe(3);
  });

  it('a stalled reader does not stop another stream: it is held by its credit, not the connection', async () => {
    let stalled: TunnelStream | undefined;
    const t = twin({
      onStream: (s) => {
        if (s.request.port === 1) {
          stalled = s; // never read
        } else {
          s.resume();
        }
      },
    });
    open.push(t.source, t.dest);
    const a = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    const b = t.source.openStream({ protocol: 'tcp', port: 2, target: '' });
    const big = randomBytes(4 * 1024 * 1024);
    a.write(big); // far more than the window
    // The stalled stream stops at exactly its window.
    await until(() => a.sendCredit === 0, 'stalled stream out of credit');
    expect(stalled!.readableLength).toBe(STREAM_WINDOW_INITIAL_BYTES);
    // 8 MiB flow on the other stream while the first one is stalled.
    const other = randomBytes(8 * 1024 * 1024);
    let delivered = 0;
    t.accepted[1]!.on('data', (c: Buffer) => (delivered += c.length));
    await new Promise<void>((r) => b.write(other, () => r()));
    await until(() => delivered === other.length, 'other stream delivered');
    expect(a.sendCredit).toBe(0);
    expect(t.source.connectionCredit).toBeGreaterThan(0);
    // Reading the stalled stream releases its credit again.
    stalled!.resume();
    await until(() => a.writableLength === 0 && a.sendCredit > 0, 'stalled stream resumed');
  });

  it('half-close: the dest can keep sending after the source ended', async () => {
    const t = twin({
      onStream: (s) => {
        s.resume();
        s.on('end', () => {
          s.write('reply-after-fin');
          s.end();
        });
      },
    });
    open.push(t.source, t.dest);
    const s = t.source.openStream({ protocol: 'tcp', port: 9, target: '' });
    const got = collect(s);
    s.end('request');
    const r = await got;
    expect(r.bytes).toBe('reply-after-fin'.length);
    await until(() => t.source.openStreams === 0 && t.dest.openStreams === 0, 'closed both ways');
  });

  it('reset by the application reaches the peer as TUNNEL_STREAM_RESET with CANCEL', async () => {
    const t = twin({ onStream: () => {} });
    open.push(t.source, t.dest);
    const s = t.source.openStream({ protocol: 'tcp', port: 9, target: '' });
    await once(s, 'open');
    const peer = t.accepted[0]!;
    const err = once(peer, 'error');
    s.destroy();
    const [e] = (await err) as [{ code: string; details: { reason: string } }];
    expect(e.code).toBe('TUNNEL_STREAM_RESET');
    expect(e.details.reason).toBe('CANCEL');
    await until(() => t.source.openStreams === 0 && t.dest.openStreams === 0, 'table empty');
  });

  it('refusals: OPEN_ERR codes from authorizeOpen and the stream limit', async () => {
    const t = twin({ dest: { maxStreams: 2, authorizeOpen: (r) => (r.port === 22 ? 1 : 0) } });
    open.push(t.source, t.dest);
    const refused = t.source.openStream({ protocol: 'tcp', port: 22, target: '' });
    const [e1] = (await once(refused, 'error').catch((e: unknown) => [e])) as [{ code: string; details: { reason: string } }];
    expect(e1.code).toBe('TUNNEL_OPEN_FAILED');
    expect(e1.details.reason).toBe('REFUSED');
    const s1 = t.source.openStream({ protocol: 'tcp', port: 80, target: '' });
    const s2 = t.source.openStream({ protocol: 'tcp', port: 80, target: '' });
    const s3 = t.source.openStream({ protocol: 'tcp', port: 80, target: '' });
    const [e3] = (await once(s3, 'error').catch((e: unknown) => [e])) as [{ code: string; details: { reason: string } }];
    expect(e3.details.reason).toBe('LIMIT');
    expect(t.dest.stats.streamsRefused).toBe(2);
    s1.destroy();
    s2.destroy();
    await until(() => t.dest.openStreams === 0, 'limit freed');
    const s4 = t.source.openStream({ protocol: 'tcp', port: 80, target: '' });
    await once(s4, 'open');
  });

  it('10,000 short streams leave 0 open on both sides', async () => {
    const t = twin();
    open.push(t.source, t.dest);
    let ok = 0;
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 500 }, async () => {
          const s = t.source.openStream({ protocol: 'tcp', port: 80, target: '' });
          const got = collect(s);
          s.end('ping');
          if ((await got).bytes === 4) ok++;
        }),
      );
    }
    expect(ok).toBe(10_000);
    await until(() => t.source.openStreams === 0 && t.dest.openStreams === 0, 'all closed');
    expect(t.source.stats.openStreams).toBe(0);
  });

  it('udp streams carry datagrams with their boundaries', async () => {
    const t = twin();
    open.push(t.source, t.dest);
    const s = t.source.openStream({ protocol: 'udp', port: 53, target: '' });
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.write(Buffer.from('one'));
    s.write(Buffer.from('two!'));
    s.write(Buffer.alloc(0));
    await until(() => got.length === 3, 'three datagrams echoed');
    expect(got.map((b) => b.toString())).toEqual(['one', 'two!', '']);
    s.end();
    await until(() => t.source.openStreams === 0, 'udp flow closed');
  });
});
