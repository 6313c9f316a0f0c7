/**
 * The state of one bonded association: a client's view of its server, or a server's view of
 * one client. Both ends keep the same shape, since both bond (bonding.md §1: the server
 * schedules downstream packets over the client's links as the client does upstream).
 *
 *   Peer
 *   ├── byLinkId[0..15] ─► PeerLink      one per link id (the client's numbering)
 *   │                      ├── rtt, jitter, loss, rxRate    receive side: what arrives on it
 *   │                      ├── txRate, peerLossRatio        send side: from the peer's FEEDBACK
 *   │                      ├── machine, probes              state with hysteresis, idle probes
 *   │                      └── tx (inner header), echo, counters, transport (socket | endpoint)
 *   ├── links[]            the same PeerLinks in scheduler order (what pick() indexes)
 *   ├── scheduler          @edgebox/links: aggregate | lowest-latency | redundant
 *   ├── reorder            bounded reorder buffer of received DATA (bonding.md §4)
 *   └── sealer             the session that seals what we send (null: none yet)
 *
 * Every object here is created on a cold path (start, a new link, a new client) with all its
 * fields set in the constructor, so V8 keeps one shape per class; the hot path only reads and
 * writes numbers in them.
 */
import {
  createDeliveryRateEstimator,
  createJitterEstimator,
  createLinkStateMachine,
  createLossEstimator,
  createProbePolicy,
  createRttEstimator,
  createScheduler,
} from '@edgebox/links';
import type {
  DeliveryRateEstimator,
  JitterEstimator,
  LinkHealth,
  LinkState,
  LinkStateMachine,
  LinkTier,
  LinkTransition,
  LossEstimator,
  ProbePolicy,
  RttEstimator,
  Scheduler,
  SchedulerKind,
  SchedulerLink,
  SchedulerLinkEstimators,
  UdpLink,
} from '@edgebox/links';
import { randomInt } from 'node:crypto';
import { MAX_LINKS } from './constants.js';
import { createInnerHeader } from './inner-header.js';
import type { PathMtuSearch } from './path-mtu.js';
import type { InnerHeader } from './inner-header.js';
import { createReorderBuffer } from './reorder.js';
import type { ReorderBuffer, ReorderDeliver } from './reorder.js';
import { RetransmitBuffer } from './retransmit.js';
import type { BondingSession } from './session.js';

/** What a link is configured (or, on the server, assumed) to be. */
export interface PeerLinkInit {
  /** Name shown in status and metrics. */
  name: string;
  /** 0..15: the client's numbering, carried in every inner header. */
  linkId: number;
  label?: string | undefined;
  tier?: LinkTier;
  weight?: number;
  capBytesPerSec?: number | undefined;
  dataCapBytes?: number | undefined;
  /** Silence that takes the link down (links' default 600 ms). */
  downAfterMs?: number | undefined;
  nowMs: number;
  /** Called on every state transition (cold). */
  onTransition?: ((link: PeerLink, transition: LinkTransition) => void) | undefined;
}

