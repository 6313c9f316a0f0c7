/**
 * The receive path: uplinks → open → replay check → reorder → TUN (bonding.md §2 - §5).
 *
 *   1. onDatagram     dispatch on byte 1: handshake types 0x01..0x04 to the plane's handshake
 *                     driver, data-plane types 0x40..0x45 on, anything else dropped unread
 *   2. openDatagram   the receiver index names a session (client: its current / pending /
 *                     previous session; server: the session table), which authenticates,
 *                     decrypts and runs the replay window (session.ts)
 *   3. onLinkReceive  per-link bookkeeping on the authentic datagram: counters, loss from the
 *                     link sequence, jitter, the echo to return, an RTT sample, receive rate;
 *                     the plane learns the endpoint (server roaming) or confirms a session
 *   4. by type        DATA → reorder buffer → TUN (gaps every busy link has passed are
 *                     losses: skipped at once); PROBE → PROBE_ACK; FEEDBACK → the sender
 *                     side's per-link delivery rate and loss; CLOSE → the plane
 *
 * Wire input never throws out of here: every drop is a counter. Per datagram the only
 * allocations are node's (the datagram Buffer) and the payload view session.open() makes.
 */
import type { UdpEndpoint } from '@edgebox/links';
import { seqDiff32 } from '@edgebox/links';
import { DATAGRAM_MIN_BYTES, TYPE_CLOSE, TYPE_DATA, TYPE_FEEDBACK, TYPE_NACK, TYPE_PROBE, TYPE_PROBE_ACK } from './constants.js';
import { tryDecodeFeedback } from './feedback.js';
import type { FeedbackReport } from './feedback.js';
import type { InnerHeader } from './inner-header.js';
import { extend16, rttSampleMs } from './inner-header.js';
import type { Peer, PeerLink } from './peer.js';
import type { Plane } from './plane.js';
import { tunnelOverheadBytes } from './mtu.js';
import { onNack, requestRetransmits } from './retransmit.js';
import { sendProbeAck } from './send.js';
import { OPEN_OK, OPEN_TOO_SHORT } from './session.js';

const HANDSHAKE_TYPE_MIN = 0x01;
const HANDSHAKE_TYPE_MAX = 0x04;
/** Consecutive link sequences older than the loss window that mean the peer restarted. */
const OLD_STREAK_RESET = 32;
/**
 * A link sequence this far ahead of the last one is a peer that restarted its numbering, not
 * loss: 16384 datagrams lost in a row would have taken the link down (and reset its window) long
 * before. Counting them as lost would hold the link down for a whole loss window.
 */
const LINK_SEQ_RESTART_JUMP = 16_384;
/** Gain of the sender-side loss EWMA per FEEDBACK delta. */
const PEER_LOSS_GAIN = 0.25;

// -- 1. dispatch --------------------------------------------------------------------------------

/**
 * One datagram from a link socket.
 *
 * @example link.onMessage((data, from) => onDatagram(plane, data, from, performance.now()));
 */
export function onDatagram(plane: Plane, data: Uint8Array, from: UdpEndpoint, nowMs: number): void {
  const type = data.length >= 2 ? data[1]! : 0;
  if (type >= TYPE_DATA && type <= TYPE_NACK) openDatagram(plane, data, from, nowMs);
  // A copy: batched links hand out views of their receive slots, and a handshake may keep
  // parts of a message past this call (cold: a few per session).
  else if (type >= HANDSHAKE_TYPE_MIN && type <= HANDSHAKE_TYPE_MAX) plane.onHandshake(new Uint8Array(data), from, nowMs);
  else plane.counters.unknownType++;
}

// -- 2. session and open ------------------------------------------------------------------------

