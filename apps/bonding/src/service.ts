/**
 * The bonding Service (ARCHITECTURE.md rules 2 and 3): what the CLI and the supervisor host.
 *
 *   start(config)   validate → load credentials → start the client or server plane
 *                   (client.ts / server.ts); needs CAP_NET_ADMIN (TUN, routes, NAT)
 *   reload(config)  applies what a running plane can change: client scheduler, reorder wait,
 *                   link tiers / weights / caps; server clients (added, removed, re-keyed).
 *                   Anything else (mode, identity, tun, links' addresses, listen, nat) is
 *                   refused with BONDING_RELOAD_UNSUPPORTED and the running config stays.
 *   stop()          CLOSE to the peer(s), sockets and TUN closed, NAT table removed
 *   status()        per link: state, RTT, jitter, loss, rate, bytes; per client on a server
 *   health()        plane: running; session: a client with a session, a server listening
 *   events          link.state, session, handshake.failed, mtu; each also as an @edgebox/events
 *                   v1 event (`event`) published on `bus` (events.ts)
 *   registry        edgebox_bonding_* read at scrape time (metrics.ts)
 */
import { createLifecycle, createLogger, createMetricsRegistry, createTypedEmitter, healthCheck, healthReport, lifecycleHealth } from '@edgebox/runtime';
import type { HealthReport, Logger, Service, TypedEmitter } from '@edgebox/runtime';
import type { LinkState } from '@edgebox/links';
import { startClientPlane } from './client.js';
import type { ClientHandshakeState, ClientPlane } from './client.js';
import { BondingConfigSchema } from './config.js';
import type { BondingConfig } from './config.js';
import { BondingError } from './errors.js';
import { loadClientCredentials, loadServerClients } from './handshake.js';
import { registerBondingMetrics } from './metrics.js';
import type { Peer, PeerLink } from './peer.js';
import type { PlaneHooks } from './plane.js';
import { startServerPlane } from './server.js';
import type { ServerPlane } from './server.js';
import type { SessionInit } from './session.js';
import type { EventBus, EventV1 } from '@edgebox/events';
import { createBondingEventPublisher } from './events.js';

/** Events of the bonding service. */
export interface BondingEvents {
  /** A link changed state (both ends evaluate every link they share). */
  'link.state': { peer: string; link: string; linkId: number; from: LinkState; to: LinkState; reason: string };
  /** A session came, was rekeyed, or went. */
  session: { peer: string; event: 'established' | 'rekeyed' | 'closed' | 'expired'; detail: string };
  /** A handshake was refused: `code` is the crypto error code (CRYPTO_HANDSHAKE_AUTH, CRYPTO_CERT_UNTRUSTED, ...) or unknown-client, server-full, index-collision. */
  'handshake.failed': { peer: string; code: string; message: string };
  /** The TUN MTU changed (client, tun.mtu auto): a link's path MTU or its interface MTU. */
  mtu: { from: number; to: number; reason: string };
  /** Each of the above as an @edgebox/events v1 event (events.ts kinds), as published on `bus`. */
  event: EventV1;
}

/** The bonding Service with its event bus. */
export type BondingService = Service<BondingConfig, BondingStatus, BondingEvents> & {
  /** The @edgebox/events bus the service publishes its status changes on (events.ts). */
  readonly bus: EventBus;
};

/** One row of the per-link table. */
export type BondingLinkStatus = {
  peer: string;
  name: string;
  linkId: number;
  label: string | null;
  tier: string;
  state: LinkState;
  rttMs: number | null;
  jitterMs: number;
  lossRatio: number;
  peerLossRatio: number;
  /** Mbit/s the peer reports receiving on this link. */
  txRateMbps: number;
  /** Mbit/s arriving on this link. */
  rxRateMbps: number;
  txBytes: number;
  rxBytes: number;
  txPackets: number;
  rxPackets: number;
  /** Server: the client's endpoint for this link. */
  endpoint: string | null;
  /** Client with tun.mtu auto: the link's path MTU (probed; the interface MTU until a size fails). */
  pathMtu: number | null;
};

