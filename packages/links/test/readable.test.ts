// Readiness of an fd: on the event loop (uv_poll through the batch_io addon) and through the
// `epoll` package's watcher thread; both level-triggered, both stop on close(). A pending ICMP
// error on a connected UDP socket (POLLERR, which makes libuv stop a poll handle) does not
// leave the socket deaf.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createBatchUdpSocket, type BatchUdpSocket } from '../src/index.js';
import { watchReadable } from '../src/readable.js';
import { loadBatchIo } from '../src/batch-native.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const undo of cleanup.splice(0).reverse()) undo();
});

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function sender(): Socket {
  const s = createSocket('udp4');
  cleanup.push(() => s.close());
  return s;
}

describe.each(['loop', 'epoll'] as const)('watchReadable via %s', (via) => {
  it('calls back while the fd is readable (level-triggered) and never after close()', async () => {
    const native = loadBatchIo();
    const [fd, port] = native.udpOpen(4, '127.0.0.1', 0, 0, 0, 0);
    cleanup.push(() => native.close(fd));
    const slots = Buffer.alloc(2048 * 4);
    const lengths = new Uint32Array(4);
    const received: string[] = [];
    let calls = 0;
    let readOne = true;
    const watch = watchReadable(
      fd,
      () => {
        calls++;
        // read one datagram per call: the rest must wake us again
        if (readOne && native.recvBatch(fd, slots, 2048, 1, lengths, null) === 1) received.push(slots.subarray(0, lengths[0]!).toString());
      },
      via,
    );
    cleanup.push(() => watch.close());
    expect(watch.via).toBe(via);
    const s = sender();
    for (const text of ['one', 'two', 'three']) s.send(text, port, '127.0.0.1');
    await until(() => received.length === 3, 'three datagrams');
    expect(received).toEqual(['one', 'two', 'three']);
    watch.close();
    watch.close();
    readOne = false;
    const before = calls;
    s.send('after', port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(before);
  });
});

describe('batch socket readiness on the event loop', () => {
  it('keeps receiving after an ICMP port-unreachable error on a connected socket', async () => {
    const probe = sender();
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = probe.address().port;
    probe.close();
    cleanup.pop();
    // connected to a port nobody listens on: our send draws ICMP port unreachable (POLLERR)
    const sock: BatchUdpSocket = createBatchUdpSocket({ localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port } });
    cleanup.push(() => sock.close());
    const got: string[] = [];
    sock.onBatch((slots, lengths, count) => {
      for (let i = 0; i < count; i++) got.push(slots.subarray(i * sock.slotBytes, i * sock.slotBytes + lengths[i]!).toString());
    });
    const x = Buffer.from('x');
    sock.sendBatch(x, Uint32Array.of(0), Uint32Array.of(1), 1);
    await until(() => sock.stats.receiveErrors > 0, 'the ICMP error');
    expect(sock.stats.lastErrorCode).toBe('ECONNREFUSED');
    // now the peer appears on that port and sends to us: we still hear it
    const peer = createSocket('udp4');
    cleanup.push(() => peer.close());
    await new Promise<void>((r) => peer.bind(port, '127.0.0.1', r));
    peer.send('hello', sock.localPort, '127.0.0.1');
    await until(() => got.includes('hello'), 'the datagram after the error');
  });
});
