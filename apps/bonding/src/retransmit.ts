/**
 * Retransmission of lost DATA (bonding.md §4.1): a lossy link must not poison the bond.
 *
 * Why: the bond carries the user's TCP. A packet lost on one link is a loss TCP sees, and
 * TCP answers loss by halving its window; 5% random loss on one of three links (1.7% of the
 * flow) held one TCP stream to about one link's worth. Resent over a clean link within about
 * one RTT, the packet fills its gap in the receiver's reorder buffer and TCP never sees it.
 *
 *   receiver   skipProvenLosses (receive.ts) proves a gap lost (every busy link has passed
 *              it) → requestRetransmits: one NACK listing the missing sequences (each asked
 *              for once) on the lowest-RTT link → reorder.deferSkipBefore(proof, now + wait):
 *              the gap is held for the answer instead of skipped
 *   sender     every DATA packet is copied into a ring by data sequence (RetransmitBuffer);
 *              onNack resends each listed packet still in the ring, younger than
 *              RETRANSMIT_MAX_AGE_MS and not resent before, as DATA with its own sequence, on
 *              the lowest-RTT usable link other than the one it first went on
 *
 * Bounded: the ring is `capacity` packets of `slotBytes` (allocated on first use); a NACK
 * lists at most NACK_MAX_SEQS; each sequence is asked for and resent at most once.
 */
import { seqDiff32 } from '@edgebox/links';
import { NACK_MAX_SEQS, RETRANSMIT_BUFFER_MAX, RETRANSMIT_MAX_AGE_MS, REORDER_WAIT_MAX_MS, TYPE_DATA, TYPE_NACK } from './constants.js';
import { invalidArgument } from './errors.js';
import type { Peer, PeerLink } from './peer.js';
import type { Plane } from './plane.js';
import { transmit } from './send.js';

/** Sent DATA packets by data sequence, for resending. */
export class RetransmitBuffer {
  readonly capacity: number;
  readonly slotBytes: number;
  private readonly mask: number;
  private storage: Uint8Array | null = null;
  private readonly seqs: Uint32Array;
  /** Packet length per slot; -1 empty or already resent. */
  private readonly lengths: Int32Array;
  private readonly sentAt: Float64Array;
  /** Index in peer.links of the link the packet first went on. */
  private readonly linkIndex: Int8Array;

  constructor(capacity: number, slotBytes: number) {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > RETRANSMIT_BUFFER_MAX || (capacity & (capacity - 1)) !== 0) {
      throw invalidArgument('retransmit buffer', capacity, `a power of two in 2..${RETRANSMIT_BUFFER_MAX}`);
    }
    if (!Number.isInteger(slotBytes) || slotBytes < 1 || slotBytes > 65_535) throw invalidArgument('slotBytes', slotBytes, 'an integer in 1..65535');
    this.capacity = capacity;
    this.slotBytes = slotBytes;
    this.mask = capacity - 1;
    this.seqs = new Uint32Array(capacity);
    this.lengths = new Int32Array(capacity).fill(-1);
    this.sentAt = new Float64Array(capacity);
    this.linkIndex = new Int8Array(capacity);
  }

  /** Bytes held (0 until the first packet). */
  get allocatedBytes(): number {
    return this.storage === null ? 0 : this.storage.length;
  }

  /** Keep a copy of DATA `seq` sent on links[linkIndex] (packets over slotBytes are not kept). */
  keep(seq: number, packet: Uint8Array, linkIndex: number, nowMs: number): void {
    const i = seq & this.mask;
    if (packet.length > this.slotBytes) {
      this.lengths[i] = -1;
      return;
    }
    const storage = (this.storage ??= new Uint8Array(this.capacity * this.slotBytes)); // cold: once per peer
    storage.set(packet, i * this.slotBytes);
    this.seqs[i] = seq;
    this.lengths[i] = packet.length;
    this.sentAt[i] = nowMs;
    this.linkIndex[i] = linkIndex;
  }

  /**
   * The packet of `seq` if it is still here, younger than `maxAgeMs` and not taken before
   * (a view, valid until the ring wraps); null otherwise. Taking marks it resent.
   */
  take(seq: number, nowMs: number, maxAgeMs: number): Uint8Array | null {
    const i = seq & this.mask;
    const length = this.lengths[i]!;
    if (length < 0 || this.seqs[i] !== seq >>> 0 || nowMs - this.sentAt[i]! > maxAgeMs) return null;
    this.lengths[i] = -1;
    const at = i * this.slotBytes;
    return this.storage!.subarray(at, at + length);
  }

  /** The link index `seq` first went on (meaningful right after take()). */
  firstLinkOf(seq: number): number {
    return this.linkIndex[seq & this.mask]!;
  }

  /** Forget everything (a new association). */
  reset(): void {
    this.lengths.fill(-1);
  }
}