function openDatagram(plane: Plane, data: Uint8Array, from: UdpEndpoint, nowMs: number): void {
  if (data.length < DATAGRAM_MIN_BYTES) {
    plane.counters.openDrops[OPEN_TOO_SHORT]!++;
    return;
  }
  const session = plane.resolve(((data[4]! << 24) | (data[5]! << 16) | (data[6]! << 8) | data[7]!) >>> 0);
  if (session === undefined) {
    plane.counters.unknownSession++;
    return;
  }
  const peer = plane.hitPeer!;
  const code = session.open(data, nowMs);
  if (code !== OPEN_OK) {
    plane.counters.openDrops[code]!++;
    return;
  }
  const opened = session.opened;
  const link = plane.linkFor(peer, opened.header.linkId, nowMs);
  if (link === undefined) {
    peer.counters.malformed++; // authentic, but names a link we do not have
    return;
  }
  onLinkReceive(peer, link, opened.header, data.length, nowMs);
  plane.onAuthentic(peer, session, link, from, nowMs);
  // -- 4. by type
  switch (opened.type) {
    case TYPE_DATA:
      // A resent packet (retransmit.ts) is older than what its link carried: the link's
      // progress, which proves losses, only moves forward.
      if (link.lastDataMs < 0 || seqDiff32(opened.header.dataSeq, link.lastDataSeq) > 0) link.lastDataSeq = opened.header.dataSeq;
      link.lastDataMs = nowMs;
      onData(peer, opened.header.dataSeq, opened.payload, nowMs);
      if (peer.reorder.held > 0) skipProvenLosses(plane, peer, nowMs);
      break;
    case TYPE_NACK:
      onNack(plane, peer, opened.payload, nowMs);
      break;
    case TYPE_PROBE:
      sendProbeAck(plane, peer, link, opened.payload.length, nowMs);
      break;
    case TYPE_FEEDBACK:
      if (tryDecodeFeedback(opened.payload, plane.report)) onFeedback(peer, plane.report, nowMs);
      else peer.counters.malformed++;
      break;
    case TYPE_CLOSE:
      plane.onClose(peer, nowMs);
      break;
    default:
      // PROBE_ACK: its RTT sample, and the proof that a sized path-MTU probe passed
      if (link.pmtu !== null && opened.type === TYPE_PROBE_ACK) {
        const probedPayload = (opened.payload[0]! << 8) | opened.payload[1]!;
        link.pmtu.onAck(opened.header.echoTimeMs, probedPayload + tunnelOverheadBytes(link.family), nowMs);
      }
      break;
  }
}

// -- 3. per-link bookkeeping ----------------------------------------------------------------------

function onLinkReceive(peer: Peer, link: PeerLink, header: InnerHeader, bytes: number, nowMs: number): void {
  link.rxPackets++;
  link.rxBytes += bytes;
  link.lastReceiveMs = nowMs;
  peer.lastAuthMs = nowMs;
  // The wire carries 16 bits of the link sequence and of the send timestamp: extend them.
  const lastSeq = link.rxLinkSeq;
  link.rxLinkSeq = extend16(lastSeq, header.linkSeq);
  if (lastSeq >= 0 && ((link.rxLinkSeq - lastSeq) | 0) > LINK_SEQ_RESTART_JUMP) link.loss.reset();
  if (link.loss.onReceive(link.rxLinkSeq) === 'old') {
    // A peer that restarted numbers its links from 1 again: everything reads as too old for
    // the loss window. A run of such arrivals starts the window over (cold: once per restart).
    if (++link.oldStreak > OLD_STREAK_RESET) {
      link.loss.reset();
      link.rxLinkSeq = header.linkSeq;
      link.loss.onReceive(link.rxLinkSeq);
      link.oldStreak = 0;
    }
  } else link.oldStreak = 0;
  link.rxSendTs = extend16(link.rxSendTs, header.sendTimeMs);
  link.jitter.update(link.rxSendTs, nowMs);
  link.peerSendTs = header.sendTimeMs;
  link.peerSendAtMs = nowMs;
  const rtt = rttSampleMs(Math.floor(nowMs), header);
  if (rtt >= 0) link.rtt.addSample(rtt, nowMs);
  link.rxRate.onDelivered(bytes, nowMs);
}

