/**
 * A link: one UDP socket bound to one uplink's source address, optionally connected to the
 * remote end, optionally with the policy route that makes its packets leave by that uplink
 * (policy-routing.ts; Node's dgram has no SO_BINDTODEVICE, the source address is the handle).
 *
 * Hot path, per packet:
 *   send     socket.send(buf, offset, length, onSent): no closure of ours; one shared bound
 *            callback counts bytes and errors (dgram reports a failed send only to a callback:
 *            without one, errors vanish). Each send is one sendmsg(2) (uv_udp_try_send).
 *   receive  the handler gets (data, from) where `from` is ONE object per link, overwritten
 *            for every datagram: read it during the call, copy it if you keep it.
 *
 * Batching (`batched: true`): udp-link-batched.ts, the same interface over sendmmsg/recvmmsg.
 * Without it, dgram has no sendmmsg. `send([a, b])` is ONE datagram (scatter/gather), and a
 * cork-like "queue, then flush" only adds a copy: the number of syscalls stays one per
 * datagram. Measured on loopback (1400-byte datagrams, one core, README "Measurements"):
 * connected sends are ~15% faster than unconnected (no per-send address lookup), and the
 * shared callback costs ~3%.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { batchIoAvailable } from './batch-native.js';
import { LinksError } from './errors.js';
import { openBatchedLink } from './udp-link-batched.js';
import { installSourceRoute, POLICY_RULE_PRIORITY_MIN, type SourceRoute } from './policy-routing.js';

/** A UDP endpoint. */
export interface UdpEndpoint {
  address: string;
  port: number;
}

/** Options of {@link createUdpLink}. */
export interface UdpLinkInit {
  /** Stable link id (the scheduler's link id). */
  id: string;
  /** Free-form label (from discovery, e.g. `fiber`, `lte`). */
  label?: string;
  /** The uplink's local address to bind (IPv4 or IPv6). */
  localAddress: string;
  /** Local port (default 0: the kernel picks one). */
  localPort?: number;
  /** Connect to this remote: `send()` then needs no address and skips the per-send lookup. */
  remote?: UdpEndpoint;
  /** Install a source route in this table (policy-routing.ts) before binding; removed by close(). */
  table?: number;
  /** Next hop for the source route (omit on point-to-point uplinks). */
  gateway?: string;
  /** The uplink interface; required with `table`. */
  interface?: string;
  /** Rule priority for the source route (default POLICY_RULE_PRIORITY_MIN). */
  priority?: number;
  /** SO_RCVBUF in bytes (capped by net.core.rmem_max). */
  receiveBufferBytes?: number;
  /** SO_SNDBUF in bytes (capped by net.core.wmem_max). */
  sendBufferBytes?: number;
  /**
   * Move datagrams in batches (sendmmsg/recvmmsg through the batch_io addon; udp-link-batched.ts):
   * sends are queued and leave together when the current JS task ends, received data is a view
   * valid only during the handler call. Falls back to node:dgram when the addon is not built
   * (read `batched` on the link). Default false.
   */
  batched?: boolean;
}

/**
 * Receives one datagram. `from` is the link's one reused endpoint object, valid during the call.
 * `data` is the datagram Node allocated; keep it if you like.
 */
export type UdpMessageHandler = (data: Buffer, from: UdpEndpoint) => void;

/** Counters read at scrape time. */
export interface UdpLinkStats {
  /** Datagrams the kernel accepted (counted when the send completes). */
  txPackets: number;
  txBytes: number;
  rxPackets: number;
  rxBytes: number;
  /** Sends that failed (no route, EPERM from a firewall, ECONNREFUSED, EMSGSIZE, ...). */
  sendErrors: number;
  /** Batched links: datagrams dropped because the socket buffer was full (EAGAIN); 0 on dgram, which queues them in memory instead. */
  txDropped: number;
  /** Socket errors reported on receive (e.g. ECONNREFUSED from an ICMP port unreachable). */
  receiveErrors: number;
  /** Sends on a closed link (dropped). */
  sendsAfterClose: number;
  /** Code of the last send or receive error ('' when none). */
  lastErrorCode: string;
}

