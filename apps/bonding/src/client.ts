/**
 * The client's data plane: one peer (the server), one UDP socket per uplink (bound to the
 * uplink's address, with its source route), one TUN device.
 *
 *   start    TUN up → links bound (a link that cannot bind is disabled, not fatal while one
 *            works) → TUN reads wired to send.ts, sockets to receive.ts → ticker → handshake
 *   sessions pending   keys of a handshake whose Finish may not have arrived yet: opens, but
 *                      nothing is sealed with it until the first authentic datagram under it
 *                      confirms the server has it (then it becomes current)
 *            current   seals and opens (peer.sealer)
 *            previous  opens for REKEY_GRACE_MS after a rekey, then destroyed
 *   timers   handshake retransmission (the next link each time), rekey when the session asks
 *            (needsRekey: count or age), a new handshake after SESSION_SILENCE_REHANDSHAKE_MS
 *            without an authentic datagram (the server lost the session), expiry
 */
import { createUdpLink, installSourceRoute, openTunDevice, POLICY_RULE_PRIORITY_MIN } from '@edgebox/links';
import type { LinkTransition, TunDevice, UdpEndpoint } from '@edgebox/links';
import type { HandshakeCertificateCredentials, HandshakePskCredentials } from '@edgebox/crypto';
import { isIP } from 'node:net';
import type { BondingConfig } from './config.js';
import { parseCidr, parseHostPort } from './config.js';
import {
  CLOSE_REASON_SHUTDOWN,
  HANDSHAKE_REFUSED_BACKOFF_MS,
  LINK_MTU_DEFAULT,
  MTU_MIN,
  REKEY_GRACE_MS,
  ROUTE_REPAIR_INTERVAL_MS,
  SESSION_SILENCE_REHANDSHAKE_MS,
  SOCKET_BUFFER_BYTES,
  TYPE_CLOSE,
  TYPE_PROBE,
} from './constants.js';
import { BondingError } from './errors.js';
import { HandshakeAttempt } from './handshake.js';
import { tunMtuFor, tunnelOverheadBytes } from './mtu.js';
import { createPathMtuSearch, interfaceMtuToward } from './path-mtu.js';
import { Peer, PeerLink } from './peer.js';
import { createPlaneBuffers, createPlaneCounters } from './plane.js';
import type { Plane, PlaneCounters, PlaneHooks, SendRing } from './plane.js';
import type { FeedbackReport } from './feedback.js';
import { onDatagram } from './receive.js';
import { requestRetransmits } from './retransmit.js';
import { onTunPackets, transmit } from './send.js';
import { createSession } from './session.js';
import type { BondingSession, SessionInit } from './session.js';
import { startTicker } from './timers.js';

const CLOSE_PAYLOAD = Uint8Array.of(0, CLOSE_REASON_SHUTDOWN);
const EMPTY = new Uint8Array(0);

/** Handshake state of a client, for status. */
export type ClientHandshakeState = 'idle' | 'handshaking' | 'confirming' | 'established' | 'refused';

/** The running client plane. */
export interface ClientPlane extends Plane {
  readonly peer: Peer;
  readonly server: UdpEndpoint;
  readonly handshakeState: ClientHandshakeState;
  readonly lastHandshakeError: string | null;
  readonly current: BondingSession | null;
  /** Apply reloadable settings (scheduler, reorder, link weights / tiers / caps). */
  applyReload(config: BondingConfig): void;
  stop(): Promise<void>;
}

/** Options of startClientPlane(). */
export interface ClientPlaneInit {
  config: BondingConfig;
  credentials: HandshakePskCredentials | HandshakeCertificateCredentials;
  hooks: PlaneHooks;
  /** Told about links that could not be opened (they stay disabled). */
  warn(message: string, error: unknown): void;
  /** Session limits (default: bonding.md §6); shorter key lifetimes are for tests and labs. */
  session?: Omit<SessionInit, 'nowMs'> | undefined;
}

