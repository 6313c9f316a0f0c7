// Batched UDP on loopback (no root needed): batches round-trip byte for byte with exact source
// addresses over IPv4 and IPv6, sendmmsg partial batches (start/count) and per-entry buffers,
// refused datagrams skipped and counted, EAGAIN returning 0/partial without throwing (recvmmsg on
// an empty socket, writes into a full non-blocking FIFO), and argument checks.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADDR_SLOT_BYTES,
  batchIoAvailable,
  createBatchUdpSocket,
  isLinksError,
  loadBatchIo,
  packAddress,
  unpackAddress,
  type BatchUdpSocket,
} from '../src/index.js';

const open: BatchUdpSocket[] = [];
const socket = (init: Parameters<typeof createBatchUdpSocket>[0]): BatchUdpSocket => {
  const s = createBatchUdpSocket(init);
  open.push(s);
  return s;
};
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** `count` datagrams of 1..1400 bytes with distinct contents packed in one buffer. */
function makeBatch(count: number, seed: number): { data: Buffer; offsets: Uint32Array; lengths: Uint32Array; payloads: Buffer[] } {
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count);
  const payloads: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const length = 1 + ((i * 137 + seed) % 1400);
    offsets[i] = total;
    lengths[i] = length;
    total += length;
  }
  const data = Buffer.alloc(total);
  for (let i = 0; i < count; i++) {
    const p = data.subarray(offsets[i]!, offsets[i]! + lengths[i]!);
    for (let j = 0; j < p.length; j++) p[j] = (i * 31 + j * 7 + seed) & 0xff;
    payloads.push(Buffer.from(p));
  }
  return { data, offsets, lengths, payloads };
}

