/**
 * A Linux TUN device for the data plane. tuntap-bridge creates the device (TUNSETIFF with
 * IFF_TUN | IFF_NO_PI, fd O_NONBLOCK); everything after that goes straight to the fd:
 *
 *   readiness  readable.ts (level-triggered, on the event loop): no polling loop, no CPU idle
 *   read       fs.readSync(fd, slot) into preallocated max-size slots, up to `readBatch`
 *              packets per wakeup, one packet per read(2); the drain ends at EAGAIN (one
 *              exception per wakeup, not per packet). tuntap-bridge's own read() allocates and
 *              copies twice per packet.
 *   write      fs.writeSync(fd, packet): one packet per write(2). Never through a Node stream,
 *              whose buffering would coalesce several packets into one write and corrupt them.
 *   configure  `ip` (tuntap-bridge's configure() is IPv6-only and shells out to sudo)
 *
 * Facts this file works around (all checked in test/tun-device.test.ts):
 * - Signals: see tun-signals.ts (the native module traps SIGINT/SIGTERM).
 * - The native module opens /dev/net/tun without O_CLOEXEC, so every child process spawned
 *   while the device is open inherits the fd and keeps the device alive after we close ours.
 *   close() therefore deletes the interface when it is still there after the fd is closed.
 * - When the interface is deleted from outside, the fd reports EPOLLERR forever (level-
 *   triggered) and read() fails with EBADFD: the device fails once (onError) and closes instead
 *   of spinning.
 */
import { existsSync, readSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { watchReadable, type ReadableWatch } from './readable.js';
import { LinksError } from './errors.js';
import { checkNetns, runIp, runIpSync } from './ip-command.js';
import { rearmSignals, setCloseAllOnSignal, withoutNewSignalListeners } from './tun-signals.js';

/** Largest packet a TUN read can return (IPv4/IPv6 total length is 16 bits). */
export const TUN_MAX_PACKET_BYTES = 65535;
/** Packets read per readiness wakeup before yielding to the event loop. */
export const TUN_DEFAULT_READ_BATCH = 64;

/** Options of {@link openTunDevice}. */
export interface TunDeviceInit {
  /** Interface name (1-15 of [A-Za-z0-9_.-]); the kernel picks tunN when omitted. */
  name?: string;
  /** MTU to set (68..65535). */
  mtu: number;
  /** Addresses in CIDR form, IPv4 or IPv6 (`10.8.0.1/24`, `fd00::1/64`; IPv6 without DAD). */
  addresses?: readonly string[];
  /** Packets drained per wakeup (1..4096, default 64): bounds the time one device holds the loop. */
  readBatch?: number;
  /** Kernel queue towards this process in packets (`txqueuelen`, default: the kernel's 500). */
  txQueueLength?: number;
  /**
   * Named network namespace (`ip netns`) to move the device into before configuring it. This
   * process keeps reading and writing it; `ip` commands then run with `-n`. For labs and tests.
   */
  netns?: string;
}

/**
 * Called with a batch of packets read in one wakeup: `packets[i].subarray(0, lengths[i])` for
 * `i < count`. The buffers are the device's own slots, overwritten by the next batch: consume or
 * copy them before returning.
 */
export type TunPacketHandler = (packets: readonly Buffer[], lengths: Uint16Array, count: number) => void;

/** Counters read at scrape time. */
export interface TunStats {
  /** Packets read from the device (sent by the kernel towards the tunnel). */
  rxPackets: number;
  rxBytes: number;
  /** Packets written to the device (delivered to the kernel). */
  txPackets: number;
  txBytes: number;
  /** Writes refused because the device is down or its queue is full (EIO, EAGAIN, ENOBUFS). */
  txDropped: number;
  /** Writes refused as not an IP packet (EINVAL: first nibble not 4 or 6, empty, too long). */
  txInvalid: number;
  /** Reads that failed with something other than EAGAIN (the device then fails and closes). */
  rxErrors: number;
  /** Readiness wakeups; rxPackets / wakeups is the mean batch. */
  wakeups: number;
}

/** A TUN device opened by {@link openTunDevice}. */
export interface TunDevice {
  readonly name: string;
  readonly fd: number;
  readonly mtu: number;
  /** The namespace the device was moved into, if any. */
  readonly netns: string | undefined;
  readonly closed: boolean;
  readonly stats: TunStats;
  /** Starts delivering packets to `handler`; once per device. */
  onPackets(handler: TunPacketHandler): void;
  /**
   * Called once if the device fails while open (deleted from outside, fd error): reading stops
   * and the device is closed. The error is LINKS_TUN_IO.
   */
  onError(listener: (error: LinksError) => void): void;
  /**
   * Writes one IP packet. Returns false, counting it, when the packet is refused (device down,
   * queue full, not an IP packet) or the device is closed: never throws on packet content and
   * never blocks.
   */
  write(packet: Uint8Array, offset?: number, length?: number): boolean;
  /** Sets the MTU (e.g. after path MTU discovery). */
  setMtu(mtu: number): Promise<void>;
  /** Stops reading and removes the device. Safe to call twice. */
  close(): void;
}

interface NativeTunTap {
  open(): boolean;
  close(): boolean;
  readonly name: string;
  readonly fd: number;
}
type TunTapConstructor = new (name?: string) => NativeTunTap;

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,15}$/;
const EBADFD = 'Unknown system error -77'; // libuv has no name for EBADFD
const openDevices = new Set<LinuxTunDevice>();
let exitHookInstalled = false;