/** One peer (client: the server; server: each client). */
export type BondingPeerStatus = {
  name: string;
  tunAddress: string | null;
  connected: boolean;
  connectedForSeconds: number | null;
  scheduler: string;
  txPackets: number;
  txBytes: number;
  rxPackets: number;
  rxBytes: number;
  drops: { noLink: number; noSession: number; sealRefused: number; malformed: number; tunDropped: number };
  reorder: { held: number; maxWaitMs: number; late: number; skipped: number; duplicate: number; timeouts: number; lossSkips: number; deferred: number };
  /** Retransmission (bonding.md §4.1): NACKs we sent and sequences asked; packets we resent or could not. */
  retransmit: { enabled: boolean; nacksSent: number; nackedSeqs: number; retransmitted: number; missed: number };
  links: BondingLinkStatus[];
};

/** status(): JSON for the ops endpoint, the CLI and the supervisor. */
export type BondingStatus = {
  mode: 'client' | 'server' | null;
  running: boolean;
  tun: { name: string; mtu: number; rxPackets: number; txPackets: number; txDropped: number } | null;
  /** Client only. */
  handshake: { state: ClientHandshakeState; lastError: string | null; server: string } | null;
  /** Server only. */
  server: { listen: string; clients: number; maxClients: number; roams: number; nat: boolean } | null;
  counters: { unknownType: number; unknownSession: number; badAuth: number; replayed: number; handshakesRefused: number; sessions: number; rekeys: number; mssClamped: number };
  peers: BondingPeerStatus[];
};

