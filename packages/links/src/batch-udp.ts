/**
 * A UDP socket that moves datagrams in batches through the batch_io addon: sendmmsg(2) for a
 * batch of sends, recvmmsg(2) for a batch of receives, one JS->C call each, no libuv request and
 * no allocation per datagram. The fast path beside {@link createUdpLink} (node:dgram), for the
 * bonding data plane.
 *
 *   readiness  readable.ts (uv_poll on the event loop, level-triggered), as tun-device.ts
 *   receive    recvBatch into one preallocated buffer of `batchSize` slots of `slotBytes`; the
 *              handler gets (slots, lengths, count, sources) once per batch; up to
 *              BATCH_UDP_MAX_ROUNDS batches per wakeup before yielding to the event loop
 *   send       sendBatch(data, offsets, lengths, count, addrs?): sendmmsg, to the connected
 *              remote or to per-entry packed addresses (batch-native.ts). A full socket buffer
 *              (EAGAIN) ends the batch: the rest is dropped and counted; a datagram the kernel
 *              refuses (EMSGSIZE with dontFragment, ECONNREFUSED, ENETUNREACH, a firewall
 *              drop) is skipped and counted, and the batch goes on. A refused datagram is
 *              never attempted twice: sendmmsg reports only how far it got, so one refused
 *              mid-batch has the code 'ESENDMMSG' (EMSGSIZE when it exceeds the path MTU).
 *
 * `dontFragment` sets IP_MTU_DISCOVER / IPV6_MTU_DISCOVER = PMTUDISC_DO: the DF bit is set and a
 * datagram over the path MTU fails with EMSGSIZE (counted as `sendErrors` with lastErrorCode
 * 'EMSGSIZE') instead of being fragmented, which path-MTU probing needs.
 */
import { isIP } from 'node:net';
import { watchReadable, type ReadableWatch } from './readable.js';
import { ADDR_SLOT_BYTES, BATCH_IO_MAX, UDP_FLAG_DONT_FRAGMENT, UDP_FLAG_V6ONLY, loadBatchIo, type BatchData, type BatchIoNative, type NativeSystemError } from './batch-native.js';
import { LinksError, LinksInvalidArgumentError } from './errors.js';
import type { UdpEndpoint } from './udp-link.js';


/** Receive slots per batch by default. */
export const BATCH_UDP_DEFAULT_BATCH = 64;
/** Bytes per receive slot by default (the largest UDP payload fits: nothing is truncated). */
export const BATCH_UDP_DEFAULT_SLOT_BYTES = 65535;
/** Receive batches drained per readiness wakeup before yielding to the event loop. */
export const BATCH_UDP_MAX_ROUNDS = 8;

/** Options of {@link createBatchUdpSocket}. */
export interface BatchUdpSocketInit {
  /** 4 or 6; must match localAddress (default: the family of localAddress). */
  family?: 4 | 6;
  /** Address to bind (an uplink's own address, or 0.0.0.0 / ::). */
  localAddress: string;
  /** Port to bind (default 0: the kernel picks; read `localPort`). */
  localPort?: number;
  /** Connects the socket: sends without addresses go there and only its datagrams arrive. */
  remote?: UdpEndpoint;
  /** Sets DF (PMTUDISC_DO): oversize datagrams fail with EMSGSIZE instead of fragmenting. */
  dontFragment?: boolean;
  /** Receive slots per batch, 1..1024 (default 64). */
  batchSize?: number;
  /** Bytes per receive slot, 1..65535 (default 65535). Longer datagrams are truncated and counted. */
  slotBytes?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes (the kernel doubles them and caps at rmem_max/wmem_max). */
  receiveBufferBytes?: number;
  sendBufferBytes?: number;
}

/**
 * Called once per received batch: datagram i is `slots.subarray(i * slotBytes, i * slotBytes +
 * lengths[i])` from the address in slot i of `sources` (see unpackAddress). An entry with
 * `lengths[i] > slotBytes` was truncated (counted in rxTruncated): drop it. The arrays are the
 * socket's own and are overwritten by the next batch: consume or copy before returning.
 */