/**
 * Creates and configures a TUN device (needs CAP_NET_ADMIN). Rejects with LINKS_TUN_OPEN when
 * the device cannot be created and LINKS_COMMAND_FAILED when `ip` refuses its configuration
 * (the device is removed again in both cases).
 *
 * @example
 * const tun = await openTunDevice({ name: 'bond0', mtu: 1400, addresses: ['10.8.0.2/24'] });
 * tun.onPackets((packets, lengths, count) => {
 *   for (let i = 0; i < count; i++) uplink.send(packets[i]!, 0, lengths[i]!);
 * });
 * tun.write(decryptedPacket);
 */
export async function openTunDevice(init: TunDeviceInit): Promise<TunDevice> {
  if (init.name !== undefined && !NAME_PATTERN.test(init.name)) {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `tun name ${JSON.stringify(init.name)} is not valid: expected 1-15 of [A-Za-z0-9_.-]`, { details: { field: 'name', value: init.name } });
  }
  checkMtu(init.mtu);
  const readBatch = init.readBatch ?? TUN_DEFAULT_READ_BATCH;
  if (!Number.isInteger(readBatch) || readBatch < 1 || readBatch > 4096) {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `tun readBatch ${readBatch} is not valid: expected an integer 1..4096`, { details: { field: 'readBatch', value: readBatch } });
  }
  const txQueueLength = init.txQueueLength;
  if (txQueueLength !== undefined && (!Number.isInteger(txQueueLength) || txQueueLength < 1 || txQueueLength > 1_000_000)) {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `tun txQueueLength ${txQueueLength} is not valid: expected an integer 1..1000000`, { details: { field: 'txQueueLength', value: txQueueLength } });
  }
  checkNetns(init.netns);
  for (const address of init.addresses ?? []) checkCidr(address);

  const TunTap = await loadTunTap();
  const native = withoutNewSignalListeners(() => new TunTap(init.name ?? ''));
  try {
    if (!native.open()) throw new Error('open() returned false');
  } catch (error) {
    throw new LinksError('LINKS_TUN_OPEN', `cannot open TUN device${init.name === undefined ? '' : ` ${init.name}`}: ${(error as Error).message} (needs CAP_NET_ADMIN and /dev/net/tun)`, { cause: error, details: { name: init.name } });
  }
  const device = new LinuxTunDevice(native, init.mtu, readBatch);
  try {
    if (init.netns !== undefined) {
      await runIp(['link', 'set', 'dev', device.name, 'netns', init.netns]);
      device.netns = init.netns;
    }
    const netns = device.netns;
    const link = ['link', 'set', 'dev', device.name, 'mtu', String(init.mtu)];
    if (txQueueLength !== undefined) link.push('txqueuelen', String(txQueueLength));
    await runIp(link, { netns });
    for (const address of init.addresses ?? []) {
      await runIp(['address', 'add', address, 'dev', device.name, ...(address.includes(':') ? ['nodad'] : [])], { netns });
    }
    await runIp(['link', 'set', 'dev', device.name, 'up'], { netns });
  } catch (error) {
    device.close();
    throw error;
  }
  return device;
}