/**
 * Start a client: TUN, links, ticker, first handshake. Rejects with BONDING_START when the
 * TUN cannot be opened or no link can be bound (everything opened so far is closed again).
 *
 * @example
 * const plane = await startClientPlane({ config, credentials: await loadClientCredentials(config), hooks, warn });
 * // ... plane.peer.links[0].rtt.srttMs ...
 * await plane.stop();
 */
export async function startClientPlane(init: ClientPlaneInit): Promise<ClientPlane> {
  const plane = new ClientPlaneImpl(init);
  try {
    await plane.open();
  } catch (error) {
    await plane.stop();
    throw error;
  }
  return plane;
}

function linkMtuFamily(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}

class ClientPlaneImpl implements ClientPlane {
  readonly mode = 'client' as const;
  tun!: TunDevice;
  tunMtu: number;
  /** The largest TUN MTU the buffers hold (the configured or the 'auto' default). */
  readonly maxTunMtu: number;
  private readonly mtuPad: Uint8Array;
  private mtuApplying = false;
  readonly ring: SendRing;
  readonly pickOut: Int32Array;
  readonly report: FeedbackReport;
  readonly feedbackPayload: Uint8Array;
  readonly nackPayload: Uint8Array;
  readonly counters: PlaneCounters = createPlaneCounters();
  readonly socket = null;
  hitPeer: Peer | null = null;
  readonly peer: Peer;
  readonly server: UdpEndpoint;
  handshakeState: ClientHandshakeState = 'idle';
  lastHandshakeError: string | null = null;
  current: BondingSession | null = null;
  private pending: BondingSession | null = null;
  private previous: BondingSession | null = null;
  private previousUntilMs = 0;
  private attempt: HandshakeAttempt | null = null;
  private lastError: { code: string; message: string } | null = null;
  private nextAttemptMs = 0;
  private stopTicker: (() => void) | null = null;
  private stopped = false;
  private readonly peerList: Peer[];
  private nextRouteCheckMs = 0;
  private readonly sendErrorsSeen = new Map<PeerLink, number>();
  private readonly repairing = new Set<PeerLink>();
  /** Links seen down since their path MTU search last (re)started: it starts again once they are back. */
  private readonly searchAfterDown = new Set<PeerLink>();
  private readonly config: BondingConfig;

  constructor(private readonly init: ClientPlaneInit) {
    const config = init.config;
    this.config = config;
    const client = config.client!;
    const hp = parseHostPort(client.server)!;
    this.server = { address: hp.host, port: hp.port };
    this.tunMtu = config.tun.mtu === 'auto' ? tunMtuFor(client.links.map((l) => ({ mtu: LINK_MTU_DEFAULT, family: linkMtuFamily(l.source) }))) : config.tun.mtu;
    this.maxTunMtu = this.tunMtu;
    this.mtuPad = new Uint8Array(this.tunMtu);
    const buffers = createPlaneBuffers(this.tunMtu);
    this.ring = buffers.ring;
    this.pickOut = buffers.pickOut;
    this.report = buffers.report;
    this.feedbackPayload = buffers.feedbackPayload;
    this.nackPayload = buffers.nackPayload;
    const peer: Peer = new Peer({
      name: 'server',
      scheduler: client.scheduler,
      reorderCapacity: client.reorder.capacity,
      slotBytes: this.tunMtu,
      fixedWaitMs: client.reorder.maxWaitMs,
      minWaitMs: client.reorder.minWaitMs,
      retransmitPackets: client.retransmit.enabled ? client.retransmit.bufferPackets : 0,
      deliver: (packet) => {
        // one closure per peer (cold); runs per delivered packet
        if (this.tun.write(packet)) {
          peer.counters.rxPackets++;
          peer.counters.rxBytes += packet.length;
        } else peer.counters.tunDropped++;
      },
    });
    if (peer.retransmit !== null) peer.reorder.onTimeout = (seq, now) => requestRetransmits(this, peer, seq, now);
    this.peer = peer;
    this.peerList = [peer];
  }