export type BatchUdpHandler = (slots: Buffer, lengths: Uint32Array, count: number, sources: Uint8Array) => void;

/** Counters read at scrape time. */
export interface BatchUdpStats {
  txPackets: number;
  txBytes: number;
  /** Datagrams not sent because the socket buffer was full (EAGAIN ended the batch). */
  txDropped: number;
  /** Datagrams the kernel refused (EMSGSIZE, ECONNREFUSED, ENETUNREACH, ...), skipped. */
  sendErrors: number;
  /** sendmmsg calls (txPackets / sendCalls is the mean batch). */
  sendCalls: number;
  rxPackets: number;
  rxBytes: number;
  /** Datagrams longer than slotBytes (delivered with lengths[i] > slotBytes). */
  rxTruncated: number;
  /** Errors reported by recvmmsg (e.g. ECONNREFUSED from an ICMP port unreachable). */
  receiveErrors: number;
  /** recvmmsg calls that returned at least one datagram. */
  receiveBatches: number;
  /** Readiness wakeups. */
  wakeups: number;
  /** Code of the last send or receive error ('' when none). */
  lastErrorCode: string;
}

/** A batched UDP socket created by {@link createBatchUdpSocket}. */
export interface BatchUdpSocket {
  readonly family: 4 | 6;
  readonly fd: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remote: UdpEndpoint | undefined;
  readonly slotBytes: number;
  readonly batchSize: number;
  readonly closed: boolean;
  readonly stats: BatchUdpStats;
  /** Starts delivering received batches to `handler` (replaces the previous one). */
  onBatch(handler: BatchUdpHandler): void;
  /**
   * Sends datagrams `start .. start+count-1` (count <= 1024): entry i is `lengths[i]` bytes at
   * `offsets[i]` of `data` (or of `data[i]` when data is an array). With `addrs`, entry i goes to
   * address slot i; without, to the connected remote. Returns how many the kernel accepted or
   * refused (a refused one is counted in sendErrors); the rest (full buffer) are dropped and
   * counted in txDropped. Never throws on datagram content; throws LINKS_INVALID_ARGUMENT for
   * arrays that do not cover the batch.
   */
  sendBatch(data: BatchData, offsets: Uint32Array, lengths: Uint32Array, count: number, addrs?: Uint8Array | null, start?: number): number;
  /** The kernel's path MTU towards the connected remote (IP_MTU): after EMSGSIZE, probe below it. */
  pathMtu(): number;
  /** Stops receiving and closes the socket. Safe to call twice. */
  close(): void;
}

/**
 * Opens a batched UDP socket (needs the batch_io addon: LINKS_NATIVE_UNAVAILABLE otherwise, so
 * callers can fall back to createUdpLink). Throws LINKS_SOCKET when the address cannot be bound
 * or the remote connected, LINKS_INVALID_ARGUMENT for bad options.
 *
 * @example
 * const sock = createBatchUdpSocket({ localAddress: '192.0.2.10', remote: { address: '198.51.100.1', port: 51820 }, dontFragment: true });
 * sock.onBatch((slots, lengths, count) => { for (let i = 0; i < count; i++) open(slots, i * sock.slotBytes, lengths[i]!); });
 * const sent = sock.sendBatch(sealed, offsets, lengths, count);
 * sock.close();
 */