/** One link of a peer: scheduler view, estimators, state and counters. */
export class PeerLink implements SchedulerLink {
  readonly id: string;
  readonly linkId: number;
  readonly label: string | undefined;
  state: LinkState = 'probing';
  tier: LinkTier;
  weight: number;
  capBytesPerSec: number | undefined;
  dataCapBytes: number | undefined;
  dataCapLastResort = false;
  /** What the scheduler reads: our RTT and the delivery rate the peer reports. */
  readonly estimators: SchedulerLinkEstimators;
  readonly rtt: RttEstimator;
  readonly jitter: JitterEstimator;
  /** Loss of what arrives on this link, from its link sequence. */
  readonly loss: LossEstimator;
  /** Rate of what arrives on this link. */
  readonly rxRate: DeliveryRateEstimator;
  /** Rate the peer reports receiving on this link (FEEDBACK): the scheduler's weight. */
  readonly txRate: DeliveryRateEstimator;
  machine: LinkStateMachine;
  readonly probes: ProbePolicy;
  /** Inner header of what we send on this link (reused; linkSeq advances per datagram). */
  readonly tx: InnerHeader;
  /** Reused health snapshot for machine.evaluate(). */
  readonly health: LinkHealth = { lastReceiveMs: -1, lossRatio: 0, srttMs: 0, baselineRttMs: 0 };
  /** The peer's latest send timestamp on this link and when it arrived (-1: nothing to echo). */
  peerSendTs = 0;
  peerSendAtMs = -1;
  /** The peer's link sequence and send timestamp, extended from the wire's 16 bits (-1: none yet). */
  rxLinkSeq = -1;
  rxSendTs = -1;
  lastReceiveMs = -1;
  txPackets = 0;
  txBytes = 0;
  rxPackets = 0;
  rxBytes = 0;
  /** Last cumulative FEEDBACK values for this link (received, lost, bytes at the peer). */
  fbReceived = 0;
  fbLost = 0;
  fbBytes = 0;
  /** Loss the peer saw on what we sent, EWMA over FEEDBACK deltas. */
  peerLossRatio = 0;
  /** Consecutive arrivals older than the loss window (a restarted peer; receive.ts). */
  oldStreak = 0;
  /** The latest data sequence received on this link and when (fast loss detection, receive.ts). */
  lastDataSeq = 0;
  lastDataMs = -Infinity;
  /** When a FEEDBACK last showed progress on this link, and our txPackets then (stall check). */
  fbProgressMs = 0;
  fbTxPackets = 0;
  /** Client: the link's own socket. */
  udp: UdpLink | null = null;
  /** Client with `tun.mtu: auto`: the link's path MTU search (path-mtu.ts). */
  pmtu: PathMtuSearch | null = null;
  /** IP family of the link's outer packets (overhead 72 / 92). */
  family: 4 | 6 = 4;
  /** Server: the client's endpoint for this link, learned from authentic datagrams (roaming). */
  address = '';
  port = 0;
  private readonly downAfterMs: number | undefined;
  private readonly onTransition: ((link: PeerLink, transition: LinkTransition) => void) | undefined;

  constructor(init: PeerLinkInit) {
    this.id = init.name;
    this.linkId = init.linkId;
    this.label = init.label;
    this.tier = init.tier ?? 'primary';
    this.weight = init.weight ?? 1;
    this.capBytesPerSec = init.capBytesPerSec;
    this.dataCapBytes = init.dataCapBytes;
    this.rtt = createRttEstimator();
    this.jitter = createJitterEstimator();
    this.loss = createLossEstimator();
    this.rxRate = createDeliveryRateEstimator();
    this.txRate = createDeliveryRateEstimator();
    this.estimators = { rtt: this.rtt, deliveryRate: this.txRate };
    this.downAfterMs = init.downAfterMs;
    this.onTransition = init.onTransition;
    this.machine = this.newMachine(init.nowMs);
    this.fbProgressMs = init.nowMs;
    this.probes = createProbePolicy();
    this.tx = createInnerHeader({ linkId: init.linkId });
  }

  /** Start the state machine over (a new association: nothing heard yet is not silence). */
  resetState(nowMs: number): void {
    this.machine = this.newMachine(nowMs);
    this.state = 'probing';
    this.fbProgressMs = nowMs;
    this.fbTxPackets = this.txPackets;
  }

  private newMachine(nowMs: number): LinkStateMachine {
    const machine = createLinkStateMachine({ nowMs, ...(this.downAfterMs === undefined ? {} : { downAfterMs: this.downAfterMs }) });
    const listener = this.onTransition;
    machine.onTransition((t) => {
      // cold: one closure per machine, run on transitions only
      if (t.to === 'down') this.newEpoch();
      listener?.(this, t);
    });
    return machine;
  }

  /**
   * A link that goes down starts a new measurement epoch for when it comes back: the outage's
   * gap would otherwise fill the loss window (1024 numbers), hold the link down (loss >= 50%)
   * or degraded until as many datagrams crossed it, and its old delivery rate would starve it
   * in the aggregate scheduler (an unmeasured link gets the mean of the others).
   */
  private newEpoch(): void {
    this.loss.reset();
    this.rxLinkSeq = -1;
    this.txRate.reset();
  }
}

