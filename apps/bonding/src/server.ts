/**
 * The server's data plane: one UDP socket (bound to the listen address: replies leave from
 * the address clients connected to), one TUN device, many clients.
 *
 *   handshake   one responder for all clients (handshake.ts); a completed handshake names a
 *               configured client (PSK name or certificate subject) and installs a session in
 *               the session table: a new client gets a Peer (its links appear as datagrams
 *               arrive on them), a known one a rekey (the previous session opens for 10 s)
 *   receive     the receiver index finds the session; each link's endpoint is what its last
 *               authentic datagram came from (roaming, never on an unauthenticated packet)
 *   send        TUN packets are routed by destination IPv4 address to the client whose
 *               tunAddress it is, then scheduled over that client's links (downstream bonding)
 *   timers      the session table sweep (idle clients, grace periods, lifetimes) each second
 */
import { createUdpLink, openTunDevice } from '@edgebox/links';
import type { LinkTransition, TunDevice, UdpEndpoint, UdpLink } from '@edgebox/links';
import type { HandshakeResponder, HandshakeResult } from '@edgebox/crypto';
import { isIP } from 'node:net';
import type { BondingConfig, BondingServerClientConfig } from './config.js';
import { ipv6Bytes, parseCidr, parseHostPort } from './config.js';
import { CLOSE_REASON_SHUTDOWN, LINK_MTU_DEFAULT, TYPE_CLOSE, REORDER_CAPACITY_DEFAULT, REORDER_WAIT_MIN_MS, SOCKET_BUFFER_BYTES, SWEEP_INTERVAL_MS } from './constants.js';
import { BondingError } from './errors.js';
import type { FeedbackReport } from './feedback.js';
import { createServerResponder, serverClientOf } from './handshake.js';
import type { ServerClient } from './handshake.js';
import { tunMtuFor } from './mtu.js';
import { enableNat } from './nat.js';
import type { NatHandle } from './nat.js';
import { Peer, PeerLink } from './peer.js';
import { createPlaneBuffers, createPlaneCounters } from './plane.js';
import type { Plane, PlaneCounters, PlaneHooks, SendRing } from './plane.js';
import { onDatagram } from './receive.js';
import { requestRetransmits } from './retransmit.js';
import { onTunPackets, transmit } from './send.js';
import { createSession } from './session.js';
import type { BondingSession, SessionInit } from './session.js';
import { clientKeyOf, createSessionTable } from './session-table.js';
import type { SessionTable } from './session-table.js';
import { startTicker } from './timers.js';

/** The running server plane. */
export interface ServerPlane extends Plane {
  readonly table: SessionTable<Peer>;
  readonly listen: UdpEndpoint;
  /** Connected clients by key (psk:name or cert:fingerprint). */
  readonly clients: ReadonlyMap<string, Peer>;
  /** Links whose endpoint changed (roaming). */
  readonly roams: number;
  readonly nat: NatHandle | null;
  /** Swap the configured clients (reload): removed or re-addressed clients are disconnected. */
  applyReload(config: BondingConfig, clients: readonly ServerClient[]): void;
  stop(): Promise<void>;
}

/** Options of startServerPlane(). */
export interface ServerPlaneInit {
  config: BondingConfig;
  clients: readonly ServerClient[];
  hooks: PlaneHooks;
  warn(message: string, error: unknown): void;
  /** Session limits (default: bonding.md §6); shorter key lifetimes are for tests and labs. */
  session?: Omit<SessionInit, 'nowMs'> | undefined;
}

/**
 * Start a server: socket, TUN, NAT when enabled, ticker. Rejects with BONDING_START when the
 * socket or the TUN cannot be opened (what was opened is closed again).
 *
 * @example
 * const plane = await startServerPlane({ config, clients: await loadServerClients(config), hooks, warn });
 * plane.clients.size; // connected clients
 */
export async function startServerPlane(init: ServerPlaneInit): Promise<ServerPlane> {
  const plane = new ServerPlaneImpl(init);
  try {
    await plane.open();
  } catch (error) {
    await plane.stop();
    throw error;
  }
  return plane;
}

const CLOSE_PAYLOAD = Uint8Array.of(0, CLOSE_REASON_SHUTDOWN);