export function createBatchUdpSocket(init: BatchUdpSocketInit): BatchUdpSocket {
  const family = checkInit(init);
  const native = loadBatchIo();
  const batchSize = init.batchSize ?? BATCH_UDP_DEFAULT_BATCH;
  const slotBytes = init.slotBytes ?? BATCH_UDP_DEFAULT_SLOT_BYTES;
  const flags = (init.dontFragment === true ? UDP_FLAG_DONT_FRAGMENT : 0) | (family === 6 ? UDP_FLAG_V6ONLY : 0);
  let fd: number;
  let port: number;
  try {
    [fd, port] = native.udpOpen(family, init.localAddress, init.localPort ?? 0, flags, init.receiveBufferBytes ?? 0, init.sendBufferBytes ?? 0);
  } catch (error) {
    throw socketError(`bind ${init.localAddress}:${init.localPort ?? 0}`, error);
  }
  if (init.remote !== undefined) {
    try {
      native.udpConnect(fd, family, init.remote.address, init.remote.port);
    } catch (error) {
      native.close(fd);
      throw socketError(`connect ${init.remote.address}:${init.remote.port}`, error);
    }
  }
  return new NativeBatchUdpSocket(native, init, family, fd, port, batchSize, slotBytes);
}

class NativeBatchUdpSocket implements BatchUdpSocket {
  readonly family: 4 | 6;
  readonly fd: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remote: UdpEndpoint | undefined;
  readonly slotBytes: number;
  readonly batchSize: number;
  closed = false;
  readonly stats: BatchUdpStats = {
    txPackets: 0,
    txBytes: 0,
    txDropped: 0,
    sendErrors: 0,
    sendCalls: 0,
    rxPackets: 0,
    rxBytes: 0,
    rxTruncated: 0,
    receiveErrors: 0,
    receiveBatches: 0,
    wakeups: 0,
    lastErrorCode: '',
  };
  private readonly native: BatchIoNative;
  private readonly slots: Buffer;
  private readonly lengths: Uint32Array;
  private readonly sources: Uint8Array;
  private handler: BatchUdpHandler | undefined = undefined;
  private poller: ReadableWatch | undefined = undefined;

  constructor(native: BatchIoNative, init: BatchUdpSocketInit, family: 4 | 6, fd: number, port: number, batchSize: number, slotBytes: number) {
    this.native = native;
    this.family = family;
    this.fd = fd;
    this.localAddress = init.localAddress;
    this.localPort = port;
    this.remote = init.remote === undefined ? undefined : { address: init.remote.address, port: init.remote.port };
    this.batchSize = batchSize;
    this.slotBytes = slotBytes;
    // Allocated once; pages beyond what datagrams touch are never made resident.
    this.slots = Buffer.allocUnsafeSlow(batchSize * slotBytes);
    this.lengths = new Uint32Array(batchSize);
    this.sources = new Uint8Array(batchSize * ADDR_SLOT_BYTES);
    this.onReadable = this.onReadable.bind(this);
  }

  onBatch(handler: BatchUdpHandler): void {
    if (this.closed) throw new LinksError('LINKS_STATE', `batch udp socket ${this.localAddress}:${this.localPort} is closed`);
    this.handler = handler;
    if (this.poller !== undefined) return;
    this.poller = watchReadable(this.fd, this.onReadable, 'loop');
  }

  // Level-triggered: whatever is left after BATCH_UDP_MAX_ROUNDS wakes us again next turn.
  private onReadable(): void {
    const handler = this.handler;
    if (this.closed || handler === undefined) return;
    const stats = this.stats;
    stats.wakeups++;
    for (let round = 0; round < BATCH_UDP_MAX_ROUNDS; round++) {
      let count: number;
      try {
        count = this.native.recvBatch(this.fd, this.slots, this.slotBytes, this.batchSize, this.lengths, this.sources);
      } catch (receiveError) {
        // A pending socket error (ICMP unreachable on a connected socket) is reported once, then cleared.
        stats.receiveErrors++;
        stats.lastErrorCode = (receiveError as NativeSystemError).code;
        continue;
      }
      if (count === 0) return;
      stats.receiveBatches++;
      stats.rxPackets += count;
      const lengths = this.lengths;
      for (let i = 0; i < count; i++) {
        const length = lengths[i]!;
        if (length > this.slotBytes) {
          stats.rxTruncated++;
          stats.rxBytes += this.slotBytes;
        } else {
          stats.rxBytes += length;
        }
      }
      handler(this.slots, lengths, count, this.sources);
      if (this.closed || count < this.batchSize) return;
    }
  }