// -- 4. DATA and FEEDBACK ------------------------------------------------------------------------

/**
 * A DATA packet into the peer's reorder buffer (which writes it to the TUN in order). The first
 * DATA of a new session checks for a jump of the data sequence: a peer that restarted starts
 * from a new random sequence, which the reorder buffer would otherwise take for very old or
 * very new packets; a rekey keeps the sequence running (bonding.md §3) and passes the check.
 */
function onData(peer: Peer, seq: number, payload: Uint8Array, nowMs: number): void {
  const reorder = peer.reorder;
  if (peer.checkSeqJump) {
    peer.checkSeqJump = false;
    const next = reorder.nextSeq;
    if (next >= 0) {
      const d = seqDiff32(seq, next);
      if (d > reorder.capacity || d < -reorder.capacity) reorder.reset(); // cold: once per association
    }
  }
  reorder.push(seq, payload, nowMs);
}

/**
 * Fast loss detection: each link delivers in order (one path, one queue), so once every usable
 * link has delivered a data sequence at or beyond S within the reorder wait, whatever is still
 * missing before S was lost, not delayed: its gap is skipped now instead of after the full wait
 * (a lossy link then costs the bond a loss, not a stall per loss), or, with retransmission,
 * asked for again. Links that delivered no data within the wait are left out of the proof
 * (see below).
 */
function skipProvenLosses(plane: Plane, peer: Peer, nowMs: number): void {
  const links = peer.links;
  const since = nowMs - peer.reorder.maxWaitMs;
  let min = 0;
  let found = false;
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    const state = link.state;
    if (state !== 'up' && state !== 'degraded') continue;
    // A link that delivered no DATA for a whole wait carries (almost) nothing of this flow: a
    // lossy or backup link the scheduler starves, or one that just failed. Waiting for it to
    // prove progress stalled every gap for the full wait (a lossy link poisoned the bond). If
    // a packet was in fact on its way there, it arrives late and is still delivered (reorder
    // counts it `late`).
    if (link.lastDataMs < since) continue;
    if (!found || seqDiff32(link.lastDataSeq, min) < 0) min = link.lastDataSeq;
    found = true;
  }
  if (!found) return;
  // With retransmission, the lost packets are asked for and their gaps held for the answer
  // (retransmit.ts); without (or with nothing to ask), skipped now.
  if (peer.retransmit !== null && requestRetransmits(plane, peer, min, nowMs)) return;
  peer.reorder.skipBefore(min);
}

/**
 * The peer's FEEDBACK: bytes it received per link since the last report feed that link's
 * send-side delivery rate (the aggregate scheduler's weight); received / lost deltas its loss.
 * Reports come on several links: a copy or an older report (no progress) changes nothing.
 */
export function onFeedback(peer: Peer, report: FeedbackReport, nowMs: number): void {
  peer.lastFeedbackMs = nowMs;
  for (let i = 0; i < report.count; i++) {
    const e = report.entries[i]!;
    const link = peer.byLinkId[e.linkId];
    if (link === undefined) continue;
    const dBytes = e.bytes - link.fbBytes;
    if (dBytes <= 0) continue;
    link.fbBytes = e.bytes;
    link.fbProgressMs = nowMs;
    link.fbTxPackets = link.txPackets;
    link.txRate.onDelivered(dBytes, nowMs);
    const dReceived = (e.received - link.fbReceived) >>> 0;
    const dLost = (e.lost - link.fbLost) >>> 0;
    link.fbReceived = e.received;
    link.fbLost = e.lost;
    const total = dReceived + dLost;
    if (total > 0 && total < 0x8000_0000) link.peerLossRatio += (dLost / total - link.peerLossRatio) * PEER_LOSS_GAIN;
  }
}
