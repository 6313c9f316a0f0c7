/**
 * The multiplexer (docs/protocols/tunnel.md §4-§9): many streams over one byte transport
 * (a net.Socket, or `streamPair()` in tests) whose frames are sealed by seal.ts.
 *
 * Receive: transport 'data' → 1. stream decoder (framing, zero copy) → 2. open (AEAD, header
 * as AAD, implicit counter) → 3. dispatch by type → stream push / credit / control reply.
 * Send: stream write → 1. credit check (stream, connection, transport back-pressure) →
 * 2. seal one DATA frame per credit slice → 3. transport.write; a write that runs out of
 * credit parks (one per stream) and `pump()` resumes parked streams round-robin on
 * WINDOW_UPDATE or 'drain'.
 *
 * Invariants: a stream whose peer stops reading holds at most its window of bytes at the
 * receiver and never connection credit (returned on arrival, §5); every table and queue has
 * a cap; any wire error closes the connection (GOAWAY PROTOCOL first, when possible).
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createStreamDecoder, frameHeaderView, FRAME_HEADER_BYTES, type StreamDecoder, type StreamFrame } from '@edgebox/framing';
import {
  CONNECTION_WINDOW_INITIAL_BYTES,
  CONNECTION_WINDOW_MAX_BYTES,
  DEFAULT_DATAGRAM_QUEUE,
  DEFAULT_MAX_STREAMS,
  FLAG_REKEY_ACK,
  FRAME_DATA,
  FRAME_DATAGRAM,
  FRAME_FIN,
  FRAME_GOAWAY,
  FRAME_OPEN,
  FRAME_OPEN_ACK,
  FRAME_OPEN_ERR,
  FRAME_PING,
  FRAME_PONG,
  FRAME_REKEY,
  FRAME_RESET,
  FRAME_WINDOW_UPDATE,
  MAX_DATA_BYTES,
  MAX_SEALED_PAYLOAD_BYTES,
  MAX_STREAM_ID,
  PING_BYTES,
  PLAIN_POOL_MAX_FREE,
  SEALED_POOL_MAX_FREE,
  STREAM_WINDOW_INITIAL_BYTES,
  STREAM_WINDOW_MAX_BYTES,
  TAG_BYTES,
  WINDOW_GROW_WITHIN_MS,
  WINDOW_GROWTH_BUDGET_BYTES,
  TUNNEL_CODES,
  TUNNEL_FRAME_TYPES,
  codeName,
} from './constants.js';
import { TunnelError, isTunnelError } from './errors.js';
import {
  checkChannel,
  checkDataBody,
  checkEmptyBody,
  checkPingBody,
  decodeCode,
  decodeGoAway,
  decodeOpen,
  decodeRekey,
  decodeWindowUpdate,
  encodeCode,
  encodeGoAway,
  encodeOpen,
  encodeRekey,
  encodeWindowUpdate,
  openBodyLength,
  type OpenRequest,
} from './frames.js';
import { isBorrowed, readBorrowed } from './borrowed-read.js';
import { BufferPool } from './buffer-pool.js';
import { createFrameSealer, type FrameSealer, type RekeyLimits, type SessionKeys } from './seal.js';
import { StreamState, type StreamHost, type TunnelStream } from './stream.js';

/** Options of `createMux`. */
export interface MuxInit extends RekeyLimits {
  /** `source` opens odd stream ids, `dest` even ones (tunnel.md §4). */
  role: 'source' | 'dest';
  /** Streams the peer may have open at once (default 1024); more get OPEN_ERR LIMIT. */
  maxStreams?: number;
  /** Initial per-stream window, both directions (default 256 KiB; both sides must agree). */
  streamWindowBytes?: number;
  /** Initial connection window (default 1 MiB; both sides must agree). */
  connectionWindowBytes?: number;
  /**
   * Receive window per stream this side grants (default: the initial window). Above the
   * initial window the difference goes out as a WINDOW_UPDATE right after OPEN / OPEN_ACK
   * (tunnel.md §5: credit beyond the initial window is granted, never assumed), so the peer
   * needs no matching setting. A stalled reader holds at most this much. Max 16 MiB.
   */
  receiveWindowBytes?: number;
  /** Receive window of the connection (default: the initial one), granted the same way at start. */
  receiveConnectionWindowBytes?: number;
  /**
   * Receive-window auto-tuning: a stream whose reader takes half its window within two round
   * trips (PING RTT; WINDOW_GROW_WITHIN_MS before the first sample) of the previous grant (the
   * window, not the reader, limits it) has its window doubled, up to this (default
   * receiveWindowBytes: no growth; max 16 MiB). A stalled or slow reader never grows, so it
   * still holds at most receiveWindowBytes.
   */
  maxReceiveWindowBytes?: number;
  /** Total growth above receiveWindowBytes across all streams of the connection (default 64 MiB). */
  windowGrowthBudgetBytes?: number;
  /** Datagrams queued per udp stream before dropping (default 256). */
  datagramQueue?: number;
  /** Outstanding pings (default 16). */
  maxPendingPings?: number;
  /**
   * Decides an incoming OPEN: 0 accepts, any other TUNNEL_CODES value refuses with OPEN_ERR.
   * Without `onStream` every OPEN is refused (REFUSED).
   */
  authorizeOpen?: (request: OpenRequest, id: number) => number;
  /** An accepted incoming stream. */
  onStream?: (stream: TunnelStream) => void;
  /** The connection closed (error undefined when graceful). */
  onClose?: (err: Error | undefined) => void;
}