/** Options of createBondingService(). */
export interface BondingServiceInit {
  /** Default: a pino logger for app "bonding". */
  logger?: Logger;
  /** Session limits (rekey / reject after ms or messages); default bonding.md §6. For tests and labs. */
  session?: Omit<SessionInit, 'nowMs'>;
  /** The bus to publish bonding events on (default: one of the service's own, last 256 kept). */
  bus?: EventBus;
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

function linkStatus(peer: Peer, link: PeerLink): BondingLinkStatus {
  return {
    peer: peer.name,
    name: link.id,
    linkId: link.linkId,
    label: link.label ?? null,
    tier: link.tier,
    state: link.state,
    rttMs: link.rtt.sampleCount > 0 ? round(link.rtt.srttMs) : null,
    jitterMs: round(link.jitter.jitterMs),
    lossRatio: round(link.loss.lossRatio, 4),
    peerLossRatio: round(link.peerLossRatio, 4),
    txRateMbps: round((link.txRate.rateBytesPerSec * 8) / 1e6, 2),
    rxRateMbps: round((link.rxRate.rateBytesPerSec * 8) / 1e6, 2),
    txBytes: link.txBytes,
    rxBytes: link.rxBytes,
    txPackets: link.txPackets,
    rxPackets: link.rxPackets,
    endpoint: link.port === 0 ? null : `${link.address}:${link.port}`,
    pathMtu: link.pmtu === null ? null : link.pmtu.pathMtu,
  };
}

function peerStatus(peer: Peer, nowMs: number): BondingPeerStatus {
  const r = peer.reorder.counters;
  const c = peer.counters;
  return {
    name: peer.name,
    tunAddress: peer.tunAddress === '' ? null : peer.tunAddress,
    connected: peer.sealer !== null,
    connectedForSeconds: peer.sealer !== null && peer.establishedAtMs >= 0 ? round((nowMs - peer.establishedAtMs) / 1000, 1) : null,
    scheduler: peer.scheduler.kind,
    txPackets: c.txPackets,
    txBytes: c.txBytes,
    rxPackets: c.rxPackets,
    rxBytes: c.rxBytes,
    drops: { noLink: c.noLink, noSession: c.noSession, sealRefused: c.sealRefused, malformed: c.malformed, tunDropped: c.tunDropped },
    reorder: { held: peer.reorder.held, maxWaitMs: round(peer.reorder.maxWaitMs, 2), late: r.late, skipped: r.skipped, duplicate: r.duplicate, timeouts: r.timeouts, lossSkips: r.lossSkips, deferred: r.deferred },
    retransmit: { enabled: peer.retransmit !== null, nacksSent: c.nacksSent, nackedSeqs: c.nackedSeqs, retransmitted: c.retransmitted, missed: c.retransmitMissed },
    links: peer.links.map((l) => linkStatus(peer, l)),
  };
}

/** Fields only a restart can change, as one comparable value. */
function restartShape(c: BondingConfig): string {
  return JSON.stringify({
    mode: c.mode,
    identity: c.identity ?? null,
    tun: c.tun,
    client: c.client === undefined ? null : { name: c.client.name ?? null, server: c.client.server, links: c.client.links.map((l) => [l.name, l.interface, l.source, l.gateway, l.table]), down: c.client.linkDownAfterMs ?? null, capacity: c.client.reorder.capacity, retransmit: c.client.retransmit },
    server: c.server === undefined ? null : { listen: c.server.listen, maxClients: c.server.maxClients, nat: c.server.nat, down: c.server.linkDownAfterMs ?? null, retransmit: c.server.retransmit },
    ops: c.ops,
  });
}

/**
 * Create the bonding service (not started).
 *
 * @example
 * const bond = createBondingService();
 * bond.events.on('link.state', (e) => console.log(e.link, e.from, '->', e.to));
 * await bond.start({ mode: 'client', identity: { pskFile: '/etc/edgebox/bond.psk' }, tun: { address: '10.99.0.2/24' },
 *   client: { name: 'site-a', server: '198.51.100.1:51820', links: [{ name: 'wan0', source: '192.0.2.10', interface: 'wan0', gateway: '192.0.2.1' }] } });
 * console.log(bond.status().peers[0]?.links);
 * await bond.stop();
 */
export function createBondingService(init: BondingServiceInit = {}): BondingService {
  const log = init.logger ?? createLogger({ app: 'bonding' });
  const events: TypedEmitter<BondingEvents> = createTypedEmitter<BondingEvents>();
  const publisher = createBondingEventPublisher(init.bus === undefined ? {} : { bus: init.bus });
  const forward = (event: EventV1): void => {
    events.emit('event', event);
  };
  const registry = createMetricsRegistry({ app: 'bonding' });
  let client: ClientPlane | null = null;
  let server: ServerPlane | null = null;
  registerBondingMetrics(registry, () => client ?? server);

  const hooks: PlaneHooks = {
    linkState(peer, link, t) {
      log.info({ peer: peer.name, link: link.id, from: t.from, to: t.to, reason: t.reason }, 'link state');
      events.emit('link.state', { peer: peer.name, link: link.id, linkId: link.linkId, from: t.from, to: t.to, reason: t.reason });
      forward(publisher.linkState(peer.name, link.id, link.linkId, t.from, t.to, t.reason));
    },
    session(peer, event, detail) {
      log.info({ peer: peer.name, event, detail }, 'session');
      events.emit('session', { peer: peer.name, event, detail });
      forward(publisher.session(peer.name, event, detail));
    },
    handshakeFailed(peer, code, message) {
      log.warn({ peer, code, reason: message }, 'handshake refused');
      events.emit('handshake.failed', { peer, code, message });
      forward(publisher.handshakeFailed(peer, code, message));
    },
    mtu(from, to, reason) {
      log.info({ from, to, reason }, 'tun mtu');
      events.emit('mtu', { from, to, reason });
      forward(publisher.mtu(from, to, reason));
    },
  };
  const warn = (message: string, error: unknown): void => log.warn({ err: error }, message);

  const life = createLifecycle<BondingConfig>({
    name: 'bonding',
    schema: BondingConfigSchema,
    async start(config) {
      if (config.mode === 'client') {
        const credentials = await loadClientCredentials(config);
        client = await startClientPlane({ config, credentials, hooks, warn, session: init.session });
        log.info({ server: config.client!.server, links: config.client!.links.length, tun: config.tun.name, mtu: client.tunMtu }, 'bonding client started');
      } else {
        const clients = await loadServerClients(config);
        server = await startServerPlane({ config, clients, hooks, warn, session: init.session });
        log.info({ listen: config.server!.listen, clients: clients.length, tun: config.tun.name, mtu: server.tunMtu }, 'bonding server started');
      }
    },
    async reload(next, current) {
      if (restartShape(next) !== restartShape(current)) {
        throw new BondingError('BONDING_RELOAD_UNSUPPORTED', 'this reload changes mode, identity, tun, links (names, addresses, routes), listen, maxClients, nat or ops: restart the service to apply it');
      }
      if (client !== null) client.applyReload(next);
      if (server !== null) server.applyReload(next, await loadServerClients(next));
    },
    async stop() {
      const c = client;
      const s = server;
      client = null;
      server = null;
      await c?.stop();
      await s?.stop();
    },
  });

  const status = (): BondingStatus => {
    const now = performance.now();
    const plane = client ?? server;
    const counters = plane?.counters;
    return {
      mode: life.config?.mode ?? null,
      running: plane !== null,
      tun: plane === null ? null : { name: plane.tun.name, mtu: plane.tunMtu, rxPackets: plane.tun.stats.rxPackets, txPackets: plane.tun.stats.txPackets, txDropped: plane.tun.stats.txDropped },
      handshake: client === null ? null : { state: client.handshakeState, lastError: client.lastHandshakeError, server: `${client.server.address}:${client.server.port}` },
      server: server === null ? null : { listen: `${server.listen.address}:${server.listen.port}`, clients: server.clients.size, maxClients: server.table.maxClients, roams: server.roams, nat: server.nat !== null },
      counters: {
        unknownType: counters?.unknownType ?? 0,
        unknownSession: counters?.unknownSession ?? 0,
        badAuth: counters?.openDrops[4] ?? 0,
        replayed: counters?.openDrops[5] ?? 0,
        handshakesRefused: counters?.handshakeRefused ?? 0,
        sessions: counters?.sessionsEstablished ?? 0,
        rekeys: counters?.rekeys ?? 0,
        mssClamped: counters?.mssClamped ?? 0,
      },
      peers: plane === null ? [] : [...plane.peers()].map((p) => peerStatus(p, now)),
    };
  };

  const health = (): HealthReport => {
    if (life.state !== 'running' && life.state !== 'reloading') return lifecycleHealth(life.state, 'bonding');
    if (client !== null) {
      const usable = client.peer.links.filter((l) => l.state === 'up' || l.state === 'degraded').length;
      const session =
        client.current !== null
          ? healthCheck('session', 'ok', `established, ${usable}/${client.peer.links.length} links usable`)
          : healthCheck('session', 'degraded', client.lastHandshakeError ?? `handshake ${client.handshakeState}`);
      const links = usable > 0 || client.current === null ? healthCheck('links', 'ok', `${usable} usable`) : healthCheck('links', 'degraded', 'no usable link');
      return healthReport([session, links], client.current !== null);
    }
    if (server !== null) return healthReport([healthCheck('listener', 'ok', `${server.clients.size} clients`)]);
    return healthReport([healthCheck('plane', 'failing', 'not running')], false);
  };

  return {
    name: 'bonding',
    configSchema: BondingConfigSchema,
    events,
    bus: publisher.bus,
    registry,
    get state() {
      return life.state;
    },
    get config() {
      return life.config;
    },
    start: life.start,
    reload: life.reload,
    stop: life.stop,
    status,
    health,
  };
}