  sendBatch(data: BatchData, offsets: Uint32Array, lengths: Uint32Array, count: number, addrs: Uint8Array | null = null, start = 0): number {
    if (this.closed) {
      this.stats.txDropped += count;
      return 0;
    }
    if (!Number.isInteger(count) || count < 0 || count > BATCH_IO_MAX || !Number.isInteger(start) || start < 0) {
      throw new LinksInvalidArgumentError('count', count, `an integer 0..${BATCH_IO_MAX} with start >= 0`);
    }
    if (start + count > offsets.length || start + count > lengths.length || (addrs !== null && (start + count) * ADDR_SLOT_BYTES > addrs.length)) {
      throw new LinksInvalidArgumentError('count', count, `covered by offsets (${offsets.length}), lengths (${lengths.length}) and addrs from start ${start}`);
    }
    const stats = this.stats;
    const end = start + count;
    let at = start;
    while (at < end) {
      let sent: number;
      try {
        stats.sendCalls++;
        sent = this.native.sendBatch(this.fd, data, offsets, lengths, at, end - at, addrs);
      } catch (error) {
        const failed = error as NativeSystemError;
        if (typeof failed.index !== 'number') throw new LinksInvalidArgumentError('data', 'batch', `a buffer covering every entry (${failed.message})`, { cause: error });
        // Entries before failed.index went out; the failed one is skipped and the batch goes on.
        for (let i = at; i < failed.index; i++) stats.txBytes += lengths[i]!;
        stats.txPackets += failed.index - at;
        stats.sendErrors++;
        stats.lastErrorCode = failed.code;
        at = failed.index + 1;
        continue;
      }
      for (let i = at; i < at + sent; i++) stats.txBytes += lengths[i]!;
      stats.txPackets += sent;
      at += sent;
      if (at < end) {
        stats.txDropped += end - at; // EAGAIN: the socket buffer is full
        return at - start;
      }
    }
    return count;
  }

  pathMtu(): number {
    if (this.closed) throw new LinksError('LINKS_STATE', `batch udp socket ${this.localAddress}:${this.localPort} is closed`);
    try {
      return this.native.pathMtu(this.fd, this.family);
    } catch (error) {
      throw socketError('getsockopt IP_MTU (is the socket connected?)', error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Stop watching before the fd number can be reused.
    this.poller?.close();
    this.poller = undefined;
    this.native.close(this.fd);
  }
}

function checkInit(init: BatchUdpSocketInit): 4 | 6 {
  const family = isIP(init.localAddress);
  if (family === 0) throw new LinksInvalidArgumentError('localAddress', init.localAddress, 'an IPv4 or IPv6 address');
  if (init.family !== undefined && init.family !== family) throw new LinksInvalidArgumentError('family', init.family, `${family} (the family of localAddress ${init.localAddress})`);
  checkInt('localPort', init.localPort, 0, 65535);
  checkInt('batchSize', init.batchSize, 1, BATCH_IO_MAX);
  checkInt('slotBytes', init.slotBytes, 1, 65535);
  checkInt('receiveBufferBytes', init.receiveBufferBytes, 1, 1 << 30);
  checkInt('sendBufferBytes', init.sendBufferBytes, 1, 1 << 30);
  if (init.remote !== undefined) {
    if (isIP(init.remote.address) !== family) throw new LinksInvalidArgumentError('remote.address', init.remote.address, `an IPv${family} address`);
    checkInt('remote.port', init.remote.port, 1, 65535);
  }
  return family as 4 | 6;
}

function checkInt(field: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) throw new LinksInvalidArgumentError(field, value, `an integer ${min}..${max}`);
}

function socketError(what: string, error: unknown): LinksError {
  const code = (error as Partial<NativeSystemError>).code;
  return new LinksError('LINKS_SOCKET', `udp ${what} failed: ${code ?? (error as Error).message}`, { cause: error, details: { operation: what, errno: code } });
}
