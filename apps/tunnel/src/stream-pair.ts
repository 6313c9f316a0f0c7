/**
 * In-memory twin of a TCP connection: two Duplex ends where what one writes the other reads,
 * with back-pressure both ways (a write callback waits until the peer's readable buffer has
 * room), so a multiplexer can be tested without sockets.
 */
import { Duplex } from 'node:stream';

/** Options of `streamPair`. */
export interface StreamPairInit {
  /** Bytes each end buffers before `write()` returns false (default 64 KiB). */
  highWaterMark?: number;
}

function deliver(peer: PairEnd, chunk: Buffer, cb: (err?: Error | null) => void): void {
  if (peer.destroyed) cb(new Error('stream pair: peer destroyed'));
  else if (peer.push(chunk)) cb();
  else peer.waiting = cb;
}

class PairEnd extends Duplex {
  peer: PairEnd | null = null;
  /** The peer's write callback waiting for room in this end's readable buffer. */
  waiting: ((err?: Error | null) => void) | null = null;

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const peer = this.peer!;
    if (peer.destroyed) {
      cb(new Error('stream pair: peer destroyed'));
      return;
    }
    // Delivered on a later tick, as a socket would: never re-enter the peer's 'data' handler
    // from inside this write.
    process.nextTick(deliver, peer, chunk, cb);
  }

  override _read(): void {
    const cb = this.waiting;
    if (cb !== null) {
      this.waiting = null;
      cb();
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.peer!.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const peer = this.peer!;
    const w = this.waiting;
    this.waiting = null;
    if (w !== null) w(new Error('stream pair: destroyed'));
    if (!peer.destroyed) peer.destroy();
    cb(err);
  }
}

/**
 * Two connected in-memory Duplex ends.
 *
 * @example
 * const [a, b] = streamPair();
 * b.on('data', (c) => console.log(c.toString())); a.write('hi');
 */
export function streamPair(init: StreamPairInit = {}): [Duplex, Duplex] {
  const hwm = init.highWaterMark ?? 64 * 1024;
  const a = new PairEnd({ highWaterMark: hwm });
  const b = new PairEnd({ highWaterMark: hwm });
  a.peer = b;
  b.peer = a;
  return [a, b];
}
