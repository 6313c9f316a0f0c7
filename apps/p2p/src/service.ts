/**
 * The p2p Service (ARCHITECTURE.md rules 2 and 3): what the CLI and the supervisor host.
 *
 *   start(config)   validate → identity (PEM file, created when missing) → access list →
 *                   address book (file, + config peers) → network (libp2p + handshake) →
 *                   dial every auto-connect peer
 *   reload(config)  applies access rules (removing config rules no longer there), config
 *                   peers and peers added to the book file (`edgebox-p2p add`); identity, listen, streams and
 *                   limits need a restart (P2P_RELOAD_UNSUPPORTED, the running config stays)
 *   stop()          reconnect timers off, network stopped (sessions' keys wiped), book flushed
 *   status()        identity, addresses, per-peer state / suite / RTT / stream counters
 *   health()        network running (ready); degraded while some auto-connect peer is not
 *                   established (the node still serves the others)
 *   events          the network's events (`peer:state`, `peer:established`, ...) plus each
 *                   status change as an @edgebox/events v1 event on `bus` (events.ts)
 *   registry        edgebox_p2p_* read at scrape time (metrics.ts)
 *
 * Reconnect: an auto-connect peer that is not established is dialled again after a backoff
 * delay (decorrelated jitter, reset once established); a per-peer circuit breaker stops
 * hammering a peer that keeps failing (its open time replaces the backoff delay).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  createLifecycle,
  createLogger,
  createMetricsRegistry,
  createTypedEmitter,
  healthCheck,
  healthReport,
  lifecycleHealth,
  type HealthReport,
  type Logger,
  type Service,
  type TypedEmitter,
} from '@edgebox/runtime';
import { exportIdentityPem, generateIdentity, importIdentityPem, type Identity } from '@edgebox/crypto';
import {
  createAccessList,
  createAddressBook,
  createBackoff,
  createCircuitBreaker,
  peerIdFromIdentity,
  type AccessList,
  type AddressBook,
  type Backoff,
  type CircuitBreaker,
} from '@edgebox/peers';
import type { EventBus, EventV1 } from '@edgebox/events';
import { P2pConfigSchema, type P2pConfig } from './config.js';
import { P2pError } from './errors.js';
import { createP2pEventPublisher } from './events.js';
import { registerP2pMetrics } from './metrics.js';
import { createP2pNetwork, type P2pNetwork, type P2pNetworkComponents, type P2pNetworkEvents, type PeerStatus } from './network.js';

/** Events of the p2p service: the network's, plus each as an @edgebox/events v1 event. */
export interface P2pEvents extends P2pNetworkEvents {
  event: EventV1;
}

/** status(): JSON for the ops endpoint, the CLI and the supervisor. */
export type P2pStatus = {
  running: boolean;
  peerId: string | null;
  addresses: string[];
  addressBook: { peers: number; path: string | null };
  counters: {
    handshakes: number;
    handshakeFailures: number;
    identityMismatches: number;
    messagesIn: number;
    messagesOut: number;
    bytesIn: number;
    bytesOut: number;
    dropped: Record<string, number>;
    resumed: number;
    resumeRejected: number;
    ticketsIssued: number;
    ticketsAccepted: number;
    ticketsRejected: Record<string, number>;
    acksSent: number;
    acksReceived: number;
    ackRetries: number;
    ackTimeouts: number;
    duplicates: number;
    sendQueued: number;
    sendQueueFull: number;
  };
  peers: Array<Omit<PeerStatus, 'streams'> & { autoConnect: boolean; streams: Record<string, { messagesIn: number; bytesIn: number; messagesOut: number; bytesOut: number }> }>;
};

/** The p2p Service with its network and stores. */
export type P2pService = Service<P2pConfig, P2pStatus, P2pEvents> & {
  /** The @edgebox/events bus the service publishes status changes on. */
  readonly bus: EventBus;
  /** The running network (send, messages, connect, ping), or null when stopped. */
  readonly network: P2pNetwork | null;
  /** The address book, or null when stopped. */
  readonly addressBook: AddressBook | null;
  /** The access list, or null when stopped. Blocking a connected peer hangs up on it. */
  readonly accessList: AccessList | null;
};

/** Options of createP2pService(). */
export interface P2pServiceInit {
  /** Default: a pino logger for app "p2p". */
  logger?: Logger;
  /** The bus to publish on (default: the service's own, last 256 kept). */
  bus?: EventBus;
  /** Network hooks for tests: decryption-error callback, chaos wrapper, another handshake identity. */
  network?: Pick<P2pNetworkComponents, 'onDecryptError' | 'outboundFrames' | 'handshakeIdentity'>;
}

