/**
 * The p2p network of one node: the libp2p node, the application handshake on every new
 * connection, a session per peer, named streams in and out, the message feed, per-peer
 * connection state machines, statistics and the decryption-error callback. The Service
 * (service.ts) adds the address book, reconnects, events on the bus and metrics on top.
 *
 * Life of a peer:
 *   connection:open ──▶ connected ──(lower peer id opens the handshake stream)──▶ established
 *        (session installed, streams usable)  ──peer:disconnect──▶ disconnected (keys wiped)
 * A connection that is not established within handshakeTimeoutMs is closed.
 */
import '@edgebox/runtime/polyfill';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { createTypedEmitter, type TypedEmitter } from '@edgebox/runtime';
import type { HandshakeSuite, Identity } from '@edgebox/crypto';
import { createConnectionStateMachine, createRateLimiter, isPeerId, peerIdFromIdentity, type AccessList, type ConnectionState, type ConnectionStateMachine, type RateLimiter } from '@edgebox/peers';
import { randomInt } from 'node:crypto';
import { createStreamDecoder, type StreamFrame } from '@edgebox/framing';
import {
  ACK_DEDUP_WINDOW,
  DEFAULT_ACK_RETRIES,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_SEND_QUEUE_MESSAGES,
  FLAG_ACK_REQUESTED,
  MAX_PENDING_ACKS,
  MESSAGE_ID_BYTES,
  AEAD_TAG_BYTES,
  MESSAGE_COUNTER_BYTES,
  TYPE_ACK,
  TYPE_MESSAGE,
  CAPABILITIES_VERSION,
  DEFAULT_FEED_QUEUE_MESSAGES,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_STREAMS_PER_PEER,
  DEFAULT_PEER_MESSAGE_BURST,
  DEFAULT_PEER_MESSAGES_PER_SECOND,
  HANDSHAKE_PROTOCOL,
  MAX_MESSAGE_BYTES_LIMIT,
} from './constants.js';
import { invalidArgument, notConnected, notRunning, P2pError, tooLarge } from './errors.js';
import { createMessageFeed, type MessageFeed, type MessageSubscription, type P2pMessage } from './feed.js';
import { createHandshakeCredentials, runHandshake, type HandshakeCredentials, type P2pHandshake } from './handshake.js';
import { negotiateCapabilities, type Capabilities } from './capabilities.js';
import { createSendQueue, priorityIndex, type Priority, type SendQueue, type SendQueueCounters } from './send-queue.js';
import { createTicketIssuer, createTicketStore, type TicketRejection } from './tickets.js';
import { createLibp2pNode, hangUpBlocked, type P2pLibp2p } from './node.js';
import { createSession, OPEN_OK, OPEN_RESULT_NAMES, type Session, type SessionInit } from './session.js';
import { checkStreamName, receiveStream, streamProtocol, type DecryptError, type DropReason } from './streams.js';

/** Options of createP2pNetwork(). */
export interface P2pNetworkInit {
  /** Multiaddrs to listen on (`/ip4/127.0.0.1/tcp/0`, `/memory/x`). */
  listen: readonly string[];
  /** Stream names this node accepts (more with addStream()). */
  streams?: readonly string[];
  /** Connections at most (libp2p prunes beyond). Default 300. */
  maxPeers?: number;
  /** Inbound connections upgrading at once. Default 10. */
  maxPendingConnections?: number;
  /** Inbound connections per second from one host. Default 5 (libp2p's). */
  inboundConnectionThreshold?: number;
  /** Named streams per peer, each direction. Default 32. */
  maxStreamsPerPeer?: number;
  /** Largest message. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Unsent bytes a stream may hold before send() refuses with P2P_LIMIT. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
  /** Handshake suites, best first (default: hybrid). */
  suites?: readonly HandshakeSuite[];
  /** Inbound messages per peer: token bucket. */
  rateLimit?: { capacity: number; refillPerSecond: number };
  /** Messages a feed subscriber may fall behind. Default 4096. */
  feedCapacity?: number;
  /** Session rekey tunables (tests). */
  session?: Pick<SessionInit, 'rekeyAfterMessages' | 'rekeyAfterMs'>;
  /** Optional features this node advertises in CAPS (default: all). A feature is used only when both sides have it. */
  features?: { acks?: boolean; priorities?: boolean; resumption?: boolean };
  /** Resumption tickets this node issues as responder. */
  tickets?: { lifetimeMs?: number; rotateMs?: number };
  /** Messages queued per priority and stream under back-pressure before P2P_LIMIT. Default 1024. */
  sendQueueMessages?: number;
  /** Defaults of acknowledged sends. */
  ack?: { timeoutMs?: number; retries?: number };
}

/** Options of send(). */
export interface SendOptions {
  signal?: AbortSignal;
  /** Under back-pressure, higher priorities leave first (send-queue.ts). Default 'normal'. */
  priority?: Priority;
  /** Resolve only once the receiver acknowledged (P2P_UNSUPPORTED when the peer has no acks). */
  ack?: boolean;
  /** Wait this long for the ACK of each attempt. Default 5000. */
  timeoutMs?: number;
  /** Attempts after the first, same message id (the receiver drops duplicates). Default 2. */
  retries?: number;
}