/** A UDP link created by {@link createUdpLink}. */
export interface UdpLink {
  readonly id: string;
  readonly label: string | undefined;
  readonly family: 4 | 6;
  readonly localAddress: string;
  /** The bound port (the kernel's choice when localPort was 0). */
  readonly localPort: number;
  readonly remote: UdpEndpoint | undefined;
  /** The source route this link installed, if any. */
  readonly route: SourceRoute | undefined;
  readonly closed: boolean;
  /** True when the link moves datagrams in batches (UdpLinkInit.batched and the addon loads). */
  readonly batched: boolean;
  readonly stats: UdpLinkStats;
  /** Sends `length` bytes of `data` from `offset` to the connected remote; false when closed. */
  send(data: Uint8Array, offset?: number, length?: number): boolean;
  /** Sends to `port`/`address` (unconnected links: a server's uplink serving many peers). */
  sendTo(data: Uint8Array, offset: number, length: number, port: number, address: string): boolean;
  /** Sets the receive handler (replaces the previous one). */
  onMessage(handler: UdpMessageHandler): void;
  /** Sends what is queued now instead of at the end of the JS task (batched links; no-op otherwise). */
  flush(): void;
  /** Closes the socket and removes the source route it installed. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Binds (and connects) a link's UDP socket, after installing its source route when `table` is
 * given. Rejects with LINKS_SOCKET when the address cannot be bound (not local, port in use) or
 * the remote cannot be connected, LINKS_INVALID_ARGUMENT for bad options, and the policy-routing
 * errors for the route.
 *
 * @example
 * const link = await createUdpLink({ id: 'wan0', localAddress: '192.0.2.10', remote: { address: '198.51.100.1', port: 51820 },
 *   table: 101, gateway: '192.0.2.1', interface: 'wan0' });
 * link.onMessage((data, from) => receive(link.id, data));
 * link.send(sealed, 0, sealedLength);
 * await link.close();
 */
export async function createUdpLink(init: UdpLinkInit): Promise<UdpLink> {
  const family = checkInit(init);
  let route: SourceRoute | undefined;
  if (init.table !== undefined) {
    route = await installSourceRoute({
      source: init.localAddress,
      table: init.table,
      gateway: init.gateway,
      device: init.interface!,
      priority: init.priority ?? POLICY_RULE_PRIORITY_MIN,
    });
  }
  if (init.batched === true && batchIoAvailable()) {
    try {
      return openBatchedLink(init, family, route);
    } catch (error) {
      await route?.remove().catch(() => undefined);
      throw error;
    }
  }
  const socket = createSocket(family === 4 ? { type: 'udp4' } : { type: 'udp6', ipv6Only: true });
  const link = new DgramLink(init, family, socket, route);
  try {
    await link.open(init);
  } catch (error) {
    await link.close().catch(() => undefined);
    throw error;
  }
  return link;
}

class DgramLink implements UdpLink {
  readonly id: string;
  readonly label: string | undefined;
  readonly family: 4 | 6;
  readonly localAddress: string;
  localPort = 0;
  remote: UdpEndpoint | undefined = undefined;
  readonly route: SourceRoute | undefined;
  closed = false;
  readonly batched = false;
  readonly stats: UdpLinkStats = { txPackets: 0, txBytes: 0, rxPackets: 0, rxBytes: 0, sendErrors: 0, txDropped: 0, receiveErrors: 0, sendsAfterClose: 0, lastErrorCode: '' };
  private readonly socket: Socket;
  private readonly from: UdpEndpoint = { address: '', port: 0 };
  private handler: UdpMessageHandler = noop;
  private closing: Promise<void> | undefined = undefined;

  constructor(init: UdpLinkInit, family: 4 | 6, socket: Socket, route: SourceRoute | undefined) {
    this.id = init.id;
    this.label = init.label;
    this.family = family;
    this.localAddress = init.localAddress;
    this.route = route;
    this.socket = socket;
    this.onSent = this.onSent.bind(this);
    this.onDatagram = this.onDatagram.bind(this);
    this.onSocketError = this.onSocketError.bind(this);
    socket.on('message', this.onDatagram);
  }

