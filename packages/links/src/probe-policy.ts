/**
 * When a link needs an active probe. Probes go only on idle links: any packet we send on a
 * link (data or probe) carries our timestamp and the peer's echo, so a link carrying data
 * needs no probe. Both ends run the same policy, so each hears from the other at least every
 * interval on a live link, and silence means the link is failing (link-state.ts).
 *
 *   probing / up / degraded   due when nothing was sent for intervalMs
 *   down                      due every intervalMs · 2^k (k = probes sent while down),
 *                             capped at downMaxIntervalMs: a dead uplink costs little, and
 *                             a revived one is noticed within downMaxIntervalMs
 *   disabled                  never
 *
 * One ProbePolicy per link; every call is arithmetic on numbers (no allocation), so the app's
 * coarse tick can ask every link each time.
 */
import { PROBE_DOWN_MAX_INTERVAL_MS, PROBE_INTERVAL_MS } from './constants.js';
import { LinksInvalidArgumentError } from './errors.js';
import type { LinkState } from './link-state.js';
import { positive } from './validate.js';

/** Options of createProbePolicy(); defaults in constants.ts. */
export interface ProbePolicyInit {
  /** Idle time before a probe (default PROBE_INTERVAL_MS = 200). */
  intervalMs?: number;
  /** Longest interval between probes of a down link (default PROBE_DOWN_MAX_INTERVAL_MS = 1000). */
  downMaxIntervalMs?: number;
}

/** Probe timing of one link. */
export interface ProbePolicy {
  /** Last time anything was sent on the link (ms; NaN if never). */
  readonly lastSentMs: number;
  /** Last probe sent (ms; NaN if never). */
  readonly lastProbeMs: number;
  /** Probes sent since the link went down (the backoff exponent). */
  readonly downProbes: number;
  /** Probes sent in total. */
  readonly probesSent: number;
  /** Anything (data, probe, control) was sent on the link at `nowMs`. */
  onSent(nowMs: number): void;
  /** A probe was sent at `nowMs` (also counts as sent). */
  onProbeSent(nowMs: number): void;
  /** The probe interval that applies in `state` now (Infinity when disabled). */
  currentIntervalMs(state: LinkState): number;
  /** Should a probe go out at `nowMs`? */
  due(state: LinkState, nowMs: number): boolean;
  /** When the next probe is due in `state` (ms; -Infinity if never sent, Infinity when disabled). */
  nextDueMs(state: LinkState): number;
}

class IdleProbePolicy implements ProbePolicy {
  lastSentMs = Number.NaN;
  lastProbeMs = Number.NaN;
  downProbes = 0;
  probesSent = 0;
  private readonly intervalMs: number;
  private readonly downMaxMs: number;
  private wasDown = false;

  constructor(intervalMs: number, downMaxMs: number) {
    this.intervalMs = intervalMs;
    this.downMaxMs = downMaxMs;
  }

  onSent(nowMs: number): void {
    if (!(nowMs <= this.lastSentMs)) this.lastSentMs = nowMs; // keep the latest; NaN-safe
  }

  onProbeSent(nowMs: number): void {
    this.onSent(nowMs);
    this.lastProbeMs = nowMs;
    this.probesSent++;
    if (this.wasDown) this.downProbes++;
  }

  currentIntervalMs(state: LinkState): number {
    if (state !== 'down') {
      this.wasDown = false;
      this.downProbes = 0;
      return state === 'disabled' ? Infinity : this.intervalMs;
    }
    this.wasDown = true;
    // interval · 2^k without overflow: stop doubling at the cap
    let ms = this.intervalMs;
    for (let k = 0; k < this.downProbes && ms < this.downMaxMs; k++) ms *= 2;
    return ms < this.downMaxMs ? ms : this.downMaxMs;
  }

  nextDueMs(state: LinkState): number {
    const interval = this.currentIntervalMs(state);
    if (interval === Infinity) return Infinity;
    const last = this.lastSentMs;
    return last === last ? last + interval : -Infinity;
  }

  due(state: LinkState, nowMs: number): boolean {
    return nowMs >= this.nextDueMs(state);
  }
}

/**
 * Create the probe policy of one link.
 *
 * @example
 * const probes = createProbePolicy({ intervalMs: 200, downMaxIntervalMs: 1000 });
 * // data path: probes.onSent(now) after each send on the link
 * // coarse tick:
 * if (probes.due(link.state, now)) { sendProbe(link); probes.onProbeSent(now); }
 */
export function createProbePolicy(init: ProbePolicyInit = {}): ProbePolicy {
  const intervalMs = positive('intervalMs', init.intervalMs, PROBE_INTERVAL_MS);
  const downMaxMs = positive('downMaxIntervalMs', init.downMaxIntervalMs, PROBE_DOWN_MAX_INTERVAL_MS);
  if (downMaxMs < intervalMs) throw new LinksInvalidArgumentError('downMaxIntervalMs', downMaxMs, `>= intervalMs ${intervalMs}`);
  return new IdleProbePolicy(intervalMs, downMaxMs);
}