/** What the network takes from outside. */
export interface P2pNetworkComponents {
  identity: Identity;
  accessList: AccessList;
  /**
   * The identity presented in the application handshake. Default: `identity`. Only tests set
   * another, to play a peer whose handshake identity is not its libp2p identity.
   */
  handshakeIdentity?: Identity;
  /** Called for every received frame dropped (tampered, replayed, malformed, over the rate). */
  onDecryptError?: (error: DecryptError) => void;
  /**
   * Chaos hook (tests): the frames actually sent for one sealed frame: `[frame]` normally,
   * `[]` to drop, a modified copy to corrupt, two copies to replay.
   */
  outboundFrames?: (peer: string, stream: string, frame: Uint8Array) => readonly Uint8Array[];
}

/** Events of the network (TypedEmitter). */
export interface P2pNetworkEvents {
  'peer:state': { peer: string; from: ConnectionState; to: ConnectionState; reason: string };
  'peer:established': { peer: string; role: 'initiator' | 'responder'; suite: string; handshakeMs: number; resumed: boolean };
  'handshake:failed': { peer: string; code: string; message: string };
  'decrypt:error': DecryptError;
  message: P2pMessage;
}

/** Counters of one stream of one peer. */
export interface StreamStats {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  dropped: Record<DropReason, number>;
}

/** What status() says about one peer. */
export interface PeerStatus {
  peer: string;
  state: ConnectionState;
  since: number;
  suite: string | null;
  rttMs: number | null;
  addresses: string[];
  streams: Record<string, StreamStats>;
  /** What the peer advertised in CAPS (null before the handshake). */
  capabilities: Capabilities | null;
  /** The session was resumed from a ticket. */
  resumed: boolean;
  /** Messages waiting in this peer's send queues. */
  sendQueued: number;
}

/** The network of one node. */
export interface P2pNetwork {
  readonly peerId: string;
  readonly libp2p: P2pLibp2p;
  readonly events: TypedEmitter<P2pNetworkEvents>;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Addresses we listen on, with `/p2p/<id>`. */
  multiaddrs(): string[];
  /** Accept a stream name (registers its protocol). */
  addStream(name: string): Promise<void>;
  /** Dial `peer` at `addresses` (or what libp2p knows) and wait until established. */
  connect(peer: string, addresses?: readonly string[], options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /** Close every connection to `peer`. */
  disconnect(peer: string): Promise<void>;
  /** Seal and send one message on `stream` to an established `peer`. */
  send(peer: string, stream: string, data: Uint8Array, options?: SendOptions): Promise<void>;
  /** Send to many peers at once (at most `concurrency` in flight); per-peer outcome. */
  sendToMany(peers: readonly string[], stream: string, data: Uint8Array, options?: { concurrency?: number }): Promise<Map<string, P2pError | null>>;
  /** A feed of received messages. */
  messages(init?: { capacity?: number; streams?: readonly string[]; peers?: readonly string[]; signal?: AbortSignal }): MessageSubscription;
  /** Round trip to a connected peer (libp2p ping), ms. */
  ping(peer: string, options?: { signal?: AbortSignal }): Promise<number>;
  /** Established peers. */
  established(): string[];
  /** The state of `peer` (disconnected when unknown). */
  state(peer: string): ConnectionState;
  /** Close connections of peers the access list now blocks. */
  enforceBlocks(): Promise<string[]>;
  peers(): PeerStatus[];
  /** Node-wide counters. */
  counters(): NetworkCounters;
}

/** Node-wide counters, read at scrape time. */
export interface NetworkCounters {
  handshakes: number;
  handshakeFailures: number;
  identityMismatches: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: Record<DropReason, number>;
  feedDropped: number;
  /** Handshakes that resumed from a ticket. */
  resumed: number;
  /** Our tickets the responder refused (a full handshake followed). */
  resumeRejected: number;
  ticketsIssued: number;
  ticketsAccepted: number;
  /** Tickets presented to us and refused, by reason. */
  ticketsRejected: Record<TicketRejection, number>;
  acksSent: number;
  acksReceived: number;
  ackRetries: number;
  ackTimeouts: number;
  /** Ack-requested messages received again (a retry) and not delivered twice. */
  duplicates: number;
  /** Sends that waited in a priority queue. */
  sendQueued: number;
  /** Sends refused because their priority queue was full. */
  sendQueueFull: number;
}

interface PeerEntry {
  id: string;
  machine: ConnectionStateMachine;
  session: Session | undefined;
  /**
   * The session of a connection that just closed, kept while inbound streams still hold
   * frames that arrived before the close (their keys are wiped when the last one ends, or
   * at the next session).
   */
  draining: Session | undefined;
  suite: string | null;
  rttMs: number | null;
  out: Map<string, Promise<Stream>>;
  inbound: number;
  stats: Map<string, StreamStats>;
  /** connect() calls waiting: called with undefined when established, with the error when the handshake failed. */
  waiters: Set<(err?: P2pError) => void>;
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** What the peer advertised, and what both have (null before the first handshake). */
  remoteCaps: Capabilities | null;
  caps: Capabilities | null;
  resumed: boolean;
  /** One send scheduler per outbound stream name. */
  queues: Map<string, SendQueue>;
  /** Acknowledged sends waiting, by message id. */
  acks: Map<number, () => void>;
  /** Recent ack-requested message ids per stream name (duplicates of retries are dropped). */
  seen: Map<string, DedupWindow>;
}

/** The last ACK_DEDUP_WINDOW ids: a set for lookup, a ring for eviction. */
interface DedupWindow {
  set: Set<number>;
  ring: number[];
  next: number;
}

function seenBefore(w: DedupWindow, id: number): boolean {
  if (w.set.has(id)) return true;
  if (w.ring.length < ACK_DEDUP_WINDOW) w.ring.push(id);
  else {
    w.set.delete(w.ring[w.next]!);
    w.ring[w.next] = id;
    w.next = (w.next + 1) % ACK_DEDUP_WINDOW;
  }
  w.set.add(id);
  return false;
}

function writeId(b: Uint8Array, id: number): void {
  const v = new DataView(b.buffer, b.byteOffset, MESSAGE_ID_BYTES);
  v.setUint32(0, id % 2 ** 32, true);
  v.setUint32(4, Math.floor(id / 2 ** 32), true);
}

function readId(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, MESSAGE_ID_BYTES);
  return v.getUint32(4, true) * 2 ** 32 + v.getUint32(0, true);
}

