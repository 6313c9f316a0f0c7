/**
 * The batched form of a {@link UdpLink} (createUdpLink with `batched: true` when the batch_io
 * addon is built): the same interface over a batch-udp.ts socket.
 *
 *   send / sendTo  queue the datagram (a reference, not a copy) and, on the first queued entry,
 *                  schedule one microtask that flushes the queue with sendmmsg(2). A whole TUN
 *                  read batch, or a whole receive batch and the replies it caused, leaves in
 *                  one system call when the JS task that queued it ends. The caller keeps the
 *                  bytes unchanged until then (bonding's send ring reuses a slot only hundreds
 *                  of sends later). A full queue (BATCHED_LINK_QUEUE entries) flushes at once.
 *   receive        recvmmsg(2) batches; the handler is called per datagram, as with dgram, with
 *                  `data` a view of the socket's receive slots (valid during the call: copy
 *                  what you keep) and `from` one reused object. The source address text is
 *                  rebuilt only when the packed source differs from the previous datagram's.
 *                  The queue is flushed after each receive batch, before the next recvmmsg
 *                  reuses the slots (a handler may send a view of what it received).
 *
 * A full socket buffer (EAGAIN) drops the rest of a flush (counted in txDropped, as a router
 * drops on a full queue; node:dgram would queue it in memory instead). Destinations of sendTo are packed once per address and cached (bounded).
 */
import { ADDR_SLOT_BYTES, BATCH_IO_MAX, packAddress, unpackAddress } from './batch-native.js';
import { createBatchUdpSocket, type BatchUdpSocket } from './batch-udp.js';
import type { SourceRoute } from './policy-routing.js';
import type { UdpEndpoint, UdpLink, UdpLinkInit, UdpLinkStats, UdpMessageHandler } from './udp-link.js';

/** Datagrams queued before a flush is forced. */
export const BATCHED_LINK_QUEUE = 256;
/** Receive slots per recvmmsg. */
const RECEIVE_BATCH = 64;
/** Packed destinations kept for sendTo (cleared when full: a server has few peers' endpoints). */
const PACKED_CACHE_MAX = 4096;

interface PackedDestination {
  port: number;
  packed: Uint8Array;
}

/** @internal createUdpLink's batched implementation (the addon is known to load). */
export function openBatchedLink(init: UdpLinkInit, family: 4 | 6, route: SourceRoute | undefined): UdpLink {
  const socket = createBatchUdpSocket({
    family,
    localAddress: init.localAddress,
    ...(init.localPort === undefined ? {} : { localPort: init.localPort }),
    ...(init.remote === undefined ? {} : { remote: init.remote }),
    batchSize: RECEIVE_BATCH,
    ...(init.receiveBufferBytes === undefined ? {} : { receiveBufferBytes: init.receiveBufferBytes }),
    ...(init.sendBufferBytes === undefined ? {} : { sendBufferBytes: init.sendBufferBytes }),
  });
  return new BatchedLink(init, family, socket, route);
}

class BatchedLink implements UdpLink {
  readonly id: string;
  readonly label: string | undefined;
  readonly family: 4 | 6;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remote: UdpEndpoint | undefined;
  readonly route: SourceRoute | undefined;
  readonly batched = true;
  closed = false;
  readonly stats: UdpLinkStats;
  private readonly socket: BatchUdpSocket;
  private readonly from: UdpEndpoint = { address: '', port: 0 };
  /** The packed source `from` was built from (compared before rebuilding the text). */
  private readonly lastSource = new Uint8Array(ADDR_SLOT_BYTES);
  private handler: UdpMessageHandler | undefined = undefined;
  // the send queue: entry i is lengths[i] bytes at offsets[i] of data[i], to addrs slot i (sendTo)
  private readonly data: Uint8Array[] = [];
  private readonly offsets = new Uint32Array(BATCHED_LINK_QUEUE);
  private readonly lengths = new Uint32Array(BATCHED_LINK_QUEUE);
  private readonly addrs = new Uint8Array(BATCHED_LINK_QUEUE * ADDR_SLOT_BYTES);
  private queued = 0;
  /** The queue holds sendTo entries (a flush passes addrs) or send entries (connected). */
  private queuedTo = false;
  private flushScheduled = false;
  private readonly packedCache = new Map<string, PackedDestination>();
  private closing: Promise<void> | undefined = undefined;