  async open(): Promise<void> {
    const config = this.config;
    const client = config.client!;
    const cidr = parseCidr(config.tun.address)!;
    try {
      this.tun = await openTunDevice({ name: config.tun.name, mtu: this.tunMtu, addresses: [`${cidr.address}/${cidr.prefix}`, ...(config.tun.address6 === undefined ? [] : [config.tun.address6])], ...(config.tun.netns === undefined ? {} : { netns: config.tun.netns }) });
    } catch (cause) {
      throw new BondingError('BONDING_START', `tun ${config.tun.name} cannot be opened: ${(cause as Error).message}`, { cause });
    }
    const now = performance.now();
    const onTransition = (link: PeerLink, t: LinkTransition): void => this.init.hooks.linkState(this.peer, link, t);
    let opened = 0;
    for (const [i, l] of client.links.entries()) {
      const link = new PeerLink({
        name: l.name,
        linkId: i,
        label: l.label,
        tier: l.tier,
        weight: l.weight,
        capBytesPerSec: l.rateCapMbps === undefined ? undefined : l.rateCapMbps * 125_000,
        dataCapBytes: l.dataCapMB === undefined ? undefined : l.dataCapMB * 1_000_000,
        downAfterMs: client.linkDownAfterMs,
        nowMs: now,
        onTransition,
      });
      this.peer.addLink(link);
      try {
        const udp = await createUdpLink({
          id: l.name,
          ...(l.label === undefined ? {} : { label: l.label }),
          localAddress: l.source,
          remote: this.server,
          ...(l.interface === undefined ? {} : { table: l.table ?? 100 + i, interface: l.interface, gateway: l.gateway, priority: POLICY_RULE_PRIORITY_MIN + i }),
          receiveBufferBytes: SOCKET_BUFFER_BYTES,
          sendBufferBytes: SOCKET_BUFFER_BYTES,
          batched: true, // sendmmsg/recvmmsg when the addon is built (links' udp-link-batched.ts)
        });
        udp.onMessage((data, from) => onDatagram(this, data, from, performance.now()));
        link.udp = udp;
        link.family = linkMtuFamily(l.source);
        if (config.tun.mtu === 'auto') {
          // the interface MTU bounds the search (a bigger probe would be fragmented locally)
          const ifMtu = (await interfaceMtuToward(l.source, this.server.address)) ?? LINK_MTU_DEFAULT;
          link.pmtu = createPathMtuSearch({ upperBound: Math.min(ifMtu, this.maxTunMtu + tunnelOverheadBytes(link.family)) });
        }
        opened++;
      } catch (error) {
        link.machine.disable(now);
        link.state = 'disabled';
        this.init.warn(`link ${l.name} (${l.source}) cannot be opened: it stays disabled`, error);
      }
    }
    if (opened === 0) throw new BondingError('BONDING_START', `no link of ${client.links.length} could be opened`, { details: { links: client.links.map((l) => l.name) } });
    let bound = Infinity; // the interfaces' MTUs: the TUN starts from them, probing refines
    for (const link of this.peer.links) if (link.pmtu !== null) bound = Math.min(bound, link.pmtu.pathMtu - tunnelOverheadBytes(link.family));
    if (bound !== Infinity && Math.max(MTU_MIN, bound) < this.tunMtu) await this.applyTunMtu(Math.max(MTU_MIN, bound), 'interface MTU');
    this.tun.onPackets((packets, lengths, count) => onTunPackets(this, packets, lengths, count));
    this.tun.onError((error) => this.init.warn(`tun ${this.tun.name} failed`, error));
    this.stopTicker = startTicker(this);
    this.beginHandshake(now);
  }

  // -- Plane ------------------------------------------------------------------------------------

  resolve(index: number): BondingSession | undefined {
    this.hitPeer = this.peer;
    const c = this.current;
    if (c !== null && c.localIndex === index) return c;
    const p = this.pending;
    if (p !== null && p.localIndex === index) return p;
    const o = this.previous;
    if (o !== null && o.localIndex === index) return o;
    return undefined;
  }