/** The usable link with the lowest smoothed RTT, other than `avoid` when another exists; null when none. */
function fastestLink(peer: Peer, avoid: number): PeerLink | null {
  let best: PeerLink | null = null;
  let fallback: PeerLink | null = null;
  const links = peer.links;
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    if (link.state !== 'up' && link.state !== 'degraded') continue;
    if (fallback === null || link.rtt.srttMs < fallback.rtt.srttMs) fallback = link;
    if (i === avoid) continue;
    if (best === null || link.rtt.srttMs < best.rtt.srttMs) best = link;
  }
  return best ?? fallback;
}

/** How long the receiver holds a gap it asked to be resent: ~1.5 RTT of the fastest link + 2 ms. */
export function retransmitWaitMs(peer: Peer): number {
  const link = fastestLink(peer, -1);
  const rtt = link === null || link.rtt.srttMs <= 0 ? 10 : link.rtt.srttMs;
  return Math.min(1.5 * rtt + 2, REORDER_WAIT_MAX_MS);
}

/**
 * Receiver: every data sequence before `proof` is either held or lost (skipProvenLosses).
 * NACK the missing ones not asked for yet (at most NACK_MAX_SEQS), then hold their gaps for
 * the answer. Returns false when there is nothing to ask (the caller skips the gaps at once).
 */
export function requestRetransmits(plane: Plane, peer: Peer, proof: number, nowMs: number): boolean {
  const reorder = peer.reorder;
  const session = peer.sealer;
  const next = reorder.nextSeq;
  if (session === null || next < 0) return false;
  let from = peer.nackFrom;
  if (from < 0 || seqDiff32(from, next) < 0) from = next;
  const payload = plane.nackPayload;
  let count = 0;
  for (let seq = from; seqDiff32(seq, proof) < 0 && count < NACK_MAX_SEQS; seq = (seq + 1) >>> 0) {
    if (!reorder.isMissing(seq)) continue;
    const at = 4 * count++;
    payload[at] = seq >>> 24;
    payload[at + 1] = (seq >>> 16) & 0xff;
    payload[at + 2] = (seq >>> 8) & 0xff;
    payload[at + 3] = seq & 0xff;
  }
  if (seqDiff32(proof, from) > 0) peer.nackFrom = proof;
  if (count === 0) {
    // Nothing new to ask: gaps asked for earlier may still be answered until their deadline.
    if (nowMs >= peer.nackUntilMs) return false;
    reorder.deferSkipBefore(proof, peer.nackUntilMs);
    return true;
  }
  const link = fastestLink(peer, -1);
  if (link === null || !transmit(plane, peer, session, link, TYPE_NACK, 0, payload.subarray(0, 4 * count), nowMs)) return false;
  peer.counters.nacksSent++;
  peer.counters.nackedSeqs += count;
  peer.nackUntilMs = nowMs + retransmitWaitMs(peer);
  reorder.deferSkipBefore(proof, peer.nackUntilMs);
  return true;
}

/**
 * Sender: a NACK from the peer. Each listed sequence still in the retransmission ring goes out
 * again as DATA on the fastest other link; the rest are counted `retransmitMissed`.
 */
export function onNack(plane: Plane, peer: Peer, payload: Uint8Array, nowMs: number): void {
  const ring = peer.retransmit;
  const session = peer.sealer;
  if (ring === null || session === null) return;
  for (let at = 0; at + 4 <= payload.length; at += 4) {
    const seq = ((payload[at]! << 24) | (payload[at + 1]! << 16) | (payload[at + 2]! << 8) | payload[at + 3]!) >>> 0;
    const packet = ring.take(seq, nowMs, RETRANSMIT_MAX_AGE_MS);
    if (packet === null) {
      peer.counters.retransmitMissed++;
      continue;
    }
    const link = fastestLink(peer, ring.firstLinkOf(seq));
    if (link !== null && transmit(plane, peer, session, link, TYPE_DATA, seq, packet, nowMs)) peer.counters.retransmitted++;
    else peer.counters.retransmitMissed++;
  }
}