  async open(init: UdpLinkInit): Promise<void> {
    const socket = this.socket;
    await socketStep(socket, 'listening', `bind ${init.localAddress}:${init.localPort ?? 0}`, () =>
      socket.bind({ address: init.localAddress, port: init.localPort ?? 0, exclusive: true }),
    );
    this.localPort = socket.address().port;
    if (init.receiveBufferBytes !== undefined) socket.setRecvBufferSize(init.receiveBufferBytes);
    if (init.sendBufferBytes !== undefined) socket.setSendBufferSize(init.sendBufferBytes);
    if (init.remote !== undefined) {
      const { port, address } = init.remote;
      await socketStep(socket, 'connect', `connect ${address}:${port}`, () => socket.connect(port, address));
      this.remote = { address, port };
    }
    // From here on a socket error (e.g. ECONNREFUSED on receive) is counted, never thrown.
    socket.on('error', this.onSocketError);
  }

  send(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (this.closed) {
      this.stats.sendsAfterClose++;
      return false;
    }
    this.socket.send(data, offset, length, this.onSent);
    return true;
  }

  sendTo(data: Uint8Array, offset: number, length: number, port: number, address: string): boolean {
    if (this.closed) {
      this.stats.sendsAfterClose++;
      return false;
    }
    this.socket.send(data, offset, length, port, address, this.onSent);
    return true;
  }

  onMessage(handler: UdpMessageHandler): void {
    this.handler = handler;
  }

  flush(): void {}

  private onSent(error: Error | null, bytes?: number): void {
    if (error === null) {
      this.stats.txPackets++;
      this.stats.txBytes += bytes ?? 0;
      return;
    }
    this.stats.sendErrors++;
    this.stats.lastErrorCode = (error as NodeJS.ErrnoException).code ?? 'ERROR';
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo): void {
    this.stats.rxPackets++;
    this.stats.rxBytes += data.length;
    const from = this.from;
    from.address = rinfo.address;
    from.port = rinfo.port;
    this.handler(data, from);
  }

  private onSocketError(error: Error): void {
    this.stats.receiveErrors++;
    this.stats.lastErrorCode = (error as NodeJS.ErrnoException).code ?? 'ERROR';
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound: nothing to close
      }
    });
    this.socket.removeAllListeners();
    await this.route?.remove();
  }
}

function noop(): void {}

/** Runs one socket operation that ends in `event` or 'error'; the error becomes LINKS_SOCKET. */
function socketStep(socket: Socket, event: 'listening' | 'connect', what: string, action: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      socket.off(event, onOk);
      socket.off('error', done);
      if (error === undefined) return resolve();
      const code = (error as NodeJS.ErrnoException).code;
      reject(new LinksError('LINKS_SOCKET', `udp ${what} failed: ${code ?? error.message}`, { cause: error, details: { operation: what, errno: code } }));
    };
    const onOk = (): void => done();
    socket.once(event, onOk);
    socket.once('error', done);
    try {
      action();
    } catch (error) {
      done(error as Error);
    }
  });
}

function checkInit(init: UdpLinkInit): 4 | 6 {
  if (typeof init.id !== 'string' || init.id === '') invalid('id', init.id, 'a non-empty string');
  const family = isIP(init.localAddress);
  if (family === 0) invalid('localAddress', init.localAddress, 'an IPv4 or IPv6 address');
  if (init.localPort !== undefined && !isPort(init.localPort, true)) invalid('localPort', init.localPort, 'a port 0..65535');
  if (init.remote !== undefined) {
    if (isIP(init.remote.address) !== family) invalid('remote.address', init.remote.address, `an IPv${family} address like localAddress`);
    if (!isPort(init.remote.port, false)) invalid('remote.port', init.remote.port, 'a port 1..65535');
  }
  if (init.table !== undefined && init.interface === undefined) invalid('interface', init.interface, 'the uplink interface name (required with table)');
  for (const field of ['receiveBufferBytes', 'sendBufferBytes'] as const) {
    const v = init[field];
    if (v !== undefined && (!Number.isInteger(v) || v < 1024 || v > 1 << 30)) invalid(field, v, 'an integer 1024..2^30');
  }
  return family as 4 | 6;
}

function isPort(port: number, allowZero: boolean): boolean {
  return Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65535;
}

function invalid(field: string, value: unknown, expected: string): never {
  throw new LinksError('LINKS_INVALID_ARGUMENT', `udp link ${field} ${JSON.stringify(value)} is not valid: expected ${expected}`, { details: { field, value, expected } });
}