/**
 * Read the identity PEM at `path`; create it (0600, parent 0700) when missing and allowed.
 *
 * @example const identity = await loadIdentity('/var/lib/edgebox/p2p/key.pem', true);
 */
export async function loadIdentity(path: string, create: boolean): Promise<Identity> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
      throw new P2pError('P2P_START', `identity file ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
    }
    const identity = generateIdentity();
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, exportIdentityPem(identity).privateKeyPem, { mode: 0o600, flag: 'wx' });
    return identity;
  }
  try {
    return importIdentityPem(pem);
  } catch (err) {
    throw new P2pError('P2P_START', `identity file ${path} is not an Ed25519 PKCS#8 PEM key`, { cause: err, details: { path } });
  }
}

function restartShape(c: P2pConfig): string {
  return JSON.stringify({ ops: c.ops, identity: c.identity, listen: c.listen, streams: c.streams, addressBook: c.addressBook, limits: c.limits, rateLimit: c.rateLimit, suites: c.suites ?? null, features: c.features, resumption: c.resumption, acks: c.acks });
}

interface Redial {
  backoff: Backoff;
  breaker: CircuitBreaker;
  timer: ReturnType<typeof setTimeout> | undefined;
  dialing: boolean;
}

/**
 * Create the p2p service (not started).
 *
 * @example
 * const p2p = createP2pService();
 * await p2p.start({ identity: { keyFile: '/var/lib/edgebox/p2p/key.pem' }, listen: ['/ip4/0.0.0.0/tcp/4001'], streams: ['chat'],
 *   addressBook: { path: '/var/lib/edgebox/p2p/peers.json' } });
 * await p2p.network!.send(peer, 'chat', new TextEncoder().encode('hi'));
 * await p2p.stop();
 */