  constructor(init: UdpLinkInit, family: 4 | 6, socket: BatchUdpSocket, route: SourceRoute | undefined) {
    this.id = init.id;
    this.label = init.label;
    this.family = family;
    this.localAddress = init.localAddress;
    this.localPort = socket.localPort;
    this.remote = socket.remote;
    this.route = route;
    this.socket = socket;
    const socketStats = socket.stats;
    this.stats = {
      txPackets: 0,
      txBytes: 0,
      rxPackets: 0,
      rxBytes: 0,
      sendErrors: 0,
      txDropped: 0,
      // recvmmsg errors (ICMP unreachable on a connected socket) are counted by the socket
      get receiveErrors(): number {
        return socketStats.receiveErrors;
      },
      sendsAfterClose: 0,
      // the socket records the last send or receive error; flush() adds EAGAIN drops
      get lastErrorCode(): string {
        return socketStats.lastErrorCode;
      },
    };
    this.flush = this.flush.bind(this);
    this.onBatch = this.onBatch.bind(this);
  }

  send(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (this.closed) {
      this.stats.sendsAfterClose++;
      return false;
    }
    if (this.queuedTo) this.flush(); // a connected send after sendTo entries: keep the order
    this.enqueue(data, offset, length);
    return true;
  }

  sendTo(data: Uint8Array, offset: number, length: number, port: number, address: string): boolean {
    if (this.closed) {
      this.stats.sendsAfterClose++;
      return false;
    }
    if (!this.queuedTo && this.queued > 0) this.flush();
    this.queuedTo = true;
    const packed = this.packedFor(address, port);
    this.addrs.set(packed, this.queued * ADDR_SLOT_BYTES);
    this.enqueue(data, offset, length);
    return true;
  }

  private enqueue(data: Uint8Array, offset: number, length: number): void {
    const i = this.queued;
    this.data[i] = data;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.queued = i + 1;
    if (this.queued === BATCHED_LINK_QUEUE) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Sends everything queued (sendmmsg, up to BATCH_IO_MAX per call). */
  flush(): void {
    this.flushScheduled = false;
    const count = this.queued;
    if (count === 0) return;
    this.queued = 0;
    const withAddrs = this.queuedTo;
    this.queuedTo = false;
    if (this.closed) {
      this.stats.sendsAfterClose += count;
      return;
    }
    const s = this.socket.stats;
    const before = { tx: s.txPackets, bytes: s.txBytes, dropped: s.txDropped, errors: s.sendErrors };
    for (let start = 0; start < count; start += BATCH_IO_MAX) {
      this.socket.sendBatch(this.data, this.offsets, this.lengths, Math.min(BATCH_IO_MAX, count - start), withAddrs ? this.addrs : null, start);
    }
    const stats = this.stats;
    stats.txPackets += s.txPackets - before.tx;
    stats.txBytes += s.txBytes - before.bytes;
    const dropped = s.txDropped - before.dropped;
    const errors = s.sendErrors - before.errors;
    stats.txDropped += dropped; // congestion, not a failing path: kept apart from sendErrors
    stats.sendErrors += errors;
    // drop the references: the queue must not keep callers' buffers alive
    for (let i = 0; i < count; i++) this.data[i] = EMPTY;
  }

  private packedFor(address: string, port: number): Uint8Array {
    const hit = this.packedCache.get(address);
    if (hit !== undefined && hit.port === port) return hit.packed;
    const packed = new Uint8Array(ADDR_SLOT_BYTES); // cold: once per destination
    packAddress(packed, 0, address, port);
    if (this.packedCache.size >= PACKED_CACHE_MAX) this.packedCache.clear();
    this.packedCache.set(address, { port, packed });
    return packed;
  }

  onMessage(handler: UdpMessageHandler): void {
    if (this.closed) return;
    const first = this.handler === undefined;
    this.handler = handler;
    if (first) this.socket.onBatch(this.onBatch);
  }

  private onBatch(slots: Buffer, lengths: Uint32Array, count: number, sources: Uint8Array): void {
    const handler = this.handler!;
    const slotBytes = this.socket.slotBytes;
    const stats = this.stats;
    const from = this.from;
    const last = this.lastSource;
    for (let i = 0; i < count && !this.closed; i++) {
      const length = lengths[i]!;
      if (length > slotBytes) continue; // truncated (a datagram over 65535 bytes cannot exist): counted by the socket
      stats.rxPackets++;
      stats.rxBytes += length;
      const at = i * ADDR_SLOT_BYTES;
      let same = true;
      for (let k = 0; k < 19; k++) {
        if (sources[at + k] !== last[k]) {
          same = false;
          break;
        }
      }
      if (!same) {
        last.set(sources.subarray(at, at + ADDR_SLOT_BYTES));
        const endpoint = unpackAddress(sources, i); // cold: once per change of source
        from.address = endpoint.address;
        from.port = endpoint.port;
      }
      const start = i * slotBytes;
      handler(slots.subarray(start, start + length), from);
    }
    // Replies the handler queued may reference these slots: send them before the next
    // recvmmsg round (same JS task) overwrites the slots.
    this.flush();
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.flush();
    this.closed = true;
    this.socket.close();
    await this.route?.remove();
  }
}

const EMPTY = new Uint8Array(0);
