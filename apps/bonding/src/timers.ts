/**
 * One coarse tick (TICK_MS) drives every timed event of the data plane; nothing else in the
 * app arms a timer. Per peer, each event is one function named for it:
 *
 *   onReorderDue     the reorder buffer's oldest held packet waited maxWait: skip the gap
 *   onEvaluate       every EVALUATE_INTERVAL_MS: rates closed, link health evaluated (state
 *                    machine with hysteresis), reorder wait re-derived from the links
 *   onFeedbackDue    every EVALUATE_INTERVAL_MS (= FEEDBACK_INTERVAL_MS): FEEDBACK on each link
 *   onProbeDue       a link idle for the probe interval gets a PROBE (links' probe policy)
 *
 * then the plane's own work (client: handshake retransmission, rekey, session expiry; server:
 * the session table sweep) in plane.onTick().
 *
 * The tick costs O(peers × links) arithmetic; timers never allocate except on a transition.
 */
import { isUsableState } from '@edgebox/links';
import { EVALUATE_INTERVAL_MS, REORDER_WAIT_MAX_MS, TICK_MS } from './constants.js';

/** Shortest stall of FEEDBACK progress that takes a busy link down. */
const FEEDBACK_STALL_MS = 200;
/** Datagrams sent on the link since its last progress before a stall counts. */
const FEEDBACK_STALL_PACKETS = 8;
/** Per evaluation, the learned wait shrinks by this factor (halves in ~1.4 s) unless lateness renews it. */
const LEARNED_WAIT_DECAY = 0.95;
/** The learned wait is the lateness seen times this margin. */
const LEARNED_WAIT_MARGIN = 2;
import type { Peer, PeerLink } from './peer.js';
import type { Plane } from './plane.js';
import { reorderWaitMs } from './reorder.js';
import { sendFeedback, sendProbe } from './send.js';

/**
 * Run the tick of `plane` now (what the interval timer calls).
 *
 * @example const timer = setInterval(() => onTick(plane, performance.now()), TICK_MS);
 */
export function onTick(plane: Plane, nowMs: number): void {
  for (const peer of plane.peers()) tickPeer(plane, peer, nowMs);
  plane.onTick(nowMs);
}

/** Start the coarse timer; returns the function that stops it. */
export function startTicker(plane: Plane, tickMs = TICK_MS): () => void {
  const timer = setInterval(() => onTick(plane, performance.now()), tickMs);
  timer.unref?.();
  return () => clearInterval(timer);
}

function tickPeer(plane: Plane, peer: Peer, nowMs: number): void {
  if (peer.reorder.held > 0 && nowMs >= peer.reorder.nextDeadlineMs()) onReorderDue(peer, nowMs);
  const session = peer.sealer;
  if (session === null) return;
  if (nowMs >= peer.nextEvaluateMs) {
    peer.nextEvaluateMs = nowMs + EVALUATE_INTERVAL_MS;
    onEvaluate(peer, nowMs);
    onFeedbackDue(plane, peer, nowMs);
  }
  const links = peer.links;
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    if (link.probes.due(link.state, nowMs)) onProbeDue(plane, peer, link, nowMs);
  }
}

/** Deliver what waited long enough (gaps before it are skipped). */
export function onReorderDue(peer: Peer, nowMs: number): void {
  peer.reorder.poll(nowMs);
}

/**
 * Close the rate intervals, evaluate each link's health, and derive the reorder wait from
 * the usable links: clamp(rttSpread + 4·jitter, min, 200 ms), rttSpread = (slowest − fastest
 * SRTT) / 2 (bonding.md §4). Smoothed RTTs lag queues that fill and drain (a shaped uplink's
 * queue adds tens of ms in bursts, a loaded receiver reads one socket's backlog before the
 * next), so the wait also learns from the buffer itself: a packet that arrived after its gap
 * was skipped tells how long the wait should have been (reorder.neededWaitMs); the learned
 * wait is 2 × the longest such need in the interval (up to 200 ms) and decays by 5% per
 * interval without one.
 */
export function onEvaluate(peer: Peer, nowMs: number): void {
  const links = peer.links;
  let minRtt = Infinity;
  let maxRtt = 0;
  let maxJitter = 0;
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    link.rxRate.tick(nowMs);
    link.txRate.tick(nowMs);
    if (isUsableState(link.state) && feedbackStalled(peer, link, nowMs)) {
      link.machine.transition('down', 'silence', nowMs); // cold: a failing link
      link.state = 'down';
    }
    const h = link.health;
    h.lastReceiveMs = link.lastReceiveMs;
    h.lossRatio = link.loss.lossRatio;
    h.srttMs = link.rtt.srttMs;
    h.baselineRttMs = link.rtt.minRttMs;
    link.state = link.machine.evaluate(h, nowMs);
    if (isUsableState(link.state) && link.rtt.sampleCount > 0) {
      const srtt = link.rtt.srttMs;
      if (srtt < minRtt) minRtt = srtt;
      if (srtt > maxRtt) maxRtt = srtt;
      if (link.jitter.jitterMs > maxJitter) maxJitter = link.jitter.jitterMs;
    }
  }
  const needed = peer.reorder.neededWaitMs;
  peer.reorder.neededWaitMs = 0;
  const grown = needed * LEARNED_WAIT_MARGIN;
  const decayed = peer.learnedWaitMs * LEARNED_WAIT_DECAY;
  const learned = grown > decayed ? (grown < REORDER_WAIT_MAX_MS ? grown : REORDER_WAIT_MAX_MS) : decayed;
  peer.learnedWaitMs = learned;
  const derived = reorderWaitMs(minRtt === Infinity ? 0 : (maxRtt - minRtt) / 2, maxJitter);
  const wait = peer.fixedWaitMs ?? (derived > learned ? derived : learned);
  peer.reorder.maxWaitMs = wait < peer.minWaitMs ? peer.minWaitMs : wait;
}

/**
 * Send-side failure detection, faster than waiting for silence: the peer's FEEDBACK keeps
 * arriving (over other links) but has shown no progress on this link for a stall period
 * (max(FEEDBACK_STALL_MS, 2·SRTT + 100 ms)) although we sent at least FEEDBACK_STALL_PACKETS
 * datagrams on it since: what we send there is lost. The link goes down now instead of after
 * the peer-side silence (600 ms) plus the time our own silence check needs.
 */
export function feedbackStalled(peer: Peer, link: PeerLink, nowMs: number): boolean {
  if (nowMs - peer.lastFeedbackMs > 2 * EVALUATE_INTERVAL_MS) return false; // no recent report at all: silence decides
  if (link.txPackets - link.fbTxPackets < FEEDBACK_STALL_PACKETS) return false;
  const srtt = link.rtt.srttMs;
  const stall = 2 * srtt + 100 > FEEDBACK_STALL_MS ? 2 * srtt + 100 : FEEDBACK_STALL_MS;
  return nowMs - link.fbProgressMs > stall;
}

/** Report what we received on each link (bonding.md §5). */
export function onFeedbackDue(plane: Plane, peer: Peer, nowMs: number): void {
  sendFeedback(plane, peer, nowMs);
}

/** An idle (or down) link's probe is due. */
export function onProbeDue(plane: Plane, peer: Peer, link: PeerLink, nowMs: number): void {
  sendProbe(plane, peer, peer.sealer!, link, nowMs);
}