class LinuxTunDevice implements TunDevice {
  readonly name: string;
  readonly fd: number;
  mtu: number;
  netns: string | undefined = undefined;
  closed = false;
  readonly stats: TunStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txDropped: 0, txInvalid: 0, rxErrors: 0, wakeups: 0 };
  private readonly native: NativeTunTap;
  private readonly slots: Buffer[];
  private readonly lengths: Uint16Array;
  private poller: ReadableWatch | undefined = undefined;
  private handler: TunPacketHandler | undefined = undefined;
  private errorListener: ((error: LinksError) => void) | undefined = undefined;

  constructor(native: NativeTunTap, mtu: number, readBatch: number) {
    this.native = native;
    this.name = native.name;
    this.fd = native.fd;
    this.mtu = mtu;
    // One max-size slot per batch entry, allocated once: reads never allocate. Pages a read
    // never touches (beyond the MTU) are never made resident.
    this.slots = Array.from({ length: readBatch }, () => Buffer.allocUnsafeSlow(TUN_MAX_PACKET_BYTES));
    this.lengths = new Uint16Array(readBatch);
    this.onReadable = this.onReadable.bind(this);
    openDevices.add(this);
    installExitHook();
  }

  onPackets(handler: TunPacketHandler): void {
    if (this.closed) throw new LinksError('LINKS_STATE', `tun ${this.name} is closed`);
    if (this.handler !== undefined) throw new LinksError('LINKS_STATE', `tun ${this.name} already has a packet handler`);
    this.handler = handler;
    this.poller = watchReadable(this.fd, this.onReadable);
  }

  onError(listener: (error: LinksError) => void): void {
    this.errorListener = listener;
  }

  // Level-triggered: if we stop before the queue is empty, we are woken again next turn.
  private onReadable(hangup: boolean): void {
    if (this.closed || this.handler === undefined) return;
    this.stats.wakeups++;
    const slots = this.slots;
    let count = 0;
    let failure: NodeJS.ErrnoException | undefined;
    while (count < slots.length) {
      let length: number;
      try {
        length = readSync(this.fd, slots[count]!, 0, TUN_MAX_PACKET_BYTES, null);
      } catch (readError) {
        if ((readError as NodeJS.ErrnoException).code !== 'EAGAIN') failure = readError as NodeJS.ErrnoException;
        break;
      }
      this.lengths[count] = length;
      this.stats.rxBytes += length;
      count++;
    }
    this.stats.rxPackets += count;
    if (count > 0) this.handler(slots, this.lengths, count);
    // EPOLLERR/EPOLLHUP with nothing to read: the interface is gone (it would fire forever).
    if (failure === undefined && count === 0 && hangup) {
      return this.fail('the fd reported an error or hang-up (interface deleted?)');
    }
    if (failure !== undefined) {
      this.stats.rxErrors++;
      const why = failure.code === EBADFD ? 'EBADFD: interface deleted' : `${failure.code ?? ''} ${failure.message}`.trim();
      this.fail(`read failed: ${why}`, failure);
    }
  }

  private fail(why: string, cause?: unknown): void {
    if (this.closed) return;
    const error = new LinksError('LINKS_TUN_IO', `tun ${this.name} failed: ${why}; the device is closed`, { cause, details: { name: this.name } });
    this.close();
    this.errorListener?.(error);
  }

  write(packet: Uint8Array, offset = 0, length = packet.length - offset): boolean {
    if (this.closed) {
      this.stats.txDropped++;
      return false;
    }
    try {
      writeSync(this.fd, packet, offset, length);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINVAL') {
        this.stats.txInvalid++;
        return false;
      }
      if (code === 'EAGAIN' || code === 'ENOBUFS' || code === 'EIO' || code === EBADFD) {
        this.stats.txDropped++;
        return false;
      }
      throw error; // offset/length outside the buffer: a caller's bug, not packet content
    }
    this.stats.txPackets++;
    this.stats.txBytes += length;
    return true;
  }

  async setMtu(mtu: number): Promise<void> {
    checkMtu(mtu);
    if (this.closed) throw new LinksError('LINKS_STATE', `tun ${this.name} is closed`);
    await runIp(['link', 'set', 'dev', this.name, 'mtu', String(mtu)], { netns: this.netns });
    this.mtu = mtu;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    openDevices.delete(this);
    // Stop watching before the fd is closed and its number possibly reused.
    this.poller?.close();
    this.poller = undefined;
    withoutNewSignalListeners(() => this.native.close());
    // A child process spawned while the device was open holds a copy of the fd (no O_CLOEXEC)
    // and keeps the interface alive: delete it. In another namespace we cannot look, so try.
    if (this.netns !== undefined || existsSync(`/sys/class/net/${this.name}`)) {
      runIpSync(['link', 'delete', 'dev', this.name], this.netns);
    }
  }
}


let tunTapPromise: Promise<TunTapConstructor> | undefined;

async function loadTunTap(): Promise<TunTapConstructor> {
  tunTapPromise ??= (async () => {
    let module: { TunTap: TunTapConstructor };
    try {
      module = (await import('tuntap-bridge')) as unknown as { TunTap: TunTapConstructor };
    } catch (error) {
      tunTapPromise = undefined;
      throw new LinksError('LINKS_TUN_OPEN', `cannot load tuntap-bridge: ${(error as Error).message}`, { cause: error });
    }
    setCloseAllOnSignal(closeAllTunDevices);
    rearmSignals();
    return module.TunTap;
  })();
  return tunTapPromise;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', closeAllTunDevices);
}

/**
 * Closes every TUN device this process opened (runs on exit and on an unhandled SIGINT/SIGTERM).
 *
 * @example
 * process.on('SIGTERM', () => { closeAllTunDevices(); process.exit(0); });
 */
export function closeAllTunDevices(): void {
  for (const device of [...openDevices]) device.close();
}

function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `tun mtu ${mtu} is not valid: expected an integer 68..65535`, { details: { field: 'mtu', value: mtu } });
  }
}

function checkCidr(address: string): void {
  const slash = address.indexOf('/');
  const ip = slash < 0 ? '' : address.slice(0, slash);
  const prefix = slash < 0 ? '' : address.slice(slash + 1);
  const family = isIP(ip);
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
  if (family === 0 || bits < 0 || bits > (family === 4 ? 32 : 128)) {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `tun address ${JSON.stringify(address)} is not valid: expected CIDR like 10.8.0.1/24 or fd00::1/64`, { details: { field: 'addresses', value: address } });
  }
}