  route(): Peer | undefined {
    return this.peer;
  }

  linkFor(peer: Peer, linkId: number): PeerLink | undefined {
    return peer.byLinkId[linkId];
  }

  onAuthentic(peer: Peer, session: BondingSession, _link: PeerLink, _from: UdpEndpoint, nowMs: number): void {
    if (session === this.pending) this.confirm(peer, session, nowMs);
  }

  onHandshake(data: Uint8Array, _from: UdpEndpoint, nowMs: number): void {
    this.counters.handshakeMessages++;
    const attempt = this.attempt;
    if (attempt === null) return; // late or duplicate: nothing waits for it
    let step;
    try {
      step = attempt.initiator.receive(data);
    } catch (error) {
      this.counters.handshakeRefused++;
      const code = (error as { code?: string }).code ?? 'ERROR';
      // Kept for the attempt's end: a Response that does not authenticate (wrong PSK) is not
      // fatal (a forger must not be able to abort the handshake), so it only shows there.
      this.lastError = { code, message: (error as Error).message };
      if ((error as { details?: { fatal?: boolean } }).details?.fatal === true) this.refuse(nowMs);
      return;
    }
    if (step.send !== undefined) this.sendHandshake(step.send, attempt);
    if (step.result !== undefined) {
      this.pending?.destroy();
      this.pending = createSession(step.result, { ...this.init.session, nowMs });
      this.handshakeState = this.current === null ? 'confirming' : this.handshakeState;
      this.probeAll(this.pending, nowMs);
    }
  }

  onClose(peer: Peer, nowMs: number): void {
    this.init.hooks.session(peer, 'closed', 'the server closed the session');
    this.dropSessions();
    this.beginHandshake(nowMs);
  }

  peers(): Iterable<Peer> {
    return this.peerList;
  }

  onTick(nowMs: number): void {
    if (this.stopped) return;
    this.repairRoutes(nowMs);
    if (this.config.tun.mtu === 'auto') this.pathMtu(nowMs);
    if (this.previous !== null && nowMs >= this.previousUntilMs) {
      this.previous.destroy();
      this.previous = null;
    }
    const current = this.current;
    if (current !== null) {
      current.tick(nowMs);
      if (current.expired) {
        this.init.hooks.session(this.peer, 'expired', 'the session reached its hard lifetime before a rekey finished');
        this.dropSessions();
      }
    }
    const attempt = this.attempt;
    if (attempt !== null) {
      if (attempt.expired(nowMs)) {
        if (this.lastError !== null) this.refuse(nowMs);
        else {
          this.lastHandshakeError = 'no answer from the server';
          this.abandon(nowMs);
        }
      } else {
        const msg = attempt.due(nowMs);
        if (msg !== undefined) this.sendHandshake(msg, attempt);
        if (msg !== undefined && this.pending !== null) this.probeAll(this.pending, nowMs);
      }
      return;
    }
    if (nowMs < this.nextAttemptMs) return;
    const c = this.current;
    if (c === null || c.needsRekey || nowMs - this.peer.lastAuthMs >= SESSION_SILENCE_REHANDSHAKE_MS) this.beginHandshake(nowMs);
  }

