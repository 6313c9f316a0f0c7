import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTION_WINDOW_INITIAL_BYTES, STREAM_WINDOW_INITIAL_BYTES } from '../src/constants.js';
import type { Mux } from '../src/mux.js';
import type { TunnelStream } from '../src/stream.js';
import { collect, sha256, twin, until } from './helpers.js';

const open: Mux[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.destroy();
});

describe('receive windows above the initial one (granted by WINDOW_UPDATE, tunnel.md §5)', () => {
  it('a bigger receive window is granted after OPEN_ACK: a stalled reader holds exactly it, the peer needs no setting', async () => {
    const window = 1024 * 1024;
    let stalled: TunnelStream | undefined;
    const t = twin({
      dest: { receiveWindowBytes: window, receiveConnectionWindowBytes: 4 * CONNECTION_WINDOW_INITIAL_BYTES },
      onStream: (s) => {
        if (s.request.port === 1) stalled = s;
        else s.pipe(s);
      },
    });
    open.push(t.source, t.dest);
    const a = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    a.write(randomBytes(8 * 1024 * 1024));
    await until(() => a.sendCredit === 0 && stalled !== undefined && stalled.readableLength === window, 'stalled stream at its window');
    expect(stalled!.readableLength).toBe(window);
    // The source (default settings) still gets exact bytes back on another stream.
    const b = t.source.openStream({ protocol: 'tcp', port: 2, target: '' });
    const data = randomBytes(6 * 1024 * 1024);
    const got = collect(b);
    b.end(data);
    expect((await got).sha256).toBe(sha256(data));
    stalled!.resume();
    await until(() => a.writableLength === 0, 'stalled stream drained');
  });

  it('both sides with bigger windows: parallel transfers intact, credit never beyond the window', async () => {
    const init = { receiveWindowBytes: 2 * 1024 * 1024, receiveConnectionWindowBytes: 8 * 1024 * 1024 };
    const t = twin({ source: init, dest: init });
    open.push(t.source, t.dest);
    const jobs = Array.from({ length: 4 }, async () => {
      const s = t.source.openStream({ protocol: 'tcp', port: 9, target: '' });
      expect(s.receiveCredit).toBe(init.receiveWindowBytes);
      const data = randomBytes(5 * 1024 * 1024);
      const got = collect(s);
      s.end(data);
      expect((await got).sha256).toBe(sha256(data));
    });
    await Promise.all(jobs);
  });

  it('refuses a receive window below the initial one', () => {
    expect(() => twin({ source: { receiveWindowBytes: STREAM_WINDOW_INITIAL_BYTES - 1 } })).toThrow(/receiveWindowBytes/);
  });
});

describe('receive-window auto-tuning (a receiver policy: no wire change)', () => {
  it('a reader that keeps up has its window doubled up to the max; a stalled reader never grows past its window', async () => {
    const window = STREAM_WINDOW_INITIAL_BYTES;
    const max = 4 * 1024 * 1024;
    let stalled: TunnelStream | undefined;
    let fast: TunnelStream | undefined;
    const t = twin({
      dest: { receiveWindowBytes: window, maxReceiveWindowBytes: max, receiveConnectionWindowBytes: 16 * 1024 * 1024 },
      onStream: (s) => {
        if (s.request.port === 1) stalled = s;
        else fast = s;
      },
    });
    open.push(t.source, t.dest);
    // the fast stream: its reader takes everything at once, so the window limits it and grows
    const b = t.source.openStream({ protocol: 'tcp', port: 2, target: '' });
    const data = randomBytes(24 * 1024 * 1024);
    b.end(data);
    await until(() => fast !== undefined, 'fast stream accepted');
    const got = await collect(fast!);
    expect(got.sha256).toBe(sha256(data));
    expect(t.dest.stats.windowGrowths).toBeGreaterThan(0);
    // credit granted to the sender never exceeded the grown window
    expect(b.sendCredit).toBeLessThanOrEqual(max);
    const growths = t.dest.stats.windowGrowths;
    // the stalled stream holds exactly its configured window, never more
    const a = t.source.openStream({ protocol: 'tcp', port: 1, target: '' });
    a.write(randomBytes(8 * 1024 * 1024));
    await until(() => a.sendCredit === 0 && stalled !== undefined && stalled.readableLength === window, 'stalled stream at its window');
    await new Promise((r) => setTimeout(r, 100));
    expect(stalled!.readableLength).toBe(window);
    expect(t.dest.stats.windowGrowths).toBe(growths);
    stalled!.resume();
    await until(() => a.writableLength === 0, 'stalled stream drained');
  });

  it('without maxReceiveWindowBytes nothing grows; a max below the window is refused', async () => {
    const t = twin({ dest: { receiveWindowBytes: STREAM_WINDOW_INITIAL_BYTES }, onStream: (s) => s.resume() });
    open.push(t.source, t.dest);
    const s = t.source.openStream({ protocol: 'tcp', port: 3, target: '' });
    s.end(randomBytes(8 * 1024 * 1024));
    await until(() => t.dest.stats.bytesReceived >= 8 * 1024 * 1024, 'all bytes received');
    expect(t.dest.stats.windowGrowths).toBe(0);
    expect(() => twin({ source: { receiveWindowBytes: 1024 * 1024, maxReceiveWindowBytes: 512 * 1024 } })).toThrow(/maxReceiveWindowBytes/);
  });
});