/** The session name of the ACKs for messages on `stream` ('/' never appears in a stream name). */
const ackName = (stream: string): string => `${stream}/ack`;

const MAX_TRACKED_PEERS = 100_000;

/** Failures of one attempt of an acknowledged send that a retry may cure. */
function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'P2P_NOT_CONNECTED' || code === 'P2P_LIMIT';
}

function emptyDrops(): Record<DropReason, number> {
  return { malformed: 0, 'bad-auth': 0, replayed: 0, 'rate-limited': 0, framing: 0, 'no-session': 0 };
}

/**
 * Create the network (call start()).
 *
 * @example
 * const net = await createP2pNetwork({ listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['chat'] }, { identity, accessList });
 * await net.start();
 * await net.connect(peer, ['/ip4/192.0.2.7/tcp/4001']);
 * await net.send(peer, 'chat', new TextEncoder().encode('hi'));
 * for await (const m of net.messages()) console.log(m.peer, m.stream, m.data);
 */
export async function createP2pNetwork(init: P2pNetworkInit, components: P2pNetworkComponents): Promise<P2pNetwork> {
  const maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
    throw invalidArgument('maxMessageBytes', maxMessageBytes, `an integer in 1..${MAX_MESSAGE_BYTES_LIMIT}`);
  }
  const maxStreams = init.maxStreamsPerPeer ?? DEFAULT_MAX_STREAMS_PER_PEER;
  const maxBufferedBytes = init.maxBufferedBytes ?? 8 * 1024 * 1024;
  const handshakeTimeoutMs = init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const sendQueueMessages = init.sendQueueMessages ?? DEFAULT_SEND_QUEUE_MESSAGES;
  const ackTimeoutMs = init.ack?.timeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  const ackRetries = init.ack?.retries ?? DEFAULT_ACK_RETRIES;
  const localCaps: Capabilities = {
    version: CAPABILITIES_VERSION,
    acks: init.features?.acks ?? true,
    priorities: init.features?.priorities ?? true,
    resumption: init.features?.resumption ?? true,
    maxMessageBytes,
  };
  const ticketIssuer = createTicketIssuer(init.tickets);
  const ticketStore = createTicketStore();
  const queueCounters: SendQueueCounters = { queued: 0, full: 0 };
  // Message ids of acknowledged sends: 21 random high bits per node run, so a restarted sender
  // is not mistaken for duplicates of its previous run, then a 32-bit counter.
  const ackIdBase = randomInt(0, 2 ** 21) * 2 ** 32;
  let ackCounter = 0;
  const { identity, accessList } = components;
  const peerId = peerIdFromIdentity(identity);
  const libp2p = await createLibp2pNode(
    {
      listen: init.listen,
      maxConnections: init.maxPeers,
      maxPendingConnections: init.maxPendingConnections,
      inboundConnectionThreshold: init.inboundConnectionThreshold,
      maxStreamsPerProtocol: maxStreams,
    },
    { identity, accessList },
  );
  const events = createTypedEmitter<P2pNetworkEvents>({ maxListeners: 256 });
  const feed: MessageFeed = createMessageFeed(init.feedCapacity ?? DEFAULT_FEED_QUEUE_MESSAGES);
  const rateLimiter: RateLimiter = createRateLimiter({
    capacity: init.rateLimit?.capacity ?? DEFAULT_PEER_MESSAGE_BURST,
    refillPerSecond: init.rateLimit?.refillPerSecond ?? DEFAULT_PEER_MESSAGES_PER_SECOND,
  });
  const entries = new Map<string, PeerEntry>();
  const streamNames = new Set<string>();
  const counters: NetworkCounters = {
    handshakes: 0, handshakeFailures: 0, identityMismatches: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, dropped: emptyDrops(), feedDropped: 0,
    resumed: 0, resumeRejected: 0, ticketsIssued: 0, ticketsAccepted: 0, ticketsRejected: { ...ticketIssuer.counters.rejected },
    acksSent: 0, acksReceived: 0, ackRetries: 0, ackTimeouts: 0, duplicates: 0, sendQueued: 0, sendQueueFull: 0,
  };
  let credentials: HandshakeCredentials | undefined;
  let running = false;

  function entry(id: string): PeerEntry {
    let e = entries.get(id);
    if (e !== undefined) return e;
    if (entries.size >= MAX_TRACKED_PEERS) {
      // Forget the oldest disconnected peer: state of peers long gone must not pile up.
      for (const [k, v] of entries) {
        if (v.machine.state === 'disconnected') {
          entries.delete(k);
          break;
        }
      }
    }
    const machine = createConnectionStateMachine();
    e = {
      id, machine, session: undefined, draining: undefined, suite: null, rttMs: null, out: new Map(), inbound: 0, stats: new Map(), waiters: new Set(), handshakeTimer: undefined,
      remoteCaps: null, caps: null, resumed: false, queues: new Map(), acks: new Map(), seen: new Map(),
    };
    machine.onTransition((t) => events.emit('peer:state', { peer: id, from: t.from, to: t.to, reason: t.reason }));
    entries.set(id, e);
    return e;
  }

  function stats(e: PeerEntry, stream: string): StreamStats {
    let s = e.stats.get(stream);
    if (s === undefined) {
      s = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0, dropped: emptyDrops() };
      if (e.stats.size < maxStreams * 2) e.stats.set(stream, s); // beyond: counted node-wide only
    }
    return s;
  }

  function move(e: PeerEntry, to: ConnectionState, reason: string): void {
    if (e.machine.state === to) return;
    if (!e.machine.tryTransition(to, reason) && to === 'established') {
      // e.g. disconnected -> established for an inbound connection: pass through connected.
      e.machine.tryTransition('connected', 'inbound connection');
      e.machine.tryTransition(to, reason);
    }
  }

  function endSession(e: PeerEntry, reason: string): void {
    if (e.handshakeTimer !== undefined) clearTimeout(e.handshakeTimer);
    e.handshakeTimer = undefined;
    e.draining?.destroy();
    e.draining = undefined;
    if (e.inbound > 0) e.draining = e.session;
    else e.session?.destroy();
    e.session = undefined;
    e.suite = null;
    for (const q of e.queues.values()) q.fail(new P2pError('P2P_NOT_CONNECTED', `peer ${e.id}: ${reason}`, { details: { peer: e.id } }));
    e.queues.clear();
    for (const p of e.out.values()) void p.then((s) => s.abort(new P2pError('P2P_NOT_CONNECTED', reason)), () => undefined);
    e.out.clear();
    move(e, 'disconnected', reason);
  }

  function install(e: PeerEntry, outcome: P2pHandshake, started: number): void {
    const result = outcome.result;
    e.session?.destroy();
    e.draining?.destroy();
    e.draining = undefined;
    // Twice the stream names: each name may also carry its ACKs (`<name>/ack`, §4.2).
    e.session = createSession(result, { maxMessageBytes, maxStreams: maxStreams * 2, ...init.session });
    result.destroy(); // the session holds its own copies
    e.suite = result.suite;
    e.remoteCaps = outcome.capabilities;
    e.caps = negotiateCapabilities(localCaps, outcome.capabilities);
    e.resumed = outcome.resumed;
    if (outcome.resumed) counters.resumed++;
    if (e.handshakeTimer !== undefined) clearTimeout(e.handshakeTimer);
    e.handshakeTimer = undefined;
    counters.handshakes++;
    move(e, 'established', `handshake ok (${result.role})`);
    events.emit('peer:established', { peer: e.id, role: result.role, suite: result.suite, handshakeMs: Math.round(performance.now() - started), resumed: outcome.resumed });
    for (const w of e.waiters) w();
    e.waiters.clear();
  }

  function wake(e: PeerEntry, err: P2pError): void {
    for (const w of e.waiters) w(err);
    e.waiters.clear();
  }

  function handshakeFailed(e: PeerEntry, err: unknown, connection: Connection): void {
    counters.handshakeFailures++;
    const code = (err as { code?: string }).code ?? 'P2P_HANDSHAKE';
    if (code === 'P2P_IDENTITY_MISMATCH') counters.identityMismatches++;
    events.emit('handshake:failed', { peer: e.id, code, message: (err as Error).message });
    wake(e, err instanceof P2pError ? err : new P2pError('P2P_HANDSHAKE', (err as Error).message, { cause: err }));
    void connection.close().catch(() => undefined);
  }

  function onConnectionOpen(connection: Connection): void {
    const id = connection.remotePeer.toString();
    const e = entry(id);
    if (e.machine.state !== 'established') {
      if (e.machine.state === 'disconnected' || e.machine.state === 'connecting') move(e, 'connected', `${connection.direction} connection`);
      if (e.handshakeTimer === undefined) {
        e.handshakeTimer = setTimeout(() => {
          e.handshakeTimer = undefined;
          if (e.session === undefined) void connection.close().catch(() => undefined);
        }, handshakeTimeoutMs + 1000);
        e.handshakeTimer.unref?.();
      }
    }
    // Exactly one side initiates (p2p.md §3): the lower peer id. An established peer dialling
    // us again has probably restarted (its old connection not yet timed out here): new session.
    if (peerId < id && (e.session === undefined || connection.direction === 'inbound')) void initiate(e, connection);
  }

  async function initiate(e: PeerEntry, connection: Connection): Promise<void> {
    const started = performance.now();
    try {
      const stream = await connection.newStream(HANDSHAKE_PROTOCOL, { signal: AbortSignal.timeout(handshakeTimeoutMs) });
      const ticket = localCaps.resumption ? ticketStore.take(e.id) : undefined;
      const outcome = await runHandshake(stream, {
        role: 'initiator', credentials: credentials!, remotePeer: e.id, suites: init.suites, timeoutMs: handshakeTimeoutMs, capabilities: localCaps, ticket,
      });
      if (outcome.resumeRejected !== undefined) counters.resumeRejected++;
      if (outcome.ticket !== undefined) ticketStore.put(e.id, outcome.ticket);
      if (connection.status !== 'open' || !running) {
        outcome.result.destroy();
        return;
      }
      install(e, outcome, started);
    } catch (err) {
      handshakeFailed(e, err, connection);
    }
  }

  function onHandshakeStream(stream: Stream, connection: Connection): void {
    const id = connection.remotePeer.toString();
    const e = entry(id);
    const started = performance.now();
    if (peerId < id) {
      stream.abort(new P2pError('P2P_HANDSHAKE', `peer ${id} must wait for our handshake (lower peer id initiates)`));
      return;
    }
    runHandshake(stream, {
      role: 'responder', credentials: credentials!, remotePeer: id, suites: init.suites, timeoutMs: handshakeTimeoutMs, capabilities: localCaps,
      ...(localCaps.resumption ? { tickets: ticketIssuer } : {}),
    }).then(
      (outcome) => {
        if (!running) return outcome.result.destroy();
        install(e, outcome, started);
      },
      (err: unknown) => handshakeFailed(e, err, connection),
    );
  }

  /** Resolves true once `e` is established, false on handshake failure or after the timeout. */
  function whenEstablished(e: PeerEntry): Promise<boolean> {
    if (e.session !== undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        e.waiters.delete(done);
        resolve(false);
      }, handshakeTimeoutMs);
      const done = (err?: P2pError): void => {
        clearTimeout(timer);
        resolve(err === undefined);
      };
      e.waiters.add(done);
    });
  }

  function onNamedStream(name: string, stream: Stream, connection: Connection): void {
    const id = connection.remotePeer.toString();
    const e = entries.get(id);
    if (e === undefined || e.machine.state === 'disconnected') {
      stream.abort(new P2pError('P2P_NOT_CONNECTED', `stream ${name} from ${id} before the handshake`));
      return;
    }
    if (e.inbound >= maxStreams) {
      stream.abort(new P2pError('P2P_LIMIT', `inbound streams of ${id} >= max ${maxStreams}`));
      return;
    }
    // The responder is established one frame before the initiator (p2p.md §3.3): a stream it
    // opens at once may arrive here before HANDSHAKE_DONE. Its frames wait in the stream
    // (bounded by yamux's window) until the session is installed.
    e.inbound++;
    if (e.session !== undefined) {
      readNamedStream(e, name, stream);
      return;
    }
    void whenEstablished(e).then((ok) => {
      if (ok) return readNamedStream(e, name, stream);
      stream.abort(new P2pError('P2P_NOT_CONNECTED', `stream ${name} from ${id}: no session`));
      e.inbound--;
    });
  }

  function readNamedStream(e: PeerEntry, name: string, stream: Stream): void {
    const id = e.id;
    const s = stats(e, name);
    void receiveStream(
      stream,
      {
        peer: id,
        stream: name,
        session: () => e.session ?? e.draining,
        rateLimiter,
        deliver(data, flags) {
          if (flags !== 0) {
            // §4.2: ack-requested. ACK every copy (the first ACK may have been lost), deliver once.
            if (data.length < MESSAGE_ID_BYTES) return this.dropped('malformed');
            const id = readId(data);
            sendAck(e, name, stream, id);
            let w = e.seen.get(name);
            if (w === undefined) e.seen.set(name, (w = { set: new Set(), ring: [], next: 0 }));
            if (seenBefore(w, id)) {
              counters.duplicates++;
              return;
            }
            data = data.subarray(MESSAGE_ID_BYTES);
          }
          if (data.length > maxMessageBytes) return this.dropped('malformed'); // the frame limit leaves room for an id
          s.messagesIn++;
          s.bytesIn += data.length;
          counters.messagesIn++;
          counters.bytesIn += data.length;
          const message: P2pMessage = { peer: id, stream: name, data, receivedAt: Date.now() };
          feed.push(message);
          if (events.listenerCount('message') > 0) events.emit('message', message);
        },
        dropped(reason) {
          s.dropped[reason]++;
          counters.dropped[reason]++;
          const info: DecryptError = { peer: id, stream: name, reason };
          components.onDecryptError?.(info);
          events.emit('decrypt:error', info);
        },
      },
      maxMessageBytes,
    ).finally(() => {
      e.inbound--;
      if (e.inbound === 0 && e.draining !== undefined) {
        e.draining.destroy();
        e.draining = undefined;
      }
    });
  }

  /** Seal an ACK of message `id` and write it back on the inbound stream it came on (§4.2). */
  function sendAck(e: PeerEntry, name: string, stream: Stream, id: number): void {
    const session = e.session ?? e.draining;
    // A sender that does not read its ACKs gets none beyond 64 KiB: it will retry or time out.
    if (session === undefined || stream.writeStatus !== 'writable' || stream.writeBufferLength > 65_536) return;
    const body = new Uint8Array(MESSAGE_ID_BYTES);
    writeId(body, id);
    let frame: Uint8Array;
    try {
      frame = session.seal(ackName(name), body, TYPE_ACK, 0);
    } catch {
      return; // session closing or stream-name bound: the sender retries
    }
    counters.acksSent++;
    const frames = components.outboundFrames === undefined ? [frame] : components.outboundFrames(e.id, ackName(name), frame);
    for (const f of frames) stream.send(f);
  }

  /** Read the ACKs the receiver writes back on our outbound stream `name`. */
  async function readAcks(e: PeerEntry, name: string, stream: Stream): Promise<void> {
    const decoder = createStreamDecoder({ maxPayload: MESSAGE_COUNTER_BYTES + MESSAGE_ID_BYTES + AEAD_TAG_BYTES, knownTypes: new Map([[TYPE_ACK, 0]]) });
    const label = ackName(name);
    const onAck = (frame: StreamFrame): void => {
      const session = e.session ?? e.draining;
      const r = session === undefined ? -1 : session.open(label, frame.type, frame.flags, frame.channel, frame.payload);
      if (r === OPEN_OK && session!.opened.length === MESSAGE_ID_BYTES) {
        counters.acksReceived++;
        e.acks.get(readId(session!.opened))?.();
        return;
      }
      const reason: DropReason = r < 0 ? 'no-session' : r === OPEN_OK ? 'malformed' : (OPEN_RESULT_NAMES[r] as DropReason);
      stats(e, name).dropped[reason]++;
      counters.dropped[reason]++;
      const info: DecryptError = { peer: e.id, stream: label, reason };
      components.onDecryptError?.(info);
      events.emit('decrypt:error', info);
    };
    try {
      for await (const chunk of stream) decoder.decode(chunk.subarray(), onAck, undefined);
    } catch (err) {
      // A broken ACK byte stream cannot be resynchronised: stop reading ACKs (sends retry, then time out).
      if ((err as { code?: string }).code?.startsWith('FRAMING_') === true) {
        counters.dropped.framing++;
        stats(e, name).dropped.framing++;
      }
    } finally {
      decoder.close();
    }
  }

  /** Seal one message and hand it to the stream (the send queue calls this in wire order). */
  function hand(e: PeerEntry, name: string, s: Stream, data: Uint8Array, flags: number): void {
    const session = e.session;
    if (session === undefined) throw notConnected(e.id);
    const frame = session.seal(name, data, TYPE_MESSAGE, flags);
    const plain = flags === 0 ? data.length : data.length - MESSAGE_ID_BYTES;
    const st = stats(e, name);
    st.messagesOut++;
    st.bytesOut += plain;
    counters.messagesOut++;
    counters.bytesOut += plain;
    if (components.outboundFrames === undefined) {
      s.send(frame);
      return;
    }
    for (const f of components.outboundFrames(e.id, name, frame)) s.send(f);
  }

  function queueFor(e: PeerEntry, name: string): SendQueue {
    let q = e.queues.get(name);
    if (q !== undefined) return q;
    q = createSendQueue(
      { maxMessages: sendQueueMessages, maxBytes: maxBufferedBytes, maxBufferedBytes },
      {
        stream: async () => {
          if (e.session === undefined) throw notConnected(e.id);
          return outStream(e, name);
        },
        hand: (s, data, flags) => hand(e, name, s, data, flags),
        counters: queueCounters,
      },
    );
    e.queues.set(name, q);
    return q;
  }

  /** An acknowledged send (§4.2): same id on every attempt; P2P_ACK_TIMEOUT after the retries. */
  async function sendAcked(peer: string, name: string, data: Uint8Array, priority: Priority, options: SendOptions): Promise<void> {
    const e = entries.get(peer)!;
    if (e.caps?.acks !== true) {
      throw new P2pError('P2P_UNSUPPORTED', `peer ${peer} does not acknowledge messages (not in its capabilities)`, { details: { peer, feature: 'acks' } });
    }
    if (e.acks.size >= MAX_PENDING_ACKS) throw new P2pError('P2P_LIMIT', `acknowledged sends waiting for ${peer} ${e.acks.size} >= max ${MAX_PENDING_ACKS}`, { details: { peer } });
    const timeoutMs = options.timeoutMs ?? ackTimeoutMs;
    const retries = options.retries ?? ackRetries;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw invalidArgument('timeoutMs', timeoutMs, 'a positive integer');
    if (!Number.isInteger(retries) || retries < 0 || retries > 100) throw invalidArgument('retries', retries, 'an integer in 0..100');
    ackCounter = (ackCounter + 1) % 2 ** 32;
    const id = ackIdBase + ackCounter;
    const payload = new Uint8Array(MESSAGE_ID_BYTES + data.length); // acknowledged sends copy once (optional path)
    writeId(payload, id);
    payload.set(data, MESSAGE_ID_BYTES);
    let acked = false;
    let wake: (() => void) | undefined;
    e.acks.set(id, () => {
      acked = true;
      wake?.();
    });
    try {
      let lastError: unknown;
      for (let attempt = 0; attempt <= retries && !acked; attempt++) {
        if (attempt > 0) counters.ackRetries++;
        options.signal?.throwIfAborted();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const waited = new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        try {
          // A retry after a reconnect goes on the new session (the receiver dedups by id).
          const current = entries.get(peer);
          if (current?.session === undefined) throw notConnected(peer);
          await queueFor(current, name).send(payload, FLAG_ACK_REQUESTED, priority, options.signal);
        } catch (err) {
          if (!isRetryable(err)) {
            clearTimeout(timer);
            throw err;
          }
          lastError = err;
        }
        if (!acked) await waited;
        clearTimeout(timer);
      }
      if (acked) return;
      counters.ackTimeouts++;
      throw new P2pError('P2P_ACK_TIMEOUT', `no ACK from ${peer} on ${name} after ${retries + 1} attempt(s) of ${timeoutMs} ms`, {
        cause: lastError,
        details: { peer, stream: name, attempts: retries + 1, timeoutMs },
      });
    } finally {
      e.acks.delete(id);
    }
  }

  async function handleStream(name: string): Promise<void> {
    await libp2p.handle(streamProtocol(name), (stream, connection) => onNamedStream(name, stream, connection), {
      maxInboundStreams: maxStreams,
      maxOutboundStreams: maxStreams,
    });
  }

  function outStream(e: PeerEntry, name: string): Promise<Stream> {
    const cached = e.out.get(name);
    if (cached !== undefined) return cached;
    if (e.out.size >= maxStreams) throw new P2pError('P2P_LIMIT', `outbound streams to ${e.id} >= max ${maxStreams}`);
    const opening = libp2p.dialProtocol(peerIdFromString(e.id), streamProtocol(name), { signal: AbortSignal.timeout(handshakeTimeoutMs) });
    e.out.set(name, opening);
    opening.then(
      (stream) => {
        const forget = (): void => {
          if (e.out.get(name) === opening) e.out.delete(name);
        };
        stream.addEventListener('close', forget, { once: true });
        if (e.caps?.acks === true) void readAcks(e, name, stream);
      },
      () => {
        if (e.out.get(name) === opening) e.out.delete(name);
      },
    );
    return opening;
  }

  function checkPeer(peer: unknown): asserts peer is string {
    if (!isPeerId(peer)) throw invalidArgument('peer', peer, 'a peer id (12D3KooW...)');
  }

  const network: P2pNetwork = {
    peerId,
    libp2p,
    events,
    get running() {
      return running;
    },

    async start() {
      if (running) return;
      credentials = await createHandshakeCredentials(components.handshakeIdentity ?? identity);
      libp2p.addEventListener('connection:open', (evt) => onConnectionOpen(evt.detail));
      libp2p.addEventListener('peer:disconnect', (evt) => {
        const e = entries.get(evt.detail.toString());
        if (e !== undefined) endSession(e, 'peer disconnected');
      });
      await libp2p.handle(HANDSHAKE_PROTOCOL, onHandshakeStream, { maxInboundStreams: 4, maxOutboundStreams: 4 });
      for (const name of init.streams ?? []) {
        checkStreamName(name);
        streamNames.add(name);
        await handleStream(name);
      }
      try {
        await libp2p.start();
      } catch (err) {
        throw new P2pError('P2P_START', `libp2p start: ${(err as Error).message}`, { cause: err, details: { listen: [...init.listen] } });
      }
      running = true;
    },

    async stop() {
      if (!running) return;
      running = false;
      // Close our outbound streams gracefully first so frames already handed to them leave
      // (bounded: a peer that does not read gets aborted at the deadline).
      const deadline = AbortSignal.timeout(2000);
      await Promise.allSettled(
        [...entries.values()].flatMap((e) => [...e.out.values()].map(async (p) => (await p).close({ signal: deadline }))),
      );
      for (const e of entries.values()) endSession(e, 'node stopping');
      ticketStore.clear();
      ticketIssuer.destroy();
      feed.close();
      await libp2p.stop();
    },

    multiaddrs() {
      return libp2p.getMultiaddrs().map((m) => m.toString());
    },

    async addStream(name) {
      checkStreamName(name);
      if (streamNames.has(name)) return;
      if (streamNames.size >= maxStreams) throw new P2pError('P2P_LIMIT', `stream names ${streamNames.size} >= max ${maxStreams}`);
      streamNames.add(name);
      await handleStream(name);
    },

    async connect(peer, addresses = [], options = {}) {
      checkPeer(peer);
      if (!running) throw notRunning('p2p network');
      if (!accessList.check(peer).allowed) throw new P2pError('P2P_BLOCKED', `peer ${peer} is blocked: ${accessList.check(peer).reason ?? ''}`, { details: { peer } });
      const e = entry(peer);
      if (e.session !== undefined) return;
      const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? handshakeTimeoutMs * 2), ...(options.signal ? [options.signal] : [])]);
      const established = new Promise<void>((resolve, reject) => {
        const done = (err?: P2pError): void => {
          signal.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err);
        };
        const onAbort = (): void => {
          e.waiters.delete(done);
          reject(new P2pError('P2P_HANDSHAKE', `peer ${peer} not established in time`, { details: { peer } }));
        };
        e.waiters.add(done);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (e.machine.state === 'disconnected') move(e, 'connecting', 'dial');
      const targets = addresses.length > 0 ? addresses.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${peer}`)) : [peerIdFromString(peer)];
      try {
        await libp2p.dial(targets.length === 1 ? targets[0]! : (targets as ReturnType<typeof multiaddr>[]), { signal });
      } catch (err) {
        if (e.session === undefined) {
          e.machine.tryTransition('disconnected', 'dial failed');
          established.catch(() => undefined);
          throw new P2pError('P2P_NOT_CONNECTED', `dial ${peer}: ${(err as Error).message}`, { cause: err, details: { peer } });
        }
      }
      await established;
    },

    async disconnect(peer) {
      checkPeer(peer);
      await libp2p.hangUp(peerIdFromString(peer));
      const e = entries.get(peer);
      if (e !== undefined) endSession(e, 'disconnect requested');
    },

    async send(peer, stream, data, options = {}) {
      checkStreamName(stream);
      if (!(data instanceof Uint8Array)) throw invalidArgument('data', typeof data, 'a Uint8Array');
      if (data.length > maxMessageBytes) throw tooLarge('message bytes', data.length, maxMessageBytes);
      const priority = options.priority ?? 'normal';
      priorityIndex(priority);
      const e = entries.get(peer);
      if (e?.session === undefined) throw notConnected(peer);
      // The peer said how much it accepts (CAPS): refuse here rather than have it dropped there.
      if (e.caps !== null && data.length > e.caps.maxMessageBytes) throw tooLarge('message bytes (peer limit)', data.length, e.caps.maxMessageBytes);
      if (options.ack === true) return sendAcked(peer, stream, data, priority, options);
      return queueFor(e, stream).send(data, 0, priority, options.signal);
    },

    async sendToMany(peers, stream, data, options = {}) {
      const concurrency = options.concurrency ?? 16;
      const results = new Map<string, P2pError | null>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < peers.length) {
          const p = peers[next++]!;
          try {
            await network.send(p, stream, data);
            results.set(p, null);
          } catch (err) {
            results.set(p, err instanceof P2pError ? err : new P2pError('P2P_NOT_CONNECTED', (err as Error).message, { cause: err }));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, peers.length) }, worker));
      return results;
    },

    messages(subInit) {
      return feed.subscribe(subInit);
    },

    async ping(peer, options = {}) {
      checkPeer(peer);
      const e = entries.get(peer);
      if (e === undefined || e.machine.state === 'disconnected') throw notConnected(peer);
      const rtt = await libp2p.services.ping.ping(peerIdFromString(peer) as PeerId, { signal: options.signal ?? AbortSignal.timeout(10_000) });
      e.rttMs = rtt;
      return rtt;
    },

    established() {
      return [...entries.values()].filter((e) => e.session !== undefined).map((e) => e.id);
    },

    state(peer) {
      return entries.get(peer)?.machine.state ?? 'disconnected';
    },

    async enforceBlocks() {
      const closed = await hangUpBlocked(libp2p, accessList);
      for (const id of closed) {
        const e = entries.get(id);
        if (e !== undefined) endSession(e, 'blocked');
      }
      return closed;
    },

    peers() {
      return [...entries.values()].map((e) => ({
        peer: e.id,
        state: e.machine.state,
        since: e.machine.since,
        suite: e.suite,
        rttMs: e.rttMs,
        addresses: libp2p.getConnections(peerIdFromString(e.id)).map((c) => c.remoteAddr.toString()),
        streams: Object.fromEntries(e.stats),
        capabilities: e.remoteCaps === null ? null : { ...e.remoteCaps },
        resumed: e.resumed,
        sendQueued: [...e.queues.values()].reduce((a, q) => a + q.size, 0),
      }));
    },

    counters() {
      const t = ticketIssuer.counters;
      return {
        ...counters,
        dropped: { ...counters.dropped },
        feedDropped: feed.dropped,
        ticketsIssued: t.issued,
        ticketsAccepted: t.accepted,
        ticketsRejected: { ...t.rejected },
        sendQueued: queueCounters.queued,
        sendQueueFull: queueCounters.full,
      };
    },
  };
  return network;
}