  /**
   * The kernel deletes a table's routes through an interface that goes down, so a link's
   * source route is gone after its uplink comes back (its sends then fail: no route). A link
   * whose sends failed since the last look (checked every tick: a counter compare) gets its
   * route installed again at once, a down link once per ROUTE_REPAIR_INTERVAL_MS (idempotent,
   * ours only; one `ip` run per link at a time). Discovery owns this in the long
   * run; until then the client repairs its own routes.
   */
  private repairRoutes(nowMs: number): void {
    const due = nowMs >= this.nextRouteCheckMs;
    if (due) this.nextRouteCheckMs = nowMs + ROUTE_REPAIR_INTERVAL_MS;
    for (const link of this.peer.links) {
      const udp = link.udp;
      const route = udp?.route;
      if (udp === null || route === undefined || this.repairing.has(link)) continue;
      const errors = udp.stats.sendErrors;
      const failing = errors !== (this.sendErrorsSeen.get(link) ?? 0);
      if (!failing && !(due && link.state === 'down')) continue;
      this.sendErrorsSeen.set(link, errors);
      this.repairing.add(link); // cold: a link whose uplink failed
      installSourceRoute(route.init).then(
        () => this.repairing.delete(link),
        () => this.repairing.delete(link), // the uplink is still down: try again later
      );
    }
  }

  // -- handshake and sessions -------------------------------------------------------------------

  private beginHandshake(nowMs: number): void {
    if (this.stopped) return;
    this.attempt?.destroy();
    const attempt = new HandshakeAttempt(this.init.credentials, nowMs);
    this.attempt = attempt;
    this.lastError = null;
    if (this.current === null) this.handshakeState = 'handshaking';
    this.sendHandshake(attempt.first(), attempt);
  }

  /** The attempt failed for a reason the server gave (wrong key, untrusted certificate): say so, back off. */
  private refuse(nowMs: number): void {
    const e = this.lastError ?? { code: 'ERROR', message: 'refused' };
    this.lastError = null;
    this.lastHandshakeError = `${e.code}: ${e.message}`;
    this.abandon(nowMs + HANDSHAKE_REFUSED_BACKOFF_MS);
    if (this.current === null) this.handshakeState = 'refused';
    this.init.hooks.handshakeFailed(`${this.server.address}:${this.server.port}`, e.code, e.message);
  }

  /** Drop the attempt (and its unconfirmed keys); the next starts at `nextAttemptMs`. */
  private abandon(nextAttemptMs: number): void {
    this.attempt?.destroy();
    this.attempt = null;
    this.pending?.destroy();
    this.pending = null;
    this.nextAttemptMs = nextAttemptMs;
    if (this.current === null && this.handshakeState !== 'refused') this.handshakeState = 'handshaking';
  }

  /** Send a handshake message on the attempt's link: usable links first, the next one on each re-send. */
  private sendHandshake(msg: Uint8Array, attempt: HandshakeAttempt): void {
    const candidates = this.peer.links.filter((l) => l.udp !== null && l.state !== 'disabled'); // cold
    if (candidates.length === 0) return;
    candidates.sort((a, b) => rank(a) - rank(b));
    const link = candidates[(attempt.sends - 1 + candidates.length) % candidates.length]!;
    link.udp!.send(msg);
  }

  /**
   * Path MTU (tun.mtu auto): a sized PROBE where a link's search asks for one, then the TUN MTU
   * follows the smallest usable link's path MTU (cold: a compare per link per tick).
   */
  private pathMtu(nowMs: number): void {
    const session = this.current;
    let want = Infinity;
    for (const link of this.peer.links) {
      const search = link.pmtu;
      if (search === null || link.udp === null) continue;
      if (link.state === 'down') {
        this.searchAfterDown.add(link); // the path may differ when it is back: search again then
        continue;
      }
      if (session !== null && (link.state === 'up' || link.state === 'degraded')) {
        // Restart on the way back up, whether or not a search was running when the link went
        // down: a probe answered (or lost) across the outage says nothing of the new path.
        if (this.searchAfterDown.delete(link)) search.restart(nowMs);
        const size = search.poll(nowMs);
        if (size > 0) {
          const pad = size - tunnelOverheadBytes(link.family);
          if (pad >= 0 && transmit(this, this.peer, session, link, TYPE_PROBE, 0, this.mtuPad.subarray(0, pad), nowMs)) search.onSent(link.tx.sendTimeMs, nowMs);
        }
        want = Math.min(want, search.pathMtu - tunnelOverheadBytes(link.family));
      }
    }
    if (want === Infinity) return;
    const mtu = Math.max(MTU_MIN, Math.min(this.maxTunMtu, want));
    if (mtu !== this.tunMtu) void this.applyTunMtu(mtu, 'path MTU');
  }