/** Components of `createMux`. */
export interface MuxComponents {
  /** The byte transport, handshake already done. */
  transport: Duplex;
  /** Keys from the handshake. */
  keys: SessionKeys;
  /** Bytes read past the handshake's last message, processed first. */
  leftover?: Uint8Array;
}

/** Counters, plain numbers read at scrape time. */
export interface MuxStats {
  openStreams: number;
  streamsOpened: number;
  streamsAccepted: number;
  streamsRefused: number;
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  datagramsDropped: number;
  rekeys: number;
  lastRttMs: number;
  /** Stream receive windows doubled by auto-tuning. */
  windowGrowths: number;
}

/** A multiplexed, sealed connection. */
export interface Mux {
  readonly role: 'source' | 'dest';
  readonly stats: MuxStats;
  /** Streams in the table (open in at least one direction). */
  readonly openStreams: number;
  /** Send credit of the connection (bytes). */
  readonly connectionCredit: number;
  /** True after GOAWAY was sent or received. */
  readonly draining: boolean;
  readonly closed: boolean;
  /** Resolves when the connection closed, with the error if any (never rejects). */
  readonly done: Promise<Error | undefined>;
  /** Opens a stream; DATA may be written at once (tunnel.md §4). TUNNEL_LIMIT when draining or closed. */
  openStream(request: OpenRequest): TunnelStream;
  /** Round-trip time of one PING in ms. */
  ping(options?: { signal?: AbortSignal }): Promise<number>;
  /** Starts an in-band key update (tunnel.md §6); false if one is already pending. */
  rekey(): boolean;
  /** Sends GOAWAY, refuses new streams, closes when the last stream is done. */
  goAway(code?: number): void;
  /** Closes now: resets every stream, destroys the transport and the keys. */
  destroy(err?: Error): void;
}

interface PendingPing {
  start: number;
  resolve: (rtt: number) => void;
  reject: (err: Error) => void;
  done: () => void;
}

const NO_BODY = Buffer.alloc(0);
const EMPTY_CHUNK = Buffer.alloc(0);
/** How long a failing connection waits for its GOAWAY to leave before destroying the transport. */
const FLUSH_TIMEOUT_MS = 2000;

function onFrame(frame: StreamFrame, mux: Multiplexer): void {
  mux.receive(frame);
}

class Multiplexer implements Mux, StreamHost {
  readonly role: 'source' | 'dest';
  readonly stats: MuxStats = {
    openStreams: 0,
    streamsOpened: 0,
    streamsAccepted: 0,
    streamsRefused: 0,
    framesSent: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    datagramsDropped: 0,
    rekeys: 0,
    lastRttMs: 0,
    windowGrowths: 0,
  };
  readonly done: Promise<Error | undefined>;
  private resolveDone!: (err: Error | undefined) => void;
  private readonly transport: Duplex;
  private readonly sealer: FrameSealer;
  private readonly decoder: StreamDecoder;
  private readonly streams = new Map<number, StreamState>();
  /** Streams with a parked write waiting for connection credit or 'drain', in arrival order. */
  private readonly parked = new Set<StreamState>();
  private readonly pings = new Map<number, PendingPing>();
  private readonly scratch = Buffer.alloc(8);
  /** Opened DATA payloads; splice() gives each back once the local socket has written it. */
  private readonly plainPool = new BufferPool(MAX_DATA_BYTES, PLAIN_POOL_MAX_FREE);
  /**
   * Sealed DATA frames, back from the transport's write callback, oldest first. Null when the
   * transport is not a socket: an in-memory pair hands the very buffer to its peer, so a write
   * callback there does not mean the bytes were copied.
   */
  private readonly sealedPool: BufferPool | null;
  private readonly sealedInFlight: Buffer[] = [];
  private readonly maxStreams: number;
  private readonly streamWindow: number;
  private readonly connectionWindow: number;
  private readonly receiveWindow: number;
  private readonly receiveConnectionWindow: number;
  private readonly maxReceiveWindow: number;
  private readonly growthBudget: number;
  /** Bytes of receive window above receiveWindow across live streams (auto-tuning). */
  private grown = 0;
  private readonly datagramQueue: number;
  private readonly maxPendingPings: number;
  private readonly authorizeOpen: ((request: OpenRequest, id: number) => number) | undefined;
  private readonly onStream: ((stream: TunnelStream) => void) | undefined;
  private readonly onClose: ((err: Error | undefined) => void) | undefined;
  private nextId: number;
  private lastPeerId = 0;
  private lastPeerIdAccepted = 0;
  private peerOpen = 0;
  connectionCredit: number;
  private connectionReceiveCredit: number;
  private connectionUngranted = 0;
  private transportBlocked = false;
  private rekeyPending = false;
  private goAwaySent = false;
  private goAwayReceived = false;
  private peerLastStreamId = MAX_STREAM_ID;
  private pingSeq = 0;
  private decoding = false;
  private leftover: Buffer | null = null;
  private readonly backlog: Buffer[] = [];
  closed = false;