/** IPv4 text → u32 (the route key). */
function ipv4ToU32(address: string): number {
  const p = address.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

class ServerPlaneImpl implements ServerPlane {
  readonly mode = 'server' as const;
  tun!: TunDevice;
  readonly tunMtu: number;
  readonly ring: SendRing;
  readonly pickOut: Int32Array;
  readonly report: FeedbackReport;
  readonly feedbackPayload: Uint8Array;
  readonly nackPayload: Uint8Array;
  readonly counters: PlaneCounters = createPlaneCounters();
  socket: UdpLink | null = null;
  hitPeer: Peer | null = null;
  readonly table: SessionTable<Peer>;
  readonly listen: UdpEndpoint;
  readonly clients = new Map<string, Peer>();
  roams = 0;
  nat: NatHandle | null = null;
  private readonly routes = new Map<number, Peer>();
  /** IPv6 routes: by the address's last 32 bits, then the full 16 bytes compared (no key string per packet). */
  private readonly routes6 = new Map<number, { bytes: Uint8Array; peer: Peer }[]>();
  private configured: readonly ServerClient[];
  private responder: HandshakeResponder | null = null;
  private stopTicker: (() => void) | null = null;
  private nextSweepMs = 0;
  private stopped = false;
  private config: BondingConfig;

  constructor(private readonly init: ServerPlaneInit) {
    this.config = init.config;
    this.configured = init.clients;
    const hp = parseHostPort(init.config.server!.listen)!;
    this.listen = { address: hp.host, port: hp.port };
    this.tunMtu = init.config.tun.mtu === 'auto' ? tunMtuFor([{ mtu: LINK_MTU_DEFAULT, family: isIP(hp.host) === 6 ? 6 : 4 }]) : init.config.tun.mtu;
    const b = createPlaneBuffers(this.tunMtu);
    this.ring = b.ring;
    this.pickOut = b.pickOut;
    this.report = b.report;
    this.feedbackPayload = b.feedbackPayload;
    this.nackPayload = b.nackPayload;
    this.table = createSessionTable<Peer>({ maxClients: init.config.server!.maxClients });
  }

  async open(): Promise<void> {
    const config = this.config;
    this.responder = await createServerResponder(config, () => this.configured);
    try {
      this.socket = await createUdpLink({
        id: 'listen',
        localAddress: this.listen.address,
        localPort: this.listen.port,
        receiveBufferBytes: 2 * SOCKET_BUFFER_BYTES,
        sendBufferBytes: 2 * SOCKET_BUFFER_BYTES,
        batched: true, // sendmmsg/recvmmsg when the addon is built (links' udp-link-batched.ts)
      });
    } catch (cause) {
      throw new BondingError('BONDING_START', `listen ${config.server!.listen} failed: ${(cause as Error).message}`, { cause });
    }
    const cidr = parseCidr(config.tun.address)!;
    try {
      this.tun = await openTunDevice({ name: config.tun.name, mtu: this.tunMtu, addresses: [`${cidr.address}/${cidr.prefix}`, ...(config.tun.address6 === undefined ? [] : [config.tun.address6])], ...(config.tun.netns === undefined ? {} : { netns: config.tun.netns }) });
    } catch (cause) {
      throw new BondingError('BONDING_START', `tun ${config.tun.name} cannot be opened: ${(cause as Error).message}`, { cause });
    }
    const nat = config.server!.nat;
    if (nat.enabled) this.nat = await enableNat({ tunName: config.tun.name, tunCidr: config.tun.address, tunCidr6: config.tun.address6, outInterface: nat.outInterface, netns: config.tun.netns });
    this.socket.onMessage((data, from) => onDatagram(this, data, from, performance.now()));
    this.tun.onPackets((packets, lengths, count) => onTunPackets(this, packets, lengths, count));
    this.tun.onError((error) => this.init.warn(`tun ${this.tun.name} failed`, error));
    this.stopTicker = startTicker(this);
  }

  // -- Plane ------------------------------------------------------------------------------------

  resolve(index: number): BondingSession | undefined {
    const hit = this.table.lookup(index);
    if (hit === undefined) return undefined;
    this.hitPeer = hit.client.context!;
    return hit.session;
  }

  route(packet: Uint8Array): Peer | undefined {
    const version = packet[0]! >> 4;
    if (version === 4 && packet.length >= 20) return this.routes.get(((packet[16]! << 24) | (packet[17]! << 16) | (packet[18]! << 8) | packet[19]!) >>> 0);
    if (version !== 6 || packet.length < 40) return undefined;
    // destination address: bytes 24..39
    const candidates = this.routes6.get(((packet[36]! << 24) | (packet[37]! << 16) | (packet[38]! << 8) | packet[39]!) >>> 0);
    if (candidates === undefined) return undefined;
    for (let c = 0; c < candidates.length; c++) {
      const bytes = candidates[c]!.bytes;
      let same = true;
      for (let i = 0; i < 12; i++) {
        if (packet[24 + i] !== bytes[i]) {
          same = false;
          break;
        }
      }
      if (same) return candidates[c]!.peer;
    }
    return undefined;
  }

  private setRoute6(peer: Peer): void {
    if (peer.tunAddress6 === '') return;
    const bytes = ipv6Bytes(peer.tunAddress6);
    const key = ((bytes[12]! << 24) | (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!) >>> 0;
    const list = (this.routes6.get(key) ?? []).filter((r) => r.peer.tunAddress6 !== peer.tunAddress6);
    list.push({ bytes, peer });
    this.routes6.set(key, list);
  }

  private deleteRoute6(peer: Peer): void {
    if (peer.tunAddress6 === '') return;
    const bytes = ipv6Bytes(peer.tunAddress6);
    const key = ((bytes[12]! << 24) | (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!) >>> 0;
    const list = (this.routes6.get(key) ?? []).filter((r) => r.peer !== peer);
    if (list.length === 0) this.routes6.delete(key);
    else this.routes6.set(key, list);
  }

  linkFor(peer: Peer, linkId: number, nowMs: number): PeerLink | undefined {
    const link = peer.byLinkId[linkId];
    if (link !== undefined) return link;
    // cold: a client link seen for the first time; its downstream settings from the client's entry
    const l = this.linkSettings(peer.name, linkId);
    const fresh = new PeerLink({
      name: l?.name ?? `link${linkId}`,
      linkId,
      label: l?.label,
      tier: l?.tier ?? 'primary',
      weight: l?.weight ?? 1,
      capBytesPerSec: l?.rateCapMbps === undefined ? undefined : l.rateCapMbps * 125_000,
      dataCapBytes: l?.dataCapMB === undefined ? undefined : l.dataCapMB * 1_000_000,
      nowMs,
      downAfterMs: this.config.server!.linkDownAfterMs,
      onTransition: (l: PeerLink, t: LinkTransition) => this.init.hooks.linkState(peer, l, t),
    });
    peer.addLink(fresh);
    return fresh;
  }

  /** The configured downstream settings of `client`'s link `linkId` (cold). */
  private linkSettings(client: string, linkId: number): BondingServerClientConfig['links'][number] | undefined {
    return this.configured.find((c) => c.config.name === client)?.config.links.find((x) => x.id === linkId);
  }

  onAuthentic(_peer: Peer, _session: BondingSession, link: PeerLink, from: UdpEndpoint): void {
    if (link.port !== from.port || link.address !== from.address) {
      if (link.port !== 0) this.roams++;
      link.address = from.address;
      link.port = from.port;
    }
  }

  onHandshake(data: Uint8Array, from: UdpEndpoint, nowMs: number): void {
    this.counters.handshakeMessages++;
    const responder = this.responder;
    const socket = this.socket;
    if (responder === null || socket === null) return;
    const address = `${from.address}:${from.port}`; // cold: handshakes only
    let step;
    try {
      step = responder.receive(data, { peerAddress: address });
    } catch (error) {
      this.counters.handshakeRefused++;
      this.init.hooks.handshakeFailed(address, (error as { code?: string }).code ?? 'ERROR', (error as Error).message);
      return;
    }
    if (step.send !== undefined) socket.sendTo(step.send, 0, step.send.length, from.port, from.address);
    if (step.result !== undefined) this.install(step.result, address, nowMs);
  }

  private install(result: HandshakeResult, address: string, nowMs: number): void {
    const configured = serverClientOf(result.peer, this.configured);
    if (configured === undefined) {
      result.destroy();
      this.counters.handshakeRefused++;
      this.init.hooks.handshakeFailed(address, 'unknown-client', 'the handshake named no configured client');
      return;
    }
    const session = createSession(result, { ...this.init.session, nowMs });
    const key = clientKeyOf(session.peer);
    const outcome = this.table.install(key, session, nowMs);
    if (outcome === 'full' || outcome === 'collision') {
      session.destroy();
      this.counters.handshakeRefused++;
      this.init.hooks.handshakeFailed(address, outcome === 'full' ? 'server-full' : 'index-collision', `session not installed: ${outcome}`);
      return;
    }
    const entry = this.table.client(key)!;
    this.counters.sessionsEstablished++;
    if (outcome === 'replaced' && entry.context !== undefined) {
      const peer = entry.context;
      peer.sealer = session;
      peer.checkSeqJump = true; // a rekey keeps the data sequence; a restarted client does not
      this.counters.rekeys++;
      this.init.hooks.session(peer, 'rekeyed', `${session.aead} from ${address}`);
      return;
    }
    const peer: Peer = new Peer({
      name: configured.config.name,
      tunAddress: configured.config.tunAddress,
      tunAddress6: configured.config.tunAddress6,
      scheduler: configured.config.scheduler ?? this.config.server!.scheduler,
      reorderCapacity: REORDER_CAPACITY_DEFAULT,
      slotBytes: this.tunMtu,
      minWaitMs: REORDER_WAIT_MIN_MS,
      retransmitPackets: this.config.server!.retransmit.enabled ? this.config.server!.retransmit.bufferPackets : 0,
      deliver: (packet) => {
        // one closure per client (cold); runs per delivered packet
        if (this.tun.write(packet)) {
          peer.counters.rxPackets++;
          peer.counters.rxBytes += packet.length;
        } else peer.counters.tunDropped++;
      },
    });
    if (peer.retransmit !== null) peer.reorder.onTimeout = (seq, now) => requestRetransmits(this, peer, seq, now); // cold: per client
    peer.sealer = session;
    peer.establishedAtMs = nowMs;
    peer.lastAuthMs = nowMs;
    entry.context = peer;
    this.clients.set(key, peer);
    this.routes.set(ipv4ToU32(configured.config.tunAddress), peer);
    this.setRoute6(peer);
    this.init.hooks.session(peer, 'established', `${session.aead} from ${address}`);
  }

  onClose(peer: Peer): void {
    for (const [key, p] of this.clients) {
      if (p !== peer) continue;
      this.table.remove(key);
      this.forget(key, p, 'closed', 'the client closed the session');
      return;
    }
  }

  private forget(key: string, peer: Peer, event: 'closed' | 'expired', why: string): void {
    this.clients.delete(key);
    const route = ipv4ToU32(peer.tunAddress);
    if (this.routes.get(route) === peer) this.routes.delete(route);
    this.deleteRoute6(peer);
    peer.sealer = null;
    peer.reorder.flush();
    this.init.hooks.session(peer, event, why);
  }

  peers(): Iterable<Peer> {
    return this.clients.values();
  }

  onTick(nowMs: number): void {
    if (nowMs < this.nextSweepMs || this.stopped) return;
    this.nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
    this.table.sweep(nowMs);
    for (const [key, peer] of this.clients) {
      const entry = this.table.client(key);
      if (entry === undefined) this.forget(key, peer, 'expired', 'idle or past its lifetime');
      else peer.sealer = entry.current;
    }
  }

  applyReload(config: BondingConfig, clients: readonly ServerClient[]): void {
    this.config = config;
    this.configured = clients;
    for (const [key, peer] of [...this.clients]) {
      const still = clients.find((c) => c.config.name === peer.name);
      if (still === undefined || still.config.tunAddress !== peer.tunAddress || (still.config.tunAddress6 ?? '') !== peer.tunAddress6 || (key.startsWith('psk:') && still.psk === undefined)) {
        this.table.remove(key);
        this.forget(key, peer, 'closed', 'removed or changed by a reload');
      } else {
        peer.setScheduler(still.config.scheduler ?? config.server!.scheduler);
        for (const link of peer.links) {
          const l = still.config.links.find((x) => x.id === link.linkId);
          link.tier = l?.tier ?? 'primary';
          link.weight = l?.weight ?? 1;
          link.capBytesPerSec = l?.rateCapMbps === undefined ? undefined : l.rateCapMbps * 125_000;
          link.dataCapBytes = l?.dataCapMB === undefined ? undefined : l.dataCapMB * 1_000_000;
        }
        peer.scheduler.setLinks(peer.links);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTicker?.();
    const now = performance.now();
    for (const [key, peer] of [...this.clients]) {
      const session = peer.sealer;
      if (session !== null) for (const link of peer.links) transmit(this, peer, session, link, TYPE_CLOSE, 0, CLOSE_PAYLOAD, now);
      this.forget(key, peer, 'closed', 'server stopping');
    }
    this.table.clear();
    this.responder?.destroy();
    await this.socket?.close();
    this.tun?.close();
    await this.nat?.remove();
    this.nat = null;
  }
}