/** Per-peer counters: plain numbers read at scrape time. */
export interface PeerCounters {
  /** Packets from the TUN sent to this peer (once each, whatever the copies). */
  txPackets: number;
  txBytes: number;
  /** Packets written to the TUN from this peer. */
  rxPackets: number;
  rxBytes: number;
  /** Packets dropped: no link could take them (all down, caps). */
  noLink: number;
  /** Packets dropped: no session to seal with. */
  noSession: number;
  /** seal() refused (session at its hard limit). */
  sealRefused: number;
  /** Authentic datagrams whose payload did not parse (FEEDBACK) or named no link. */
  malformed: number;
  /** TUN writes refused. */
  tunDropped: number;
  /** NACKs sent (receiver) and the data sequences they asked for. */
  nacksSent: number;
  nackedSeqs: number;
  /** DATA sent again on a NACK (sender), and NACKed sequences no longer held or unsendable. */
  retransmitted: number;
  retransmitMissed: number;
}

/** Options of a Peer. */
export interface PeerInit {
  name: string;
  scheduler: SchedulerKind;
  reorderCapacity: number;
  slotBytes: number;
  deliver: ReorderDeliver;
  /** Server: the client's tunnel address. */
  tunAddress?: string;
  /** Server: the client's IPv6 tunnel address, when the bond carries IPv6. */
  tunAddress6?: string | undefined;
  /** Fixed reorder wait; undefined = derived from the links. */
  fixedWaitMs?: number | undefined;
  minWaitMs: number;
  /** Sent DATA kept for retransmission (packets, a power of two); 0 = no retransmission. */
  retransmitPackets: number;
}

/** One bonded association. */
export class Peer {
  readonly name: string;
  readonly tunAddress: string;
  /** '' when the client has no IPv6 tunnel address. */
  readonly tunAddress6: string;
  links: PeerLink[] = [];
  readonly byLinkId: (PeerLink | undefined)[] = new Array<PeerLink | undefined>(MAX_LINKS).fill(undefined);
  scheduler: Scheduler;
  readonly reorder: ReorderBuffer;
  fixedWaitMs: number | undefined;
  minWaitMs: number;
  /** The session that seals what we send. */
  sealer: BondingSession | null = null;
  /** Next data sequence (u32): starts at a random value per association (see receive.ts). */
  dataSeq: number;
  /** The next DATA received decides whether the peer's sequence jumped (a new association). */
  checkSeqJump = true;
  /** Monotonic ms of the last authentic datagram from this peer. */
  lastAuthMs = -1;
  establishedAtMs = -1;
  nextEvaluateMs = 0;
  /** Reorder `late` count at the last evaluation, and the wait learned from late arrivals. */
  lateSeen = 0;
  /** Monotonic ms of the last FEEDBACK from the peer. */
  lastFeedbackMs = -1;
  learnedWaitMs = 0;
  /** Sent DATA for retransmission (retransmit.ts); null when retransmission is off. */
  readonly retransmit: RetransmitBuffer | null;
  /** Receiver: data sequences before this were asked for already (-1: none yet). */
  nackFrom = -1;
  /** Receiver: the deadline of the last NACK's answer. */
  nackUntilMs = -Infinity;
  readonly counters: PeerCounters = {
    txPackets: 0,
    txBytes: 0,
    rxPackets: 0,
    rxBytes: 0,
    noLink: 0,
    noSession: 0,
    sealRefused: 0,
    malformed: 0,
    tunDropped: 0,
    nacksSent: 0,
    nackedSeqs: 0,
    retransmitted: 0,
    retransmitMissed: 0,
  };

  constructor(init: PeerInit) {
    this.name = init.name;
    this.tunAddress = init.tunAddress ?? '';
    this.tunAddress6 = init.tunAddress6 ?? '';
    this.scheduler = createScheduler(init.scheduler);
    this.reorder = createReorderBuffer({ deliver: init.deliver, capacity: init.reorderCapacity, slotBytes: init.slotBytes });
    this.fixedWaitMs = init.fixedWaitMs;
    this.minWaitMs = init.minWaitMs;
    this.dataSeq = randomInt(0, 0x1_0000_0000 - 1) >>> 0;
    this.retransmit = init.retransmitPackets > 0 ? new RetransmitBuffer(init.retransmitPackets, init.slotBytes) : null;
  }

  /** Add a link (cold): the scheduler's link set follows. */
  addLink(link: PeerLink): void {
    this.byLinkId[link.linkId] = link;
    this.links = [...this.links, link];
    this.scheduler.setLinks(this.links);
  }

  /** Switch the scheduling policy (reload), keeping the links. */
  setScheduler(kind: SchedulerKind): void {
    if (this.scheduler.kind === kind) return;
    const next = createScheduler(kind);
    next.setLinks(this.links);
    this.scheduler = next;
  }
}