  constructor(components: MuxComponents, init: MuxInit) {
    this.role = init.role;
    this.transport = components.transport;
    this.maxStreams = init.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.streamWindow = init.streamWindowBytes ?? STREAM_WINDOW_INITIAL_BYTES;
    this.connectionWindow = init.connectionWindowBytes ?? CONNECTION_WINDOW_INITIAL_BYTES;
    this.receiveWindow = init.receiveWindowBytes ?? this.streamWindow;
    this.receiveConnectionWindow = init.receiveConnectionWindowBytes ?? this.connectionWindow;
    this.maxReceiveWindow = init.maxReceiveWindowBytes ?? this.receiveWindow;
    this.growthBudget = init.windowGrowthBudgetBytes ?? WINDOW_GROWTH_BUDGET_BYTES;
    this.datagramQueue = init.datagramQueue ?? DEFAULT_DATAGRAM_QUEUE;
    this.maxPendingPings = init.maxPendingPings ?? 16;
    for (const [k, v, min, max] of [
      ['maxStreams', this.maxStreams, 1, 1 << 20],
      ['streamWindowBytes', this.streamWindow, 1024, STREAM_WINDOW_MAX_BYTES],
      ['connectionWindowBytes', this.connectionWindow, MAX_DATA_BYTES, CONNECTION_WINDOW_MAX_BYTES],
      ['receiveWindowBytes', this.receiveWindow, this.streamWindow, STREAM_WINDOW_MAX_BYTES],
      ['receiveConnectionWindowBytes', this.receiveConnectionWindow, this.connectionWindow, CONNECTION_WINDOW_MAX_BYTES],
      ['maxReceiveWindowBytes', this.maxReceiveWindow, this.receiveWindow, STREAM_WINDOW_MAX_BYTES],
      ['windowGrowthBudgetBytes', this.growthBudget, 0, 1 << 30],
      ['datagramQueue', this.datagramQueue, 1, 65536],
      ['maxPendingPings', this.maxPendingPings, 1, 1024],
    ] as const) {
      if (!Number.isInteger(v) || v < min || v > max) throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `${k} ${v} is not an integer in ${min}..${max}`);
    }
    if (init.role !== 'source' && init.role !== 'dest') throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `role ${String(init.role)} is not source or dest`);
    this.authorizeOpen = init.authorizeOpen;
    this.onStream = init.onStream;
    this.onClose = init.onClose;
    this.nextId = init.role === 'source' ? 1 : 2;
    this.connectionCredit = this.connectionWindow;
    this.connectionReceiveCredit = this.connectionWindow;
    this.sealer = createFrameSealer(components.keys, init);
    this.decoder = createStreamDecoder({ maxPayload: MAX_SEALED_PAYLOAD_BYTES, knownTypes: TUNNEL_FRAME_TYPES });
    this.sealedPool = components.transport instanceof Socket ? new BufferPool(FRAME_HEADER_BYTES + MAX_DATA_BYTES + TAG_BYTES, SEALED_POOL_MAX_FREE) : null;
    this.onSealedWritten = this.onSealedWritten.bind(this);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.onData = this.onData.bind(this);
    this.onDrain = this.onDrain.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onTransportError = this.onTransportError.bind(this);
    this.onTransportClose = this.onTransportClose.bind(this);
    const t = this.transport;
    // A socket reading into the shared buffer (borrowed-read.ts) hands chunks to onData below;
    // they are decoded and opened before it returns, never kept.
    const borrowed = t instanceof Socket && isBorrowed(t);
    if (!borrowed) t.on('data', this.onData);
    t.on('drain', this.onDrain);
    t.on('end', this.onEnd);
    t.on('error', this.onTransportError);
    t.on('close', this.onTransportClose);
    if (components.leftover !== undefined && components.leftover.length > 0) {
      // Bytes that followed the handshake come first, before any later 'data'.
      this.leftover = Buffer.from(components.leftover); // cold: once per connection
      queueMicrotask(() => this.onData(EMPTY_CHUNK));
    }
    // A handshake runner pauses the transport so nothing is emitted unheard.
    if (borrowed) queueMicrotask(() => this.closed || readBorrowed(t, (chunk) => (this.onData(chunk), true)));
    else t.resume();
    const extra = this.receiveConnectionWindow - this.connectionWindow;
    if (extra > 0) {
      // The connection window above the initial one, granted at once (tunnel.md §5).
      this.connectionReceiveCredit += extra;
      encodeWindowUpdate(this.scratch, 0, extra);
      this.send(FRAME_WINDOW_UPDATE, 0, 0, this.scratch.subarray(0, 4));
    }
    // Credit travels in small frames: Nagle + delayed ACK would hold them ~40 ms and stall
    // every window (measured: 8 streams fell from 4.2 Gbit/s to 0.19 over loopback).
    const noDelay = (t as { setNoDelay?: (on: boolean) => unknown }).setNoDelay;
    if (typeof noDelay === 'function') noDelay.call(t, true);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  get draining(): boolean {
    return this.goAwaySent || this.goAwayReceived;
  }

  // ---- receive: 1. decode ----------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.leftover !== null) {
      const first = this.leftover;
      this.leftover = null;
      this.onData(first);
      if (this.closed) return;
    }
    if (chunk.length === 0) return;
    if (this.decoding) {
      // A transport that delivers synchronously from inside our own write: decode after.
      this.backlog.push(Buffer.from(chunk)); // a copy: the chunk may be a borrowed read
      return;
    }
    this.decoding = true;
    // Replies made while decoding one chunk (credit, PONG, OPEN_ACK, DATA resumed) leave in one write.
    this.transport.cork();
    try {
      this.decoder.decode(chunk, onFrame, this);
      while (this.backlog.length > 0 && !this.closed) this.decoder.decode(this.backlog.shift()!, onFrame, this);
    } catch (err) {
      this.fail(err);
    } finally {
      this.decoding = false;
      this.backlog.length = 0;
      this.transport.uncork();
    }
  }

  private onEnd(): void {
    if (this.closed) return;
    if (this.streams.size === 0 && this.draining) this.destroy();
    else this.destroy(new TunnelError('TUNNEL_CLOSED', `transport ended with ${this.streams.size} streams open`));
  }

  private onTransportError(err: Error): void {
    this.destroy(new TunnelError('TUNNEL_CLOSED', `transport error: ${err.message}`, { cause: err }));
  }

  private onTransportClose(): void {
    if (!this.closed) this.destroy(new TunnelError('TUNNEL_CLOSED', 'transport closed'));
  }

  /** A wire error: GOAWAY with a code where possible, then close. */
  private fail(err: unknown): void {
    if (this.closed) return;
    const e = isTunnelError(err) ? err : new TunnelError('TUNNEL_PROTOCOL', `framing: ${(err as Error).message}`, { cause: err });
    const code = e.code === 'TUNNEL_FLOW_CONTROL' ? TUNNEL_CODES.FLOW_CONTROL : e.code === 'TUNNEL_AUTH' ? TUNNEL_CODES.PROTOCOL : TUNNEL_CODES.PROTOCOL;
    let flushed = false;
    try {
      if (!this.sealer.destroyed) {
        this.sendGoAwayFrame(code);
        flushed = true;
      }
    } catch {
      // best effort: the connection is closing anyway
    }
    this.destroy(e, flushed);
  }

  // ---- receive: 2. open, 3. dispatch ------------------------------------------------------

  receive(frame: StreamFrame): void {
    const { type, channel } = frame;
    // The decoder caps a payload at MAX_SEALED_PAYLOAD_BYTES, so a DATA body always fits a pooled buffer.
    const body = type === FRAME_DATA ? this.openPooled(frameHeaderView(frame), frame.payload) : this.sealer.open(frameHeaderView(frame), frame.payload);
    this.stats.framesReceived++;
    checkChannel(type, channel);
    if (type === FRAME_DATA) return this.onDataFrame(channel, body);
    if (channel === 0 && type !== FRAME_WINDOW_UPDATE) return this.onConnectionFrame(type, frame.flags, body);
    if (type === FRAME_WINDOW_UPDATE) return this.onWindowUpdate(channel, decodeWindowUpdate(body));
    if (type === FRAME_OPEN) return this.onOpen(channel, decodeOpen(body));
    const s = this.streamFor(channel);
    switch (type) {
      case FRAME_DATAGRAM:
        checkDataBody(type, body.length);
        if (s === null) return;
        if (!s.udp) throw this.protocol(`DATAGRAM on tcp stream ${channel}`);
        if (s.remoteFin) throw this.protocol(`DATAGRAM after FIN on stream ${channel}`);
        this.stats.bytesReceived += body.length;
        if (s.readableLength >= this.datagramQueue) {
          s.datagramsDropped++;
          this.stats.datagramsDropped++;
        } else {
          s.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        }
        return;
      case FRAME_OPEN_ACK:
        checkEmptyBody(type, body);
        if (s === null) return;
        if (!s.local || s.accepted) throw this.protocol(`OPEN_ACK for stream ${channel} not awaiting one`);
        s.accepted = true;
        s.emit('open');
        return;
      case FRAME_OPEN_ERR: {
        const code = decodeCode(type, body);
        if (s === null) return;
        if (!s.local || s.accepted) throw this.protocol(`OPEN_ERR for stream ${channel} not awaiting one`);
        this.remove(s);
        s.destroy(new TunnelError('TUNNEL_OPEN_FAILED', `stream ${channel} refused: ${codeName(code)} (${code})`, { details: { id: channel, code, reason: codeName(code) } }));
        return;
      }
      case FRAME_FIN:
        checkEmptyBody(type, body);
        if (s === null) return;
        if (s.remoteFin) throw this.protocol(`second FIN on stream ${channel}`);
        s.remoteFin = true;
        s.push(null);
        if (s.localFin) this.remove(s);
        return;
      default: {
        // FRAME_RESET
        const code = decodeCode(type, body);
        if (s === null) return;
        this.remove(s);
        s.destroy(new TunnelError('TUNNEL_STREAM_RESET', `stream ${channel} reset by peer: ${codeName(code)} (${code})`, { details: { id: channel, code, reason: codeName(code) } }));
      }
    }
  }

  private protocol(message: string): TunnelError {
    return new TunnelError('TUNNEL_PROTOCOL', message);
  }

  private isPeerId(id: number): boolean {
    return (id & 1) === (this.role === 'source' ? 0 : 1);
  }

  /** The live stream `id`, null for one that was closed (frames may cross a RESET); an id never opened is a protocol error. */
  private streamFor(id: number): StreamState | null {
    const s = this.streams.get(id);
    if (s !== undefined) return s;
    if (this.isPeerId(id) ? id <= this.lastPeerId : id < this.nextId) return null;
    throw this.protocol(`frame for stream ${id} that was never opened`);
  }

  private openPooled(header: Uint8Array, sealed: Uint8Array): Buffer {
    const out = this.plainPool.take();
    try {
      return out.subarray(0, this.sealer.openInto(header, sealed, out));
    } catch (err) {
      this.plainPool.give(out);
      throw err;
    }
  }

  /** A chunk read from a stream, back once its reader is done with it (splice: socket write callback). */
  release(chunk: Uint8Array): void {
    if (!this.closed) this.plainPool.give(chunk);
  }

  private onDataFrame(id: number, body: Uint8Array): void {
    const n = body.length;
    checkDataBody(FRAME_DATA, n);
    if (n > this.connectionReceiveCredit) throw new TunnelError('TUNNEL_FLOW_CONTROL', `DATA ${n} bytes > connection credit ${this.connectionReceiveCredit}`);
    this.connectionReceiveCredit -= n;
    this.stats.bytesReceived += n;
    const s = this.streamFor(id);
    // The connection credit comes back on arrival, whatever the stream does with it (§5).
    this.connectionUngranted += n;
    if (this.connectionUngranted >= this.receiveConnectionWindow >>> 1) this.grantConnection();
    if (s === null) {
      this.plainPool.give(body);
      return;
    }
    if (s.udp) throw this.protocol(`DATA on udp stream ${id}`);
    if (s.remoteFin) throw this.protocol(`DATA after FIN on stream ${id}`);
    if (n > s.receiveCredit) throw new TunnelError('TUNNEL_FLOW_CONTROL', `DATA ${n} bytes > stream ${id} credit ${s.receiveCredit}`);
    s.receiveCredit -= n;
    s.received += n;
    s.push(Buffer.from(body.buffer, body.byteOffset, n));
    this.consumed(s);
  }

  private grantConnection(): void {
    const g = this.connectionUngranted;
    this.connectionUngranted = 0;
    this.connectionReceiveCredit += g;
    encodeWindowUpdate(this.scratch, 0, g);
    this.send(FRAME_WINDOW_UPDATE, 0, 0, this.scratch.subarray(0, 4));
  }

  /**
   * Gives credit back for bytes the application took out of the readable buffer, and grows
   * the window of a stream the window (not its reader) limits: half a window taken within
   * WINDOW_GROW_WITHIN_MS of the previous grant doubles it (bounded per stream and per
   * connection); the extra goes out in the same WINDOW_UPDATE.
   */
  consumed(s: StreamState): void {
    if (!s.live || s.remoteFin || this.closed) return;
    const consumed = s.received - s.readableLength - s.granted;
    if (consumed <= 0) return;
    const half = s.window >>> 1;
    if (consumed < half && s.receiveCredit >= half) return;
    let grant = consumed;
    const now = performance.now();
    // QUIC's rule: a grant due again within two round trips means the window, not the reader,
    // sets the pace. Before the first PING sample the RTT is taken as WINDOW_GROW_WITHIN_MS / 2.
    const rtt = this.stats.lastRttMs > 0 ? this.stats.lastRttMs : WINDOW_GROW_WITHIN_MS / 2;
    if (s.window < this.maxReceiveWindow && consumed >= half && now - s.lastGrantMs < 2 * rtt) {
      const grow = Math.min(s.window, this.maxReceiveWindow - s.window, this.growthBudget - this.grown);
      if (grow > 0) {
        s.window += grow;
        s.grown += grow;
        this.grown += grow;
        grant += grow;
        this.stats.windowGrowths++;
      }
    }
    s.lastGrantMs = now;
    s.granted += consumed;
    s.receiveCredit += grant;
    encodeWindowUpdate(this.scratch, 0, grant);
    this.send(FRAME_WINDOW_UPDATE, 0, s.id, this.scratch.subarray(0, 4));
  }

  /** Grants the receive window above the initial one (tunnel.md §5), once per stream. */
  private growReceiveWindow(s: StreamState): void {
    s.window = s.udp ? this.streamWindow : this.receiveWindow;
    s.lastGrantMs = performance.now();
    const extra = this.receiveWindow - this.streamWindow;
    if (extra <= 0 || s.udp) return;
    s.receiveCredit += extra; // now receiveCredit = receiveWindow - (received - granted)
    encodeWindowUpdate(this.scratch, 0, extra);
    this.send(FRAME_WINDOW_UPDATE, 0, s.id, this.scratch.subarray(0, 4));
  }

  private onWindowUpdate(id: number, credit: number): void {
    if (id === 0) {
      if (this.connectionCredit + credit > CONNECTION_WINDOW_MAX_BYTES) {
        throw new TunnelError('TUNNEL_FLOW_CONTROL', `connection credit ${this.connectionCredit} + ${credit} > max ${CONNECTION_WINDOW_MAX_BYTES}`);
      }
      this.connectionCredit += credit;
      this.pump();
      return;
    }
    const s = this.streamFor(id);
    if (s === null) return;
    if (s.sendCredit + credit > STREAM_WINDOW_MAX_BYTES) {
      throw new TunnelError('TUNNEL_FLOW_CONTROL', `stream ${id} credit ${s.sendCredit} + ${credit} > max ${STREAM_WINDOW_MAX_BYTES}`);
    }
    s.sendCredit += credit;
    if (s.pendingChunk !== null) this.resume(s);
  }

  private onOpen(id: number, request: OpenRequest): void {
    if (!this.isPeerId(id) || id <= this.lastPeerId) throw this.protocol(`OPEN of stream ${id}: not a new ${this.role === 'source' ? 'even' : 'odd'} id above ${this.lastPeerId}`);
    this.lastPeerId = id;
    let code: number = TUNNEL_CODES.NO_ERROR;
    if (this.goAwaySent) code = TUNNEL_CODES.GOING_AWAY;
    else if (this.peerOpen >= this.maxStreams) code = TUNNEL_CODES.LIMIT;
    else if (this.onStream === undefined) code = TUNNEL_CODES.REFUSED;
    else if (this.authorizeOpen !== undefined) code = this.authorizeOpen(request, id);
    if (code !== TUNNEL_CODES.NO_ERROR) {
      this.stats.streamsRefused++;
      encodeCode(this.scratch, 0, code);
      this.send(FRAME_OPEN_ERR, 0, id, this.scratch.subarray(0, 2));
      return;
    }
    const s = new StreamState(this, id, request, false, this.streamWindow, this.streamWindow, this.datagramQueue);
    this.streams.set(id, s);
    this.peerOpen++;
    this.lastPeerIdAccepted = id;
    this.stats.streamsAccepted++;
    this.stats.openStreams = this.streams.size;
    this.send(FRAME_OPEN_ACK, 0, id, NO_BODY);
    this.growReceiveWindow(s);
    this.onStream!(s);
  }

  private onConnectionFrame(type: number, flags: number, body: Uint8Array): void {
    switch (type) {
      case FRAME_PING:
        checkPingBody(type, body);
        this.send(FRAME_PONG, 0, 0, body);
        return;
      case FRAME_PONG: {
        checkPingBody(type, body);
        const key = Buffer.from(body.buffer, body.byteOffset, 8).readUInt32BE(0);
        const p = this.pings.get(key);
        if (p === undefined) return; // late or unsolicited: ignored
        const rtt = performance.now() - p.start;
        this.stats.lastRttMs = rtt;
        p.done();
        p.resolve(rtt);
        return;
      }
      case FRAME_REKEY:
        return this.onRekey((flags & FLAG_REKEY_ACK) !== 0, decodeRekey(body));
      default: {
        const { lastStreamId, code } = decodeGoAway(body);
        this.onGoAway(lastStreamId, code);
      }
    }
  }

  // ---- rekey (tunnel.md §6) ---------------------------------------------------------------

  rekey(): boolean {
    if (this.rekeyPending || this.closed) return false;
    this.sendRekey(false);
    return true;
  }

  /** REKEY sealed under the old send key, then the send key switches. */
  private sendRekey(ack: boolean): void {
    encodeRekey(this.scratch, 0, this.sealer.sendGeneration + 1);
    this.send(FRAME_REKEY, ack ? FLAG_REKEY_ACK : 0, 0, this.scratch.subarray(0, 4));
    this.sealer.rotateSend();
    if (!ack) this.rekeyPending = true;
  }

  private onRekey(ack: boolean, generation: number): void {
    const expected = this.sealer.receiveGeneration + 1;
    if (generation !== expected) throw this.protocol(`REKEY generation ${generation} != expected ${expected}`);
    if (ack && !this.rekeyPending) throw this.protocol('REKEY ACK without a pending request');
    this.sealer.rotateReceive();
    this.stats.rekeys++;
    if (ack) this.rekeyPending = false;
    else if (this.rekeyPending) this.rekeyPending = false; // requests crossed: each answers the other
    else this.sendRekey(true);
  }

  // ---- GOAWAY (tunnel.md §9) --------------------------------------------------------------

  goAway(code: number = TUNNEL_CODES.NO_ERROR): void {
    if (this.closed || this.goAwaySent) return;
    this.sendGoAwayFrame(code);
    this.goAwaySent = true;
    this.maybeFinishDrain();
  }

  private sendGoAwayFrame(code: number): void {
    encodeGoAway(this.scratch, 0, this.lastPeerIdAccepted, code);
    this.send(FRAME_GOAWAY, 0, 0, this.scratch.subarray(0, 6));
  }

  private onGoAway(lastStreamId: number, _code: number): void {
    this.goAwayReceived = true;
    this.peerLastStreamId = lastStreamId;
    for (const s of [...this.streams.values()]) {
      // cold: once per connection
      if (s.local && s.id > lastStreamId) {
        this.remove(s);
        s.destroy(new TunnelError('TUNNEL_OPEN_FAILED', `stream ${s.id} not accepted: GOAWAY(last ${lastStreamId})`, { details: { id: s.id, code: TUNNEL_CODES.GOING_AWAY, reason: 'GOING_AWAY' } }));
      }
    }
    this.maybeFinishDrain();
  }

  private maybeFinishDrain(): void {
    if (this.draining && this.streams.size === 0 && !this.closed) {
      this.closeGracefully();
    }
  }

  private closeGracefully(): void {
    this.closed = true;
    this.cleanup(undefined);
    this.transport.end();
  }

  // ---- send --------------------------------------------------------------------------------

  /** Seals and writes one frame; notes transport back-pressure. */
  private send(type: number, flags: number, channel: number, body: Uint8Array): void {
    const frame = this.sealer.seal(type, flags, channel, body);
    this.stats.framesSent++;
    if (!this.transport.write(frame)) this.transportBlocked = true;
  }

  /** Seals one DATA frame into a pooled buffer that the transport's write callback gives back. */
  private sendData(channel: number, body: Uint8Array): void {
    const pool = this.sealedPool;
    if (pool === null) return this.send(FRAME_DATA, 0, channel, body);
    const frame = pool.take();
    let end: number;
    try {
      end = this.sealer.sealInto(frame, 0, FRAME_DATA, 0, channel, body);
    } catch (err) {
      pool.give(frame);
      throw err;
    }
    this.stats.framesSent++;
    this.sealedInFlight.push(frame);
    if (!this.transport.write(frame.subarray(0, end), this.onSealedWritten)) this.transportBlocked = true;
  }

  /** A socket calls write callbacks in write order: the oldest frame in flight is the one done. */
  private onSealedWritten(): void {
    const frame = this.sealedInFlight.shift();
    if (frame !== undefined && !this.closed) this.sealedPool?.give(frame);
  }

  openStream(request: OpenRequest): TunnelStream {
    if (this.closed) throw new TunnelError('TUNNEL_CLOSED', 'multiplexer closed');
    if (this.draining) throw new TunnelError('TUNNEL_LIMIT', 'multiplexer draining (GOAWAY): open on a new connection');
    const id = this.nextId;
    if (id > MAX_STREAM_ID) throw new TunnelError('TUNNEL_LIMIT', `stream ids exhausted (${id} > ${MAX_STREAM_ID}): open on a new connection`);
    const body = Buffer.alloc(openBodyLength(request)); // cold: once per stream
    encodeOpen(body, 0, request);
    this.nextId += 2;
    const s = new StreamState(this, id, request, true, this.streamWindow, this.streamWindow, this.datagramQueue);
    this.streams.set(id, s);
    this.stats.streamsOpened++;
    this.stats.openStreams = this.streams.size;
    this.send(FRAME_OPEN, 0, id, body);
    this.growReceiveWindow(s);
    return s;
  }

  writeData(s: StreamState, chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (!s.live || this.closed) {
      cb(new TunnelError('TUNNEL_STREAM_RESET', `stream ${s.id} is closed`));
      return;
    }
    s.pendingChunk = chunk;
    s.pendingOffset = 0;
    s.pendingCb = cb;
    this.resume(s);
  }

  sendNow(s: StreamState, chunk: Uint8Array): boolean {
    const n = chunk.length;
    // Parked streams wait for connection credit first (fairness); a partial send would leave the
    // caller's chunk referenced, so all or nothing.
    if (!s.live || this.closed || s.localFin || s.pendingChunk !== null || this.transportBlocked || this.parked.size > 0) return false;
    if (n > s.sendCredit || n > this.connectionCredit) return false;
    for (let off = 0; off < n; off += MAX_DATA_BYTES) this.sendData(s.id, chunk.subarray(off, Math.min(n, off + MAX_DATA_BYTES)));
    s.sendCredit -= n;
    this.connectionCredit -= n;
    this.stats.bytesSent += n;
    if (this.sealer.needsRekey()) this.rekey();
    return true;
  }

  /** Sends what credit allows of the stream's parked write; completes it or parks it. */
  private resume(s: StreamState): void {
    while (this.sendSlice(s));
    if (s.pendingChunk === null) return;
    // Out of stream credit: wait for the stream's WINDOW_UPDATE. Otherwise wait for the connection.
    if (s.sendCredit > 0) this.parked.add(s);
  }

  /** One DATA frame of the parked write; false when done or out of credit. */
  private sendSlice(s: StreamState): boolean {
    const chunk = s.pendingChunk;
    if (chunk === null) return false;
    const left = chunk.length - s.pendingOffset;
    const n = Math.min(left, s.sendCredit, this.connectionCredit, MAX_DATA_BYTES);
    if (n <= 0 || this.transportBlocked || this.closed) return false;
    const off = s.pendingOffset;
    this.sendData(s.id, chunk.subarray(off, off + n));
    s.sendCredit -= n;
    this.connectionCredit -= n;
    this.stats.bytesSent += n;
    if (this.sealer.needsRekey()) this.rekey();
    if (n === left) {
      const cb = s.pendingCb!;
      s.pendingChunk = null;
      s.pendingCb = null;
      s.pendingOffset = 0;
      cb();
      return false;
    }
    s.pendingOffset = off + n;
    return true;
  }

  /** Resumes parked streams, one frame each per round, while credit and the transport allow. */
  private pump(): void {
    while (this.parked.size > 0 && this.connectionCredit > 0 && !this.transportBlocked && !this.closed) {
      for (const s of this.parked) {
        this.parked.delete(s);
        if (this.sendSlice(s)) {
          if (s.sendCredit > 0) this.parked.add(s); // back of the line
        } else if (s.pendingChunk !== null && s.sendCredit > 0) {
          this.parked.add(s);
          if (this.connectionCredit <= 0 || this.transportBlocked) return;
        }
      }
    }
  }

  private onDrain(): void {
    this.transportBlocked = false;
    this.transport.cork();
    this.pump();
    this.transport.uncork();
  }

  writeDatagram(s: StreamState, chunk: Buffer): void {
    if (!s.live || this.closed || s.localFin) return;
    if (chunk.length > 65_507 || this.transportBlocked) {
      s.datagramsDropped++;
      this.stats.datagramsDropped++;
      return;
    }
    this.send(FRAME_DATAGRAM, 0, s.id, chunk);
    this.stats.bytesSent += chunk.length;
  }

  finish(s: StreamState): void {
    if (!s.live || this.closed || s.localFin) return;
    s.localFin = true;
    this.send(FRAME_FIN, 0, s.id, NO_BODY);
    if (s.remoteFin) this.remove(s);
  }

  /** The application destroyed the stream: RESET(CANCEL) unless it already closed. */
  abort(s: StreamState, _err: Error | null): void {
    if (!s.live) return;
    this.remove(s);
    if (this.closed) return;
    encodeCode(this.scratch, 0, s.resetCode);
    this.send(FRAME_RESET, 0, s.id, this.scratch.subarray(0, 2));
  }

  /** Takes a stream out of the table (closed at protocol level). */
  private remove(s: StreamState): void {
    if (!s.live) return;
    s.live = false;
    this.grown -= s.grown;
    s.grown = 0;
    this.streams.delete(s.id);
    this.parked.delete(s);
    if (!s.local) this.peerOpen--;
    this.stats.openStreams = this.streams.size;
    const cb = s.pendingCb;
    if (cb !== null) {
      s.pendingChunk = null;
      s.pendingCb = null;
      cb(new TunnelError('TUNNEL_STREAM_RESET', `stream ${s.id} closed with a write pending`));
    }
    this.maybeFinishDrain();
  }

  // ---- ping --------------------------------------------------------------------------------

  ping(options: { signal?: AbortSignal } = {}): Promise<number> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.closed) return Promise.reject(new TunnelError('TUNNEL_CLOSED', 'multiplexer closed'));
    if (this.pings.size >= this.maxPendingPings) return Promise.reject(new TunnelError('TUNNEL_LIMIT', `${this.pings.size} pings outstanding (max ${this.maxPendingPings})`));
    const key = (this.pingSeq = (this.pingSeq + 1) >>> 0);
    const body = Buffer.alloc(PING_BYTES); // cold: one per heartbeat
    body.writeUInt32BE(key, 0);
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        done();
        reject(signal!.reason as Error);
      };
      const done = (): void => {
        this.pings.delete(key);
        signal?.removeEventListener('abort', onAbort);
      };
      this.pings.set(key, { start: performance.now(), resolve, reject, done });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send(FRAME_PING, 0, 0, body);
    });
  }

  // ---- close -------------------------------------------------------------------------------

  destroy(err?: Error, flush = false): void {
    if (this.closed) return;
    this.closed = true;
    const e = err ?? new TunnelError('TUNNEL_CLOSED', 'multiplexer closed');
    for (const s of [...this.streams.values()]) {
      // cold: once per connection
      this.remove(s);
      s.destroy(new TunnelError('TUNNEL_STREAM_RESET', `stream ${s.id}: connection closed: ${e.message}`, { cause: e, details: { id: s.id } }));
    }
    this.cleanup(err);
    if (!flush) {
      this.transport.destroy();
      return;
    }
    // Let the GOAWAY out, then make sure the transport goes even if the peer never closes.
    const t = this.transport;
    t.end();
    setTimeout(() => t.destroy(), FLUSH_TIMEOUT_MS).unref();
  }

  private cleanup(err: Error | undefined): void {
    for (const p of [...this.pings.values()]) {
      p.done();
      p.reject(new TunnelError('TUNNEL_CLOSED', 'multiplexer closed before PONG'));
    }
    const t = this.transport;
    t.off('data', this.onData);
    t.off('drain', this.onDrain);
    t.off('end', this.onEnd);
    t.off('close', this.onTransportClose);
    t.off('error', this.onTransportError);
    t.on('error', () => {}); // a late transport error after close is not the application's
    this.decoder.close();
    this.sealer.destroy();
    this.plainPool.clear();
    this.sealedPool?.clear();
    this.stats.openStreams = 0;
    this.onClose?.(err);
    this.resolveDone(err);
  }
}

/**
 * Creates a multiplexer over a transport whose handshake is done.
 *
 * @example
 * const mux = createMux({ transport: socket, keys: handshakeResult }, { role: 'source' });
 * const s = mux.openStream({ protocol: 'tcp', port: 80, target: '' });
 * client.pipe(s).pipe(client);
 */
export function createMux(components: MuxComponents, init: MuxInit): Mux {
  return new Multiplexer(components, init);
}
