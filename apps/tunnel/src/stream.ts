/**
 * One multiplexed stream as a Node Duplex (tunnel.md §4, §5): writes become DATA frames
 * within the stream's send credit, received DATA is pushed to the readable side and credit is
 * given back only as the application consumes it. A udp stream (tunnel.md §7) is in object
 * mode: one write = one DATAGRAM, one chunk read = one datagram.
 *
 * ```
 *  send credit (bytes the peer still accepts)        receive window (what we granted)
 *  ├──── sent ────┼─ credit ─┤                        ├─ consumed+granted ─┼─ buffered ─┼─ peer may send ─┤
 *                 ^ DATA stops at 0: the write waits   ^ WINDOW_UPDATE once half the window was consumed
 * ```
 */
import { Duplex } from 'node:stream';
import type { OpenRequest } from './frames.js';

/** What a stream asks of its multiplexer (implemented by mux.ts). */
export interface StreamHost {
  writeData(stream: StreamState, chunk: Buffer, cb: (err?: Error | null) => void): void;
  sendNow(stream: StreamState, chunk: Uint8Array): boolean;
  writeDatagram(stream: StreamState, chunk: Buffer): void;
  finish(stream: StreamState): void;
  consumed(stream: StreamState): void;
  abort(stream: StreamState, err: Error | null): void;
  release(chunk: Uint8Array): void;
}

/**
 * A tunnel stream: a Duplex carrying one TCP connection (or a UDP flow, in object mode).
 * `'open'` is emitted when the peer accepted it (OPEN_ACK); an OPEN_ERR or RESET destroys it
 * with a TunnelError (`TUNNEL_OPEN_FAILED`, `TUNNEL_STREAM_RESET`, details.code).
 *
 * @example
 * const s = mux.openStream({ protocol: 'tcp', port: 5201, target: '' });
 * socket.pipe(s).pipe(socket);
 */
export interface TunnelStream extends Duplex {
  /** Stream id (odd: opened by the source, even: by the dest). */
  readonly id: number;
  /** What the OPEN asked for. */
  readonly request: OpenRequest;
  /** True once OPEN_ACK arrived (or, for an accepted stream, at once). */
  readonly accepted: boolean;
  /** Bytes this side may still send before a WINDOW_UPDATE. */
  readonly sendCredit: number;
  /** Bytes the peer may still send on this stream. */
  readonly receiveCredit: number;
  /** Code of the RESET a destroy() sends (default CANCEL; the dest sets UNREACHABLE or TIMEOUT). */
  resetCode: number;
  /**
   * Hands back a chunk read from this stream for reuse, once nothing reads it any more (e.g. a
   * socket write of it called back). Optional: a chunk never released is left to the GC. Never
   * touch the chunk afterwards; it will carry another stream's bytes.
   */
  release(chunk: Uint8Array): void;
  /**
   * Seals all of `chunk` into DATA frames at once, if nothing is queued ahead of it and credit
   * covers it; the caller may then reuse the chunk. False (nothing sent) otherwise: write() it.
   */
  writeNow(chunk: Uint8Array): boolean;
}

/** Internal state shared with the multiplexer; one shape, every field set here. */
export class StreamState extends Duplex implements TunnelStream {
  readonly id: number;
  readonly request: OpenRequest;
  readonly udp: boolean;
  readonly local: boolean;
  readonly host: StreamHost;
  accepted: boolean;
  /** In the multiplexer's table (not yet closed at protocol level). */
  live = true;
  localFin = false;
  remoteFin = false;
  sendCredit: number;
  receiveCredit: number;
  /** Bytes received and bytes given back as credit (receiveCredit = window - (received - granted)). */
  received = 0;
  granted = 0;
  /** Receive window now (auto-tuning grows it; mux.consumed) and its growth above the configured one. */
  window = 0;
  grown = 0;
  /** When credit was last granted (auto-tuning compares the interval). */
  lastGrantMs = 0;
  /** A write waiting for credit: the chunk, where it resumes, its callback. */
  pendingChunk: Buffer | null = null;
  pendingOffset = 0;
  pendingCb: ((err?: Error | null) => void) | null = null;
  datagramsDropped = 0;
  /** Code of the RESET sent if the application destroys the stream (tunnel.md §8; CANCEL unless set). */
  resetCode = 7;

  constructor(host: StreamHost, id: number, request: OpenRequest, local: boolean, window: number, peerWindow: number, datagramQueue: number) {
    const udp = request.protocol === 'udp';
    super({
      allowHalfOpen: true,
      readableObjectMode: udp,
      writableObjectMode: udp,
      readableHighWaterMark: udp ? datagramQueue : Math.min(64 * 1024, window >>> 2),
      writableHighWaterMark: udp ? datagramQueue : 64 * 1024,
    });
    this.host = host;
    this.id = id;
    this.request = request;
    this.udp = udp;
    this.local = local;
    this.accepted = !local;
    this.sendCredit = peerWindow;
    this.receiveCredit = window;
  }

  release(chunk: Uint8Array): void {
    this.host.release(chunk);
  }

  writeNow(chunk: Uint8Array): boolean {
    // Only when the Writable holds nothing: bytes must leave in write order.
    if (this.udp || this.writableLength > 0 || this.writableEnded || this.destroyed || this.writableCorked > 0) return false;
    return this.host.sendNow(this, chunk);
  }

  override _write(chunk: Buffer | Uint8Array, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.udp) {
      this.host.writeDatagram(this, buf);
      cb();
      return;
    }
    this.host.writeData(this, buf, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.host.finish(this);
    cb();
  }

  override _read(): void {
    this.host.consumed(this);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.host.abort(this, err);
    cb(err);
  }
}
