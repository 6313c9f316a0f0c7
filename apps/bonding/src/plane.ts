/**
 * What send.ts, receive.ts and timers.ts share: the data plane of one process, a client
 * (client.ts: one peer, a socket per link) or a server (server.ts: many peers, one socket).
 * The stages are module-level functions taking the plane; the plane answers the few questions
 * whose answer depends on the mode (which session a receiver index names, which peer a TUN
 * packet goes to, what a handshake message means).
 *
 * The send ring: node's dgram sends with uv_udp_try_send first and only queues (keeping a
 * reference to our buffer) when the socket buffer is full. Sealed datagrams therefore go into
 * a ring of SEND_RING_SLOTS fixed slots, reused in turn: a slot is overwritten only after
 * that many later sends, long after the kernel took it (socket buffers of 4 MiB hold fewer
 * datagrams than the ring). If that ever failed, the receiver would drop the datagram as
 * badAuth: a loss, never a wrong packet.
 *
 *   slots: [0][1][2] ... [SEND_RING_SLOTS-1]   next() hands out i, then i+1 (mod size)
 */
import type { LinkTransition, TunDevice, UdpEndpoint, UdpLink } from '@edgebox/links';
import { DATAGRAM_OVERHEAD_BYTES, FEEDBACK_MAX_BYTES, NACK_MAX_SEQS, SEND_RING_SLOTS } from './constants.js';
import { createFeedbackReport } from './feedback.js';
import type { FeedbackReport } from './feedback.js';
import type { Peer, PeerLink } from './peer.js';
import type { BondingSession } from './session.js';

/** Fixed slots for sealed datagrams, handed out in turn (see the file comment). */
export class SendRing {
  readonly slotBytes: number;
  private readonly slots: Uint8Array[];
  private i = 0;

  constructor(slotBytes: number, count = SEND_RING_SLOTS) {
    this.slotBytes = slotBytes;
    const storage = new Uint8Array(slotBytes * count); // cold: once per plane
    this.slots = [];
    for (let k = 0; k < count; k++) this.slots.push(storage.subarray(k * slotBytes, (k + 1) * slotBytes));
  }

  next(): Uint8Array {
    const slot = this.slots[this.i]!;
    this.i = this.i + 1 === this.slots.length ? 0 : this.i + 1;
    return slot;
  }
}

/** Plane-wide counters (per peer and per link counters live in Peer / PeerLink). */
export interface PlaneCounters {
  /** Datagrams under 2 bytes or of an unknown type (dropped unread). */
  unknownType: number;
  /** Data-plane datagrams whose receiver index names no session. */
  unknownSession: number;
  /** open() drops by code (index = OPEN_* code; 0 unused). */
  readonly openDrops: Float64Array;
  /** TUN packets larger than the TUN MTU (dropped). */
  oversize: number;
  /** Server: TUN packets for an address no client has. */
  noRoute: number;
  /** TCP SYNs whose MSS option was lowered. */
  mssClamped: number;
  handshakeMessages: number;
  /** Handshake messages refused (CryptoError), or handshakes that failed. */
  handshakeRefused: number;
  sessionsEstablished: number;
  rekeys: number;
}

/** The data plane as send / receive / timers see it. */
export interface Plane {
  readonly mode: 'client' | 'server';
  readonly tun: TunDevice;
  readonly tunMtu: number;
  readonly ring: SendRing;
  /** Scheduler output, reused by every pick. */
  readonly pickOut: Int32Array;
  /** Reused FEEDBACK report and its encoded payload. */
  readonly report: FeedbackReport;
  readonly feedbackPayload: Uint8Array;
  /** Reused NACK payload (NACK_MAX_SEQS sequences). */
  readonly nackPayload: Uint8Array;
  readonly counters: PlaneCounters;
  /** Server: its one socket (sends go to each link's endpoint); null on a client. */
  readonly socket: UdpLink | null;
  /** Set by resolve(): the peer of the session it returned. */
  hitPeer: Peer | null;
  /** The session a receiver index names (and hitPeer), or undefined. */
  resolve(receiverIndex: number): BondingSession | undefined;
  /** The peer a packet read from the TUN goes to. */
  route(packet: Uint8Array): Peer | undefined;
  /** The link of `peer` with this id; a server creates it on first sight. */
  linkFor(peer: Peer, linkId: number, nowMs: number): PeerLink | undefined;
  /** An authentic datagram arrived (after open): roaming, session confirmation. */
  onAuthentic(peer: Peer, session: BondingSession, link: PeerLink, from: UdpEndpoint, nowMs: number): void;
  /** A handshake message (types 0x01..0x04) arrived. */
  onHandshake(data: Uint8Array, from: UdpEndpoint, nowMs: number): void;
  /** The peer sent CLOSE. */
  onClose(peer: Peer, nowMs: number): void;
  /** Every peer (client: the server; server: its clients). */
  peers(): Iterable<Peer>;
  /** Mode-specific timer work (handshakes, rekeys, sweeps). */
  onTick(nowMs: number): void;
}

/** What a plane tells its owner (the service: events, logs). Cold paths only. */
export interface PlaneHooks {
  linkState(peer: Peer, link: PeerLink, transition: LinkTransition): void;
  session(peer: Peer, event: 'established' | 'rekeyed' | 'closed' | 'expired', detail: string): void;
  handshakeFailed(peer: string, code: string, message: string): void;
  /** The TUN MTU changed (client, tun.mtu auto: a link's path MTU changed). */
  mtu?(from: number, to: number, reason: string): void;
}

/** Counters of a new plane. */
export function createPlaneCounters(): PlaneCounters {
  return {
    unknownType: 0,
    unknownSession: 0,
    openDrops: new Float64Array(8),
    oversize: 0,
    noRoute: 0,
    mssClamped: 0,
    handshakeMessages: 0,
    handshakeRefused: 0,
    sessionsEstablished: 0,
    rekeys: 0,
  };
}

/** The shared buffers of a plane whose TUN has `tunMtu`. */
export function createPlaneBuffers(tunMtu: number): { ring: SendRing; pickOut: Int32Array; report: FeedbackReport; feedbackPayload: Uint8Array; nackPayload: Uint8Array } {
  const payloadMax = Math.max(tunMtu, FEEDBACK_MAX_BYTES);
  return {
    ring: new SendRing(payloadMax + DATAGRAM_OVERHEAD_BYTES),
    pickOut: new Int32Array(64),
    report: createFeedbackReport(),
    feedbackPayload: new Uint8Array(FEEDBACK_MAX_BYTES),
    nackPayload: new Uint8Array(4 * NACK_MAX_SEQS),
  };
}
