/**
 * Batched reads and writes on a TUN fd (TunDevice.fd, IFF_NO_PI, O_NONBLOCK) through the
 * batch_io addon: one JS->C call per batch instead of one fs.readSync/writeSync per packet. A
 * TUN fd takes one packet per read(2)/write(2), so the syscalls stay; the crossings and the
 * per-call exception on EAGAIN go.
 *
 *   read()   fills `slots` (batchSize x slotBytes) until EAGAIN or the batch is full
 *   write()  writes entries start..start+count-1; a full queue (EAGAIN) ends the batch (the rest
 *            is dropped and counted), a refused packet (EINVAL: not IP; EIO/ENOBUFS: device
 *            down) is skipped and counted, as TunDevice.write does
 */
import { BATCH_IO_MAX, loadBatchIo, type BatchData, type BatchIoNative, type NativeSystemError } from './batch-native.js';
import { LinksError, LinksInvalidArgumentError } from './errors.js';

/** Options of {@link createTunBatchIo}. */
export interface TunBatchIoInit {
  /** The TUN fd (TunDevice.fd). The caller keeps owning it: nothing here closes it. */
  fd: number;
  /** Read slots per batch, 1..1024 (default 64). */
  batchSize?: number;
  /** Bytes per read slot, 1..65535 (default 65535: no packet is cut). */
  slotBytes?: number;
}

/** Counters, same meaning as TunStats. */
export interface TunBatchStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Packets not written: queue full (EAGAIN), device down (EIO, ENOBUFS, EBADFD). */
  txDropped: number;
  /** Packets refused as not IP (EINVAL). */
  txInvalid: number;
}

/** Batched I/O on a TUN fd created by {@link createTunBatchIo}. */
export interface TunBatchIo {
  readonly fd: number;
  /** Read slots: packet i of the last read() is `slots.subarray(i * slotBytes, i * slotBytes + lengths[i])`. */
  readonly slots: Buffer;
  readonly lengths: Uint32Array;
  readonly slotBytes: number;
  readonly batchSize: number;
  readonly stats: TunBatchStats;
  /** Reads up to batchSize packets into `slots`; 0 when none is queued. Throws LINKS_TUN_IO on a device error. */
  read(): number;
  /** Writes entries start..start+count-1 (count <= 1024); returns how many were written or refused. */
  write(data: BatchData, offsets: Uint32Array, lengths: Uint32Array, count: number, start?: number): number;
}

/**
 * Batched I/O on an open TUN fd (needs the batch_io addon: LINKS_NATIVE_UNAVAILABLE otherwise).
 *
 * @example
 * const io = createTunBatchIo({ fd: tun.fd });
 * io.write(opened, offsets, lengths, count); // decrypted packets towards the kernel
 * const n = io.read();                       // packets from the kernel, in io.slots
 */
export function createTunBatchIo(init: TunBatchIoInit): TunBatchIo {
  const batchSize = init.batchSize ?? 64;
  const slotBytes = init.slotBytes ?? 65535;
  if (!Number.isInteger(init.fd) || init.fd < 0) throw new LinksInvalidArgumentError('fd', init.fd, 'an open file descriptor');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > BATCH_IO_MAX) throw new LinksInvalidArgumentError('batchSize', batchSize, `an integer 1..${BATCH_IO_MAX}`);
  if (!Number.isInteger(slotBytes) || slotBytes < 1 || slotBytes > 65535) throw new LinksInvalidArgumentError('slotBytes', slotBytes, 'an integer 1..65535');
  return new NativeTunBatchIo(loadBatchIo(), init.fd, batchSize, slotBytes);
}

class NativeTunBatchIo implements TunBatchIo {
  readonly fd: number;
  readonly slots: Buffer;
  readonly lengths: Uint32Array;
  readonly slotBytes: number;
  readonly batchSize: number;
  readonly stats: TunBatchStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txDropped: 0, txInvalid: 0 };
  private readonly native: BatchIoNative;

  constructor(native: BatchIoNative, fd: number, batchSize: number, slotBytes: number) {
    this.native = native;
    this.fd = fd;
    this.batchSize = batchSize;
    this.slotBytes = slotBytes;
    this.slots = Buffer.allocUnsafeSlow(batchSize * slotBytes);
    this.lengths = new Uint32Array(batchSize);
  }

  read(): number {
    let count: number;
    try {
      count = this.native.readBatch(this.fd, this.slots, this.slotBytes, this.batchSize, this.lengths);
    } catch (error) {
      const code = (error as NativeSystemError).code;
      throw new LinksError('LINKS_TUN_IO', `tun fd ${this.fd} read failed: ${code}${code === 'EBADFD' ? ' (interface deleted)' : ''}`, { cause: error, details: { fd: this.fd } });
    }
    const stats = this.stats;
    stats.rxPackets += count;
    for (let i = 0; i < count; i++) stats.rxBytes += this.lengths[i]!;
    return count;
  }

  write(data: BatchData, offsets: Uint32Array, lengths: Uint32Array, count: number, start = 0): number {
    if (!Number.isInteger(count) || count < 0 || count > BATCH_IO_MAX || !Number.isInteger(start) || start < 0 || start + count > offsets.length || start + count > lengths.length) {
      throw new LinksInvalidArgumentError('count', count, `an integer 0..${BATCH_IO_MAX} covered by offsets and lengths from start ${start}`);
    }
    const stats = this.stats;
    const end = start + count;
    let at = start;
    while (at < end) {
      let written: number;
      try {
        written = this.native.writeBatch(this.fd, data, offsets, lengths, at, end - at);
      } catch (error) {
        const failed = error as NativeSystemError;
        if (typeof failed.index !== 'number') throw new LinksInvalidArgumentError('data', 'batch', `a buffer covering every entry (${failed.message})`, { cause: error });
        for (let i = at; i < failed.index; i++) stats.txBytes += lengths[i]!;
        stats.txPackets += failed.index - at;
        if (failed.code === 'EINVAL') stats.txInvalid++;
        else if (failed.code === 'EIO' || failed.code === 'ENOBUFS' || failed.code === 'EBADFD') stats.txDropped++;
        else throw new LinksError('LINKS_TUN_IO', `tun fd ${this.fd} write failed: ${failed.code}`, { cause: error, details: { fd: this.fd } });
        at = failed.index + 1;
        continue;
      }
      for (let i = at; i < at + written; i++) stats.txBytes += lengths[i]!;
      stats.txPackets += written;
      at += written;
      if (at < end) {
        stats.txDropped += end - at; // EAGAIN: the device queue is full
        return at - start;
      }
    }
    return count;
  }
}