export function createP2pService(init: P2pServiceInit = {}): P2pService {
  const log = init.logger ?? createLogger({ app: 'p2p' });
  const events: TypedEmitter<P2pEvents> = createTypedEmitter<P2pEvents>({ maxListeners: 256 });
  const publisher = createP2pEventPublisher(init.bus === undefined ? {} : { bus: init.bus });
  const forward = (event: EventV1): void => {
    events.emit('event', event);
  };
  const registry = createMetricsRegistry({ app: 'p2p' });
  let network: P2pNetwork | null = null;
  let book: AddressBook | null = null;
  let access: AccessList | null = null;
  let config: P2pConfig | null = null;
  const redials = new Map<string, Redial>();
  const unsubscribe: Array<() => void> = [];
  registerP2pMetrics(registry, () => network);

  function redial(peer: string): Redial {
    let r = redials.get(peer);
    if (r === undefined) {
      r = { backoff: createBackoff(config!.reconnect), breaker: createCircuitBreaker({ failureThreshold: 5, openMs: 30_000 }), timer: undefined, dialing: false };
      redials.set(peer, r);
    }
    return r;
  }

  /** Dial `peer` now if it is an auto-connect peer that is not established; reschedule on failure. */
  function dialAutoPeer(peer: string): void {
    const net = network;
    const record = book?.get(peer);
    if (net === null || !net.running || record === undefined || !record.autoConnect) return;
    if (net.established().includes(peer) || !access!.check(peer).allowed) return;
    const r = redial(peer);
    if (r.dialing || r.timer !== undefined) return;
    if (!r.breaker.allow()) {
      schedule(peer, r, r.breaker.snapshot().retryAfterMs);
      return;
    }
    r.dialing = true;
    net.connect(peer, record.addresses).then(
      () => {
        r.dialing = false;
        r.breaker.recordSuccess();
        r.backoff.reset();
      },
      (err: unknown) => {
        r.dialing = false;
        r.breaker.recordFailure();
        log.debug({ peer, err: (err as Error).message }, 'auto-connect failed');
        schedule(peer, r, r.backoff.next());
      },
    );
  }

  function schedule(peer: string, r: Redial, delayMs: number): void {
    if (r.timer !== undefined) return;
    r.timer = setTimeout(() => {
      r.timer = undefined;
      dialAutoPeer(peer);
    }, delayMs);
    r.timer.unref?.();
  }

  /** `peer:<id>` / `cidr:<range>` of the rules the config holds now (reload removes the rest). */
  let configRules = new Set<string>();

  /**
   * Apply the config's rules; rules an earlier config added and this one no longer has are
   * removed (`edgebox-p2p block --remove` then reload). Rules added at runtime through the
   * API are not the config's and stay.
   */
  function applyAccess(list: AccessList, c: P2pConfig): void {
    const now = new Set(c.access.rules.map((r) => (r.peer !== undefined ? `peer:${r.peer}` : `cidr:${r.cidr ?? ''}`)));
    for (const key of configRules) {
      if (now.has(key)) continue;
      if (key.startsWith('peer:')) list.removePeer(key.slice(5));
      else list.removeCidr(key.slice(5));
    }
    configRules = now;
    for (const rule of c.access.rules) {
      const ruleInit = { reason: rule.reason, ttlMs: rule.ttlMs };
      if (rule.peer !== undefined) {
        if (rule.action === 'block') list.blockPeer(rule.peer, ruleInit);
        else list.allowPeer(rule.peer, ruleInit);
      }
      if (rule.cidr !== undefined) {
        if (rule.action === 'block') list.blockCidr(rule.cidr, ruleInit);
        else list.allowCidr(rule.cidr, ruleInit);
      }
    }
  }

  /**
   * Merge the peers of the book file into the running book (reload after `edgebox-p2p add`
   * wrote the file): a second, read-only book reads it; new peers are added (auto-connect
   * ones dialled by the change listener), known ones get the file's addresses and fields.
   */
  async function mergeBookFile(live: AddressBook, path: string): Promise<void> {
    const file = createAddressBook({ path, autoSaveDelayMs: false, maxPeers: live.maxPeers });
    const report = await file.load();
    if (report.problems.length > 0) log.warn({ problems: report.problems }, 'address book file problems at reload');
    for (const p of file.list()) {
      try {
        live.add({ id: p.id, addresses: [...p.addresses], metadata: { ...p.metadata }, tags: [...p.tags], autoConnect: p.autoConnect });
      } catch (err) {
        log.warn({ peer: p.id, err: (err as Error).message }, 'address book peer not merged');
      }
    }
  }

  const life = createLifecycle<P2pConfig>({
    name: 'p2p',
    schema: P2pConfigSchema,
    async start(c) {
      config = c;
      configRules = new Set();
      const identity = await loadIdentity(c.identity.keyFile, c.identity.create);
      access = createAccessList({ defaultAction: c.access.defaultAction });
      applyAccess(access, c);
      book = createAddressBook({ path: c.addressBook.path, maxPeers: c.addressBook.maxPeers });
      if (c.addressBook.path !== undefined) {
        const report = await book.load();
        if (report.problems.length > 0) log.warn({ problems: report.problems }, 'address book problems (files kept aside)');
      }
      for (const p of c.peers) book.add(p);
      const net = await createP2pNetwork(
        {
          listen: c.listen,
          streams: c.streams,
          maxPeers: c.limits.maxPeers,
          maxPendingConnections: c.limits.maxPendingConnections,
          maxStreamsPerPeer: c.limits.maxStreamsPerPeer,
          maxMessageBytes: c.limits.maxMessageBytes,
          handshakeTimeoutMs: c.limits.handshakeTimeoutMs,
          feedCapacity: c.limits.feedCapacity,
          sendQueueMessages: c.limits.sendQueueMessages,
          rateLimit: c.rateLimit,
          suites: c.suites,
          features: c.features,
          tickets: { lifetimeMs: c.resumption.ticketLifetimeMs, rotateMs: c.resumption.ticketKeyRotateMs },
          ack: c.acks,
        },
        { identity, accessList: access, ...init.network },
      );
      const acl = access;
      const addressBook = book;
      unsubscribe.push(
        net.events.on('peer:state', (s) => {
          events.emit('peer:state', s);
          forward(publisher.peerState(s.peer, s.from, s.to, s.reason));
          if (s.to === 'disconnected' && net.running) {
            const r = addressBook.get(s.peer)?.autoConnect === true ? redial(s.peer) : undefined;
            if (r !== undefined) schedule(s.peer, r, r.backoff.next());
          }
        }),
        net.events.on('peer:established', (e) => {
          events.emit('peer:established', e);
          forward(publisher.handshakeCompleted(e.peer, e.role, e.suite, e.handshakeMs, e.resumed));
          addressBook.markSeen(e.peer);
          log.info({ peer: e.peer, role: e.role, suite: e.suite, ms: e.handshakeMs, resumed: e.resumed }, 'peer established');
        }),
        net.events.on('handshake:failed', (f) => {
          events.emit('handshake:failed', f);
          forward(publisher.handshakeFailed(f.peer, f.code, f.message));
          log.warn({ peer: f.peer, code: f.code, reason: f.message }, 'handshake failed');
        }),
        net.events.on('decrypt:error', (d) => events.emit('decrypt:error', d)),
        net.events.on('message', (m) => events.emit('message', m)),
        acl.onChange((change) => {
          forward(publisher.accessChanged(change));
          log.info({ target: change.entry.target, value: change.entry.value, action: change.entry.action, change: change.type }, 'access list changed');
          if (change.entry.action === 'block') void net.enforceBlocks();
        }),
        addressBook.onChange((change) => {
          if (change.type === 'loaded') return;
          forward(publisher.peersChanged(change.peer.id, change.type));
          if (change.type !== 'removed') dialAutoPeer(change.peer.id);
        }),
      );
      network = net;
      await net.start();
      log.info({ peerId: net.peerId, addresses: net.multiaddrs(), peers: addressBook.size }, 'p2p started');
      for (const p of addressBook.list({ autoConnect: true })) dialAutoPeer(p.id);
    },
    async reload(next, current) {
      if (restartShape(next) !== restartShape(current)) {
        throw new P2pError('P2P_RELOAD_UNSUPPORTED', 'this reload changes identity, listen, streams, addressBook, limits, rateLimit, suites, features, resumption, acks or ops: restart the service to apply it');
      }
      config = next;
      if (access !== null) applyAccess(access, next);
      for (const p of next.peers) book?.add(p);
      if (book !== null && next.addressBook.path !== undefined) await mergeBookFile(book, next.addressBook.path);
    },
    async stop() {
      for (const r of redials.values()) if (r.timer !== undefined) clearTimeout(r.timer);
      redials.clear();
      for (const u of unsubscribe.splice(0)) u();
      const net = network;
      network = null;
      await net?.stop();
      const b = book;
      book = null;
      access = null;
      await b?.close();
    },
  });

  const status = (): P2pStatus => {
    const net = network;
    const c = net?.counters();
    return {
      running: net?.running ?? false,
      peerId: net?.peerId ?? null,
      addresses: net?.multiaddrs() ?? [],
      addressBook: { peers: book?.size ?? 0, path: config?.addressBook.path ?? null },
      counters: {
        handshakes: c?.handshakes ?? 0,
        handshakeFailures: c?.handshakeFailures ?? 0,
        identityMismatches: c?.identityMismatches ?? 0,
        messagesIn: c?.messagesIn ?? 0,
        messagesOut: c?.messagesOut ?? 0,
        bytesIn: c?.bytesIn ?? 0,
        bytesOut: c?.bytesOut ?? 0,
        dropped: { ...(c?.dropped ?? {}) },
        resumed: c?.resumed ?? 0,
        resumeRejected: c?.resumeRejected ?? 0,
        ticketsIssued: c?.ticketsIssued ?? 0,
        ticketsAccepted: c?.ticketsAccepted ?? 0,
        ticketsRejected: { ...(c?.ticketsRejected ?? {}) },
        acksSent: c?.acksSent ?? 0,
        acksReceived: c?.acksReceived ?? 0,
        ackRetries: c?.ackRetries ?? 0,
        ackTimeouts: c?.ackTimeouts ?? 0,
        duplicates: c?.duplicates ?? 0,
        sendQueued: c?.sendQueued ?? 0,
        sendQueueFull: c?.sendQueueFull ?? 0,
      },
      peers: (net?.peers() ?? []).map((p) => ({
        ...p,
        autoConnect: book?.get(p.peer)?.autoConnect ?? false,
        streams: Object.fromEntries(Object.entries(p.streams).map(([k, s]) => [k, { messagesIn: s.messagesIn, bytesIn: s.bytesIn, messagesOut: s.messagesOut, bytesOut: s.bytesOut }])),
      })),
    };
  };

  const health = (): HealthReport => {
    if (life.state !== 'running' && life.state !== 'reloading') return lifecycleHealth(life.state, 'p2p');
    const net = network;
    if (net === null || !net.running) return healthReport([healthCheck('network', 'failing', 'not running')], false);
    const auto = book?.list({ autoConnect: true }) ?? [];
    const established = new Set(net.established());
    const up = auto.filter((p) => established.has(p.id)).length;
    const peers =
      up === auto.length
        ? healthCheck('peers', 'ok', `${up}/${auto.length} auto-connect peers established`)
        : healthCheck('peers', 'degraded', `${up}/${auto.length} auto-connect peers established`);
    return healthReport([healthCheck('network', 'ok', `listening on ${net.multiaddrs().length} addresses`), peers]);
  };

  return {
    name: 'p2p',
    configSchema: P2pConfigSchema,
    events,
    bus: publisher.bus,
    registry,
    get network() {
      return network;
    },
    get addressBook() {
      return book;
    },
    get accessList() {
      return access;
    },
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

/** The peer id of an identity file's key, without starting anything (CLI `id`). */
export async function peerIdOfKeyFile(path: string): Promise<string> {
  return peerIdFromIdentity(await loadIdentity(path, false));
}
