/**
 * The send path: TUN → schedule → seal → uplinks (bonding.md §2, §3, §5).
 *
 *   1. onTunPackets   a batch read in one TUN wakeup: size check, TCP MSS clamp on SYNs
 *                     (bonding.md §7), route to a peer (client: the server; server: the client
 *                     owning the destination address)
 *   2. sendData       the peer's scheduler picks the link(s); one data sequence per packet,
 *                     shared by redundant copies
 *   3. transmit       fill the link's inner header (link sequence, timestamps, echo), seal
 *                     into a ring slot, hand it to the link's socket (client) or to the
 *                     server's socket for the link's endpoint (server)
 *   4. control sends  PROBE, PROBE_ACK, FEEDBACK and NACK go through the same transmit;
 *                     sendData keeps a copy of each DATA packet for a NACK (retransmit.ts)
 *
 * Hot path: no await, no closure, no object per packet beyond the `subarray` view of a TUN
 * slot and what node:crypto allocates inside seal(). Counters are plain numbers.
 */
import { ECHO_HOLD_NONE, PROBE_ACK_PAYLOAD_BYTES, TYPE_DATA, TYPE_FEEDBACK, TYPE_PROBE, TYPE_PROBE_ACK } from './constants.js';
import { encodeFeedback } from './feedback.js';
import { echoHoldMs } from './inner-header.js';
import { clampTcpMss } from './mtu.js';
import type { Peer, PeerLink } from './peer.js';
import type { Plane } from './plane.js';
import type { BondingSession } from './session.js';

const EMPTY = new Uint8Array(0);

// -- 1. TUN batch -------------------------------------------------------------------------------

/**
 * A batch from the TUN device (its TunPacketHandler, with the plane bound once at start).
 *
 * @example tun.onPackets((packets, lengths, count) => onTunPackets(plane, packets, lengths, count));
 */
export function onTunPackets(plane: Plane, packets: readonly Uint8Array[], lengths: Uint16Array, count: number): void {
  const now = performance.now();
  const mtu = plane.tunMtu;
  const c = plane.counters;
  for (let i = 0; i < count; i++) {
    const length = lengths[i]!;
    if (length > mtu) {
      c.oversize++;
      continue;
    }
    const packet = packets[i]!.subarray(0, length);
    if (clampTcpMss(packet, mtu)) c.mssClamped++;
    const peer = plane.route(packet);
    if (peer === undefined) {
      c.noRoute++;
      continue;
    }
    sendData(plane, peer, packet, now);
  }
}

// -- 2. schedule ---------------------------------------------------------------------------------

/** Schedule and send one IP packet to `peer`; drops (counted) when no session or no link. */
export function sendData(plane: Plane, peer: Peer, packet: Uint8Array, nowMs: number): void {
  const session = peer.sealer;
  if (session === null) {
    peer.counters.noSession++;
    return;
  }
  const out = plane.pickOut;
  const n = peer.scheduler.pick(packet.length, nowMs, out);
  if (n === 0) {
    peer.counters.noLink++;
    return;
  }
  const seq = peer.dataSeq;
  peer.dataSeq = (seq + 1) >>> 0;
  peer.counters.txPackets++;
  peer.counters.txBytes += packet.length;
  const links = peer.links;
  for (let k = 0; k < n; k++) transmit(plane, peer, session, links[out[k]!]!, TYPE_DATA, seq, packet, nowMs);
  // A copy for a NACK (retransmit.ts): ~1400 bytes copied per packet, far below the seal.
  if (peer.retransmit !== null) peer.retransmit.keep(seq, packet, out[0]!, nowMs);
}

// -- 3. seal and hand to the socket -------------------------------------------------------------

/**
 * Seal one datagram of `type` for `link` with `session` and send it. Returns false when the
 * session refused (hard limit: counted) or the link has no transport yet.
 */
export function transmit(plane: Plane, peer: Peer, session: BondingSession, link: PeerLink, type: number, dataSeq: number, payload: Uint8Array, nowMs: number): boolean {
  const h = link.tx;
  h.linkSeq = (h.linkSeq + 1) & 0xffff;
  h.dataSeq = dataSeq;
  h.sendTimeMs = Math.floor(nowMs) & 0xffff;
  if (link.peerSendAtMs >= 0) {
    h.echoTimeMs = link.peerSendTs;
    h.echoHoldMs = echoHoldMs(nowMs, link.peerSendAtMs);
  } else {
    h.echoTimeMs = 0;
    h.echoHoldMs = ECHO_HOLD_NONE;
  }
  const slot = plane.ring.next();
  const n = session.seal(type, h, payload, slot);
  if (n === 0) {
    h.linkSeq = (h.linkSeq - 1) & 0xffff; // nothing went out under this number
    peer.counters.sealRefused++;
    return false;
  }
  const udp = link.udp;
  if (udp !== null) udp.send(slot, 0, n);
  else if (link.port !== 0) plane.socket!.sendTo(slot, 0, n, link.port, link.address);
  else return false;
  link.txPackets++;
  link.txBytes += n;
  link.probes.onSent(nowMs);
  return true;
}

// -- 4. control datagrams -----------------------------------------------------------------------

/** An active probe on an idle link (timers.ts decides when). */
export function sendProbe(plane: Plane, peer: Peer, session: BondingSession, link: PeerLink, nowMs: number): void {
  if (transmit(plane, peer, session, link, TYPE_PROBE, 0, EMPTY, nowMs)) link.probes.onProbeSent(nowMs);
}

// seal() copies the payload, so one buffer serves every PROBE_ACK.
const probeAckPayload = Buffer.alloc(PROBE_ACK_PAYLOAD_BYTES);

/**
 * Answer a PROBE on the link it came by; its echo fields carry the RTT sample back, and its
 * payload the PROBE's payload length: the path-MTU search's proof of which probe got through.
 */
export function sendProbeAck(plane: Plane, peer: Peer, link: PeerLink, probePayloadBytes: number, nowMs: number): void {
  const session = peer.sealer;
  if (session === null) return;
  probeAckPayload.writeUInt16BE(Math.min(probePayloadBytes, 0xffff), 0);
  transmit(plane, peer, session, link, TYPE_PROBE_ACK, 0, probeAckPayload, nowMs);
}

/**
 * FEEDBACK (bonding.md §5): the cumulative receive counters of every link, sent on each link
 * that is not down, so the report gets through as long as one link does.
 */
export function sendFeedback(plane: Plane, peer: Peer, nowMs: number): void {
  const session = peer.sealer;
  const links = peer.links;
  if (session === null || links.length === 0) return;
  const report = plane.report;
  let count = 0;
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    const e = report.entries[count++]!;
    e.linkId = link.linkId;
    e.received = link.loss.received >>> 0;
    // RFC 3550 cumulative loss (expected - received): a gap counts at once, not only when it
    // leaves the 1024-number window, which a little-used lossy link may take minutes to do
    e.lost = (link.loss.expected - link.loss.received) >>> 0;
    e.bytes = link.rxBytes;
  }
  report.count = count;
  const end = encodeFeedback(report, plane.feedbackPayload, 0);
  const payload = plane.feedbackPayload.subarray(0, end); // cold: 10 per second per peer
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    if (link.state !== 'down' && link.state !== 'disabled') transmit(plane, peer, session, link, TYPE_FEEDBACK, 0, payload, nowMs);
  }
}