/** Collects received datagrams (copied) with their sources until `n` arrived. */
function collect(s: BatchUdpSocket, n: number): Promise<{ payload: Buffer; from: string }[]> {
  const got: { payload: Buffer; from: string }[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`received ${got.length} of ${n}`)), 5000);
    s.onBatch((slots, lengths, count, sources) => {
      for (let i = 0; i < count; i++) {
        const at = i * s.slotBytes;
        const source = unpackAddress(sources, i);
        got.push({ payload: Buffer.from(slots.subarray(at, at + lengths[i]!)), from: `${source.address}:${source.port}` });
      }
      if (got.length >= n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

describe('batch_io addon', () => {
  it('is built and loads', () => {
    expect(batchIoAvailable()).toBe(true);
    expect(Object.keys(loadBatchIo()).sort()).toEqual(['BATCH_MAX', 'close', 'pathMtu', 'readBatch', 'recvBatch', 'sendBatch', 'udpConnect', 'udpOpen', 'unwatch', 'watch', 'writeBatch']);
  });
});

describe('createBatchUdpSocket on loopback', () => {
  it('round-trips a 64-datagram IPv4 batch byte for byte with the exact source address', async () => {
    const receiver = socket({ localAddress: '127.0.0.1', batchSize: 16 });
    const sender = socket({ localAddress: '127.0.0.1' });
    const { data, offsets, lengths, payloads } = makeBatch(64, 3);
    const addrs = new Uint8Array(64 * ADDR_SLOT_BYTES);
    for (let i = 0; i < 64; i++) packAddress(addrs, i, '127.0.0.1', receiver.localPort);
    const received = collect(receiver, 64);
    expect(sender.sendBatch(data, offsets, lengths, 64, addrs)).toBe(64);
    const got = await received;
    expect(got.map((g) => g.payload)).toEqual(payloads);
    expect(new Set(got.map((g) => g.from))).toEqual(new Set([`127.0.0.1:${sender.localPort}`]));
    expect(sender.stats).toMatchObject({ txPackets: 64, txBytes: data.length, txDropped: 0, sendErrors: 0, sendCalls: 1 });
    expect(receiver.stats).toMatchObject({ rxPackets: 64, rxBytes: data.length, rxTruncated: 0 });
    // batchSize 16: at least 4 recvmmsg batches, each at most 16
    expect(receiver.stats.receiveBatches).toBeGreaterThanOrEqual(4);
  });

  it('round-trips over IPv6 on a connected socket, from per-entry buffers', async () => {
    const receiver = socket({ family: 6, localAddress: '::1' });
    const sender = socket({ localAddress: '::1', remote: { address: '::1', port: receiver.localPort }, dontFragment: true });
    expect(sender.family).toBe(6);
    expect(sender.remote).toEqual({ address: '::1', port: receiver.localPort });
    const buffers = [Buffer.from('xxfirst'), Buffer.from('second'), Buffer.alloc(1200, 0x77)];
    const received = collect(receiver, 3);
    const sent = sender.sendBatch(buffers, Uint32Array.of(2, 0, 0), Uint32Array.of(5, 6, 1200), 3);
    expect(sent).toBe(3);
    const got = await received;
    expect(got.map((g) => g.payload)).toEqual([Buffer.from('first'), Buffer.from('second'), Buffer.alloc(1200, 0x77)]);
    expect(got[0]!.from).toBe(`::1:${sender.localPort}`);
    expect(sender.pathMtu()).toBeGreaterThan(1280);
  });

  it('sends only entries start..start+count-1 (a partial batch)', async () => {
    const receiver = socket({ localAddress: '127.0.0.1' });
    const sender = socket({ localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: receiver.localPort } });
    const { data, offsets, lengths, payloads } = makeBatch(10, 9);
    const received = collect(receiver, 4);
    expect(sender.sendBatch(data, offsets, lengths, 4, null, 3)).toBe(4);
    expect((await received).map((g) => g.payload)).toEqual(payloads.slice(3, 7));
    expect(sender.stats.txPackets).toBe(4);
  });

  it('skips and counts a datagram the kernel refuses, and sends the rest of the batch', async () => {
    const receiver = socket({ localAddress: '127.0.0.1' });
    const sender = socket({ localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: receiver.localPort } });
    // entry 1 is over the 65507-byte UDP/IPv4 maximum: EMSGSIZE
    const big = Buffer.alloc(70_000, 1);
    const received = collect(receiver, 2);
    expect(sender.sendBatch(big, Uint32Array.of(0, 0, 0), Uint32Array.of(10, 70_000, 20), 3)).toBe(3);
    expect((await received).map((g) => g.payload.length)).toEqual([10, 20]);
    expect(sender.stats).toMatchObject({ txPackets: 2, txBytes: 30, sendErrors: 1, lastErrorCode: 'EMSGSIZE' });
  });

  it('counts the ICMP port-unreachable error on receive and keeps going', async () => {
    const gone = socket({ localAddress: '127.0.0.1' });
    const port = gone.localPort;
    gone.close();
    const sender = socket({ localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port } });
    sender.onBatch(() => undefined);
    sender.sendBatch(Buffer.alloc(8), Uint32Array.of(0), Uint32Array.of(8), 1);
    await waitFor(() => sender.stats.receiveErrors > 0 || sender.stats.sendErrors > 0, 2000);
    expect(sender.stats.lastErrorCode).toBe('ECONNREFUSED');
  });

  it('truncates datagrams longer than slotBytes and counts them', async () => {
    const receiver = socket({ localAddress: '127.0.0.1', slotBytes: 100, batchSize: 4 });
    const sender = socket({ localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: receiver.localPort } });
    const received = new Promise<number[]>((resolve) => receiver.onBatch((slots, lengths, count) => resolve([...lengths.subarray(0, count)])));
    sender.sendBatch(Buffer.alloc(300, 2), Uint32Array.of(0, 0), Uint32Array.of(300, 50), 2);
    await waitFor(() => receiver.stats.rxPackets >= 2, 2000);
    expect((await received).slice(0, 1)).toEqual([300]); // real length reported: > slotBytes means cut
    expect(receiver.stats).toMatchObject({ rxTruncated: 1, rxBytes: 150 });
  });

  it('returns 0 from recvBatch on an empty socket (EAGAIN) without throwing', () => {
    const s = socket({ localAddress: '127.0.0.1' });
    const native = loadBatchIo();
    const lengths = new Uint32Array(4);
    expect(native.recvBatch(s.fd, Buffer.alloc(4 * 2048), 2048, 4, lengths, null)).toBe(0);
    expect(native.recvBatch(s.fd, Buffer.alloc(4 * 2048), 2048, 4, lengths, new Uint8Array(4 * ADDR_SLOT_BYTES))).toBe(0);
  });

  it('drops sends after close and closes twice safely', () => {
    const s = socket({ localAddress: '127.0.0.1' });
    s.close();
    s.close();
    expect(s.closed).toBe(true);
    expect(s.sendBatch(Buffer.alloc(4), Uint32Array.of(0), Uint32Array.of(4), 1)).toBe(0);
    expect(s.stats.txDropped).toBe(1);
    expect(() => s.onBatch(() => undefined)).toThrow(/closed/);
    expect(() => s.pathMtu()).toThrow(/closed/);
  });

  it('refuses bad options and uncovered batches with LINKS_INVALID_ARGUMENT', () => {
    const bad = (init: Parameters<typeof createBatchUdpSocket>[0]): unknown => {
      try {
        createBatchUdpSocket(init);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const init of [
      { localAddress: 'nope' },
      { family: 6 as const, localAddress: '127.0.0.1' },
      { localAddress: '127.0.0.1', batchSize: 0 },
      { localAddress: '127.0.0.1', slotBytes: 70_000 },
      { localAddress: '127.0.0.1', localPort: -1 },
      { localAddress: '127.0.0.1', remote: { address: '::1', port: 1 } },
      { localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: 0 } },
    ]) {
      expect(isLinksError(bad(init), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    }
    const s = socket({ localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: 9 } });
    const error = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(isLinksError(error(() => s.sendBatch(Buffer.alloc(4), Uint32Array.of(0), Uint32Array.of(4), 2)), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect(isLinksError(error(() => s.sendBatch(Buffer.alloc(4), Uint32Array.of(0), Uint32Array.of(4), 2000)), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect(isLinksError(error(() => s.sendBatch(Buffer.alloc(4), Uint32Array.of(0), Uint32Array.of(4), 1, new Uint8Array(4))), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    // offset + length outside the buffer: a caller's bug, refused before any syscall
    expect(isLinksError(error(() => s.sendBatch(Buffer.alloc(4), Uint32Array.of(2), Uint32Array.of(4), 1)), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect(s.stats.txPackets).toBe(0);
  });

  it('reports LINKS_SOCKET when the address is not local or the port is taken', () => {
    const s = socket({ localAddress: '127.0.0.1' });
    const error = (init: Parameters<typeof createBatchUdpSocket>[0]): unknown => {
      try {
        open.push(createBatchUdpSocket(init));
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const taken = error({ localAddress: '127.0.0.1', localPort: s.localPort });
    expect(isLinksError(taken, 'LINKS_SOCKET')).toBe(true);
    expect((taken as Error).message).toContain('EADDRINUSE');
    expect((error({ localAddress: '192.0.2.123' }) as Error).message).toContain('EADDRNOTAVAIL');
    const unconnected = socket({ localAddress: '127.0.0.1' });
    expect(isLinksError(catchError(() => unconnected.pathMtu()), 'LINKS_SOCKET')).toBe(true);
  });
});

describe('address slots', () => {
  it.each([
    ['127.0.0.1', 1],
    ['10.1.2.3', 65535],
    ['::1', 51820],
    ['::', 0],
    ['fd00:1:2::3', 80],
    ['2001:db8::', 443],
    ['1:2:3:4:5:6:7:8', 9],
    ['::ffff:192.0.2.1', 7],
  ])('packs and unpacks %s port %d', (address, port) => {
    const slots = new Uint8Array(3 * ADDR_SLOT_BYTES);
    packAddress(slots, 2, address, port);
    expect(unpackAddress(slots, 2)).toMatchObject({ address: address === '::ffff:192.0.2.1' ? '::ffff:c000:201' : address, port });
  });

  it('refuses bad addresses, ports, slots and empty slots', () => {
    const slots = new Uint8Array(ADDR_SLOT_BYTES);
    expect(isLinksError(catchError(() => packAddress(slots, 0, 'x', 1)), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect(isLinksError(catchError(() => packAddress(slots, 0, '::1', 70000)), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect(isLinksError(catchError(() => packAddress(slots, 1, '::1', 1)), 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect(isLinksError(catchError(() => unpackAddress(slots, 0)), 'LINKS_INVALID_ARGUMENT')).toBe(true);
  });
});

describe('native writeBatch/readBatch on a non-blocking FIFO', () => {
  it('stops at EAGAIN with a partial count, never throws, and reads back exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebx-fifo-'));
    const path = join(dir, 'f');
    execFileSync('mkfifo', [path]);
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      const native = loadBatchIo();
      const lengths = new Uint32Array(64);
      expect(native.readBatch(reader, Buffer.alloc(64 * 4096), 4096, 64, lengths)).toBe(0); // empty: EAGAIN
      // 64 x 4096 = 256 KiB into a 64 KiB pipe: partial
      const data = Buffer.alloc(4096 * 64);
      for (let i = 0; i < 64; i++) data.fill(i, i * 4096, (i + 1) * 4096);
      const offsets = Uint32Array.from({ length: 64 }, (_, i) => i * 4096);
      const sizes = new Uint32Array(64).fill(4096);
      const written = native.writeBatch(writer, data, offsets, sizes, 0, 64);
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(64);
      expect(native.writeBatch(writer, data, offsets, sizes, written, 64 - written)).toBe(0); // still full
      const slots = Buffer.alloc(64 * 4096);
      const read = native.readBatch(reader, slots, 4096, 64, lengths);
      expect(read).toBe(written); // a pipe keeps the 4096-byte writes whole here
      for (let i = 0; i < read; i++) expect(slots.subarray(i * 4096, (i + 1) * 4096).every((b) => b === i)).toBe(true);
    } finally {
      closeSync(writer);
      closeSync(reader);
      rmSync(dir, { recursive: true });
    }
  });

  it('throws the errno as code with the failing index', () => {
    const native = loadBatchIo();
    const failure = catchError(() => native.writeBatch(987_654, Buffer.alloc(4), Uint32Array.of(0, 0), Uint32Array.of(4, 4), 1, 1)) as NodeJS.ErrnoException & { index: number };
    expect(failure).toMatchObject({ code: 'EBADF', syscall: 'write', index: 1 });
    expect(catchError(() => native.readBatch(987_654, Buffer.alloc(4), 4, 1, new Uint32Array(1)))).toMatchObject({ code: 'EBADF' });
    expect(catchError(() => native.close(987_654))).toMatchObject({ code: 'EBADF' });
    expect(catchError(() => native.sendBatch(987_654, Buffer.alloc(4), Uint32Array.of(0), new Uint32Array(1), 0, 1, null))).toMatchObject({ code: 'EBADF', syscall: 'sendmmsg', index: 0 });
    expect(catchError(() => native.udpOpen(4, 'x', 0, 0, 0, 0))).toBeInstanceOf(TypeError);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