  /** Set the TUN MTU (and with it the MSS clamp, which reads tunMtu) to `mtu`. */
  async applyTunMtu(mtu: number, reason: string): Promise<void> {
    if (this.mtuApplying || this.stopped) return;
    this.mtuApplying = true;
    const from = this.tunMtu;
    try {
      await this.tun.setMtu(mtu);
      this.tunMtu = mtu;
      this.init.hooks.mtu?.(from, mtu, reason);
    } catch (error) {
      this.init.warn(`tun ${this.tun.name}: mtu ${mtu} cannot be set`, error);
    } finally {
      this.mtuApplying = false;
    }
  }

  /** PROBE on every link under `session`: the server's PROBE_ACK confirms it (and wakes the links). */
  private probeAll(session: BondingSession, nowMs: number): void {
    for (const link of this.peer.links) if (link.udp !== null && link.state !== 'disabled') transmit(this, this.peer, session, link, TYPE_PROBE, 0, EMPTY, nowMs);
  }

  /** The first authentic datagram under the pending session: the server has it. */
  private confirm(peer: Peer, session: BondingSession, nowMs: number): void {
    const old = this.current;
    this.pending = null;
    this.attempt?.destroy();
    this.attempt = null;
    this.current = session;
    peer.sealer = session;
    this.handshakeState = 'established';
    this.lastHandshakeError = null;
    this.counters.sessionsEstablished++;
    if (old === null) {
      peer.establishedAtMs = nowMs;
      peer.checkSeqJump = true;
      for (const link of peer.links) if (link.state !== 'disabled') link.resetState(nowMs);
      this.init.hooks.session(peer, 'established', session.aead);
    } else {
      this.previous?.destroy();
      this.previous = old;
      this.previousUntilMs = nowMs + REKEY_GRACE_MS;
      this.counters.rekeys++;
      this.init.hooks.session(peer, 'rekeyed', session.aead);
    }
  }

  private dropSessions(): void {
    for (const s of [this.current, this.pending, this.previous]) s?.destroy();
    this.current = null;
    this.pending = null;
    this.previous = null;
    this.peer.sealer = null;
    this.handshakeState = 'handshaking';
  }

  applyReload(config: BondingConfig): void {
    const client = config.client!;
    const peer = this.peer;
    peer.setScheduler(client.scheduler);
    peer.fixedWaitMs = client.reorder.maxWaitMs;
    peer.minWaitMs = client.reorder.minWaitMs;
    client.links.forEach((l, i) => {
      const link = peer.byLinkId[i];
      if (link === undefined) return;
      link.tier = l.tier;
      link.weight = l.weight;
      link.capBytesPerSec = l.rateCapMbps === undefined ? undefined : l.rateCapMbps * 125_000;
      link.dataCapBytes = l.dataCapMB === undefined ? undefined : l.dataCapMB * 1_000_000;
    });
    peer.scheduler.setLinks(peer.links);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTicker?.();
    const now = performance.now();
    const current = this.current;
    if (current !== null) {
      for (const link of this.peer.links) if (link.udp !== null && link.state !== 'disabled') transmit(this, this.peer, current, link, TYPE_CLOSE, 0, CLOSE_PAYLOAD, now);
    }
    this.attempt?.destroy();
    this.attempt = null;
    this.peer.reorder.flush();
    // Closing the sockets lets queued CLOSE datagrams go first (close runs after pending sends).
    await Promise.all(this.peer.links.map((l) => l.udp?.close()));
    this.tun?.close();
    this.dropSessions();
    this.handshakeState = 'idle';
  }
}

function rank(link: PeerLink): number {
  switch (link.state) {
    case 'up':
      return 0;
    case 'degraded':
      return 1;
    case 'probing':
      return 2;
    default:
      return 3;
  }
}
