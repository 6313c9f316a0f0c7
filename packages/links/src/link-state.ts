/**
 * Link state machine: probing / up / degraded / down / disabled, driven by health evaluations
 * (one per probe interval, from the app's coarse tick) with hysteresis: a link goes down at
 * once, but comes back only after `upAfter` consecutive good evaluations.
 *
 *                 upAfter alive evaluations (all good -> up, else -> degraded)
 *     probing ────────────────────────────────────────────┐
 *       ▲  │ silence / loss >= downLoss                   ▼
 *       │  ▼          silence / heavy loss          ┌──────────┐  degradeAfter bad   ┌──────────┐
 *       │ down ◄────────────────────────────────────│    up    │────────────────────►│ degraded │
 *       │  │  ◄──────────────────────────────────────────────────────────────────────│          │
 *       └──┘ a packet after going down              └──────────┘◄────────────────────└──────────┘
 *   (and any state ⇄ disabled: disable() / enable())             upAfter good in a row
 *
 *   alive   no silence >= downAfterMs and loss ratio < downLossRatio
 *   bad     loss ratio >= degradedLossRatio, or SRTT > baseline · rttFactor + rttSlackMs
 *   good    alive and not bad
 *
 * Usable states (the schedulers send data on them): up and degraded. Flapping input cannot make
 * the state flap between usable and not: any silence takes it down, and only an unbroken run of
 * upAfter alive evaluations brings it back. Evaluation is plain arithmetic; a transition (rare)
 * allocates one event object for the listeners.
 */
import {
  LINK_DEGRADE_AFTER_EVALUATIONS,
  LINK_DEGRADED_LOSS_RATIO,
  LINK_DOWN_AFTER_MS,
  LINK_DOWN_LOSS_RATIO,
  LINK_RTT_DEGRADED_FACTOR,
  LINK_RTT_DEGRADED_SLACK_MS,
  LINK_UP_AFTER_EVALUATIONS,
} from './constants.js';
import { LinksInvalidArgumentError, LinksStateError } from './errors.js';
import { integerIn, numberIn, positive } from './validate.js';

/** States of a link. */
export type LinkState = 'probing' | 'up' | 'degraded' | 'down' | 'disabled';

/**
 * Every LinkState, in a stable order (for metrics labels).
 *
 * @example
 * for (const s of LINK_STATES) gauge.set({ link: id, state: s }, link.state === s ? 1 : 0);
 */
export const LINK_STATES: readonly LinkState[] = ['probing', 'up', 'degraded', 'down', 'disabled'];

/**
 * Why a transition happened: `silence` (no packet for downAfterMs), `loss`, `rtt`, `recovered`
 * (enough good evaluations), `packet` (a packet arrived on a down link), `disabled`, `enabled`,
 * or `manual` (transition() called by the app).
 */
export type LinkStateReason = 'silence' | 'loss' | 'rtt' | 'recovered' | 'packet' | 'disabled' | 'enabled' | 'manual';

/**
 * Legal transitions: from -> allowed targets; transition() throws LINKS_STATE for others.
 *
 * @example
 * LINK_TRANSITIONS.down.includes('up'); // false: a down link comes back through probing
 */
export const LINK_TRANSITIONS: Readonly<Record<LinkState, readonly LinkState[]>> = {
  probing: ['up', 'degraded', 'down', 'disabled'],
  up: ['degraded', 'down', 'disabled'],
  degraded: ['up', 'down', 'disabled'],
  down: ['probing', 'disabled'],
  disabled: ['probing'],
};

/**
 * True for the states the schedulers send data on (up, degraded).
 *
 * @example
 * const usable = links.filter((l) => isUsableState(l.state)).length;
 */
export function isUsableState(state: LinkState): boolean {
  return state === 'up' || state === 'degraded';
}

/**
 * Health of a link at one evaluation. The caller keeps one object per link and refills it
 * from its estimators (no allocation per tick).
 */
export interface LinkHealth {
  /** When the last packet of any kind arrived on this link (ms); -1 or NaN if never. */
  lastReceiveMs: number;
  /** Loss ratio over the loss window, 0..1. */
  lossRatio: number;
  /** Smoothed RTT in ms (0 if unknown). */
  srttMs: number;
  /** Baseline RTT (windowed minimum) in ms (0 if unknown: the RTT check is skipped). */
  baselineRttMs: number;
}

/** One state change, as given to listeners. */
export interface LinkTransition {
  from: LinkState;
  to: LinkState;
  reason: LinkStateReason;
  atMs: number;
}

/** Options of createLinkStateMachine(); defaults in constants.ts. */
export interface LinkStateInit {
  /** Start state: 'probing' (default), 'up' or 'disabled'. */
  initialState?: 'probing' | 'up' | 'disabled';
  /** Creation time in ms; default: the first evaluate()'s time. Silence before any packet counts from here. */
  nowMs?: number;
  /** Silence that takes a link down (default LINK_DOWN_AFTER_MS = 600: 3 probe intervals). */
  downAfterMs?: number;
  /** Consecutive good (probing: alive) evaluations to come back up (default 3). */
  upAfter?: number;
  /** Consecutive bad evaluations before up -> degraded (default 1). */
  degradeAfter?: number;
  /** Loss ratio that degrades (default 0.02). */
  degradedLossRatio?: number;
  /** Loss ratio that takes the link down although packets arrive (default 0.5). */
  downLossRatio?: number;
  /** SRTT > baseline · factor + slack degrades (default 3). */
  rttDegradedFactor?: number;
  /** See rttDegradedFactor (default 50 ms). */
  rttDegradedSlackMs?: number;
}

/** State machine of one link. */
export interface LinkStateMachine {
  readonly state: LinkState;
  /** When the current state was entered (ms; NaN until the first evaluation if init.nowMs was not given). */
  readonly sinceMs: number;
  /** Consecutive good evaluations in the current state. */
  readonly goodStreak: number;
  /** Consecutive bad evaluations in the current state. */
  readonly badStreak: number;
  /** Consecutive alive evaluations in the current state. */
  readonly aliveStreak: number;
  /** Transitions so far. */
  readonly transitions: number;
  /** Evaluate health at `nowMs` (once per probe interval); returns the (possibly new) state. */
  evaluate(health: LinkHealth, nowMs: number): LinkState;
  /**
   * Move to `to` now (e.g. the interface disappeared). Returns false when already there;
   * throws LINKS_STATE for a transition not in LINK_TRANSITIONS.
   */
  transition(to: LinkState, reason?: LinkStateReason, nowMs?: number): boolean;
  /** Administratively disable (from any state). */
  disable(nowMs?: number): void;
  /** Re-enable a disabled link: it starts probing. */
  enable(nowMs?: number): void;
  /** Call `listener` after each transition; returns a function that removes it. */
  onTransition(listener: (event: LinkTransition) => void): () => void;
}

class HysteresisLinkState implements LinkStateMachine {
  state: LinkState = 'probing';
  sinceMs = Number.NaN;
  goodStreak = 0;
  badStreak = 0;
  aliveStreak = 0;
  transitions = 0;
  private readonly downAfterMs: number;
  private readonly upAfter: number;
  private readonly degradeAfter: number;
  private readonly degradedLoss: number;
  private readonly downLoss: number;
  private readonly rttFactor: number;
  private readonly rttSlackMs: number;
  private listeners: ((event: LinkTransition) => void)[] = [];

  constructor(init: Required<Omit<LinkStateInit, 'nowMs'>> & { nowMs: number }) {
    this.state = init.initialState;
    this.sinceMs = init.nowMs;
    this.downAfterMs = init.downAfterMs;
    this.upAfter = init.upAfter;
    this.degradeAfter = init.degradeAfter;
    this.degradedLoss = init.degradedLossRatio;
    this.downLoss = init.downLossRatio;
    this.rttFactor = init.rttDegradedFactor;
    this.rttSlackMs = init.rttDegradedSlackMs;
  }

  evaluate(h: LinkHealth, nowMs: number): LinkState {
    const since = this.sinceMs === this.sinceMs ? this.sinceMs : (this.sinceMs = nowMs);
    const state = this.state;
    if (state === 'disabled') return state;
    const lossDown = h.lossRatio >= this.downLoss;
    if (state === 'down') {
      if (h.lastReceiveMs > since && !lossDown) this.move('probing', 'packet', nowMs);
      return this.state;
    }
    const last = h.lastReceiveMs > since ? h.lastReceiveMs : since;
    if (nowMs - last >= this.downAfterMs) {
      this.move('down', 'silence', nowMs);
      return this.state;
    }
    if (lossDown) {
      this.move('down', 'loss', nowMs);
      return this.state;
    }
    const lossBad = h.lossRatio >= this.degradedLoss;
    const base = h.baselineRttMs;
    const rttBad = base > 0 && h.srttMs > base * this.rttFactor + this.rttSlackMs;
    const bad = lossBad || rttBad;
    this.aliveStreak++;
    if (bad) {
      this.badStreak++;
      this.goodStreak = 0;
    } else {
      this.goodStreak++;
      this.badStreak = 0;
    }
    const why: LinkStateReason = lossBad ? 'loss' : 'rtt';
    if (state === 'up') {
      if (this.badStreak >= this.degradeAfter) this.move('degraded', why, nowMs);
    } else if (state === 'degraded') {
      if (this.goodStreak >= this.upAfter) this.move('up', 'recovered', nowMs);
    } else if (this.aliveStreak >= this.upAfter) {
      // probing: usable now; up only if every evaluation of the run was good
      if (this.goodStreak >= this.upAfter) this.move('up', 'recovered', nowMs);
      else this.move('degraded', bad ? why : 'recovered', nowMs);
    }
    return this.state;
  }

  transition(to: LinkState, reason: LinkStateReason = 'manual', nowMs?: number): boolean {
    if (to === this.state) return false;
    const allowed = LINK_TRANSITIONS[this.state];
    if (!allowed.includes(to)) throw new LinksStateError(this.state, String(to), { details: { reason } });
    // without a time, silence counts from the next evaluation
    this.move(to, reason, nowMs ?? Number.NaN);
    return true;
  }

  disable(nowMs?: number): void {
    this.transition('disabled', 'disabled', nowMs);
  }

  enable(nowMs?: number): void {
    if (this.state === 'disabled') this.transition('probing', 'enabled', nowMs);
  }

  onTransition(listener: (event: LinkTransition) => void): () => void {
    this.listeners = [...this.listeners, listener]; // cold path: copy on write, safe during dispatch
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private move(to: LinkState, reason: LinkStateReason, nowMs: number): void {
    const from = this.state;
    this.state = to;
    this.sinceMs = nowMs;
    this.goodStreak = 0;
    this.badStreak = 0;
    this.aliveStreak = 0;
    this.transitions++;
    const listeners = this.listeners;
    if (listeners.length === 0) return;
    const event: LinkTransition = { from, to, reason, atMs: nowMs }; // cold path: transitions are rare
    for (const l of listeners) l(event);
  }
}

/**
 * Create a link state machine with hysteresis.
 *
 * @example
 * const link = createLinkStateMachine({ downAfterMs: 600, upAfter: 3 });
 * link.onTransition((e) => events.emit('link.state', { link: id, ...e }));
 * const health: LinkHealth = { lastReceiveMs: -1, lossRatio: 0, srttMs: 0, baselineRttMs: 0 };
 * // every probe interval:
 * health.lastReceiveMs = lastRx; health.lossRatio = loss.lossRatio;
 * health.srttMs = rtt.srttMs; health.baselineRttMs = rtt.minRttMs;
 * link.evaluate(health, now);
 */
export function createLinkStateMachine(init: LinkStateInit = {}): LinkStateMachine {
  const initialState = init.initialState ?? 'probing';
  if (initialState !== 'probing' && initialState !== 'up' && initialState !== 'disabled') {
    throw new LinksInvalidArgumentError('initialState', initialState, "'probing', 'up' or 'disabled'");
  }
  const degradedLossRatio = numberIn('degradedLossRatio', init.degradedLossRatio, LINK_DEGRADED_LOSS_RATIO, 0, 1);
  const downLossRatio = numberIn('downLossRatio', init.downLossRatio, LINK_DOWN_LOSS_RATIO, 0, 1);
  if (downLossRatio < degradedLossRatio) throw new LinksInvalidArgumentError('downLossRatio', downLossRatio, `>= degradedLossRatio ${degradedLossRatio}`);
  return new HysteresisLinkState({
    initialState,
    nowMs: init.nowMs === undefined ? Number.NaN : numberIn('nowMs', init.nowMs, 0, -Number.MAX_VALUE),
    downAfterMs: positive('downAfterMs', init.downAfterMs, LINK_DOWN_AFTER_MS),
    upAfter: integerIn('upAfter', init.upAfter, LINK_UP_AFTER_EVALUATIONS, 1, 1_000_000),
    degradeAfter: integerIn('degradeAfter', init.degradeAfter, LINK_DEGRADE_AFTER_EVALUATIONS, 1, 1_000_000),
    degradedLossRatio,
    downLossRatio,
    rttDegradedFactor: numberIn('rttDegradedFactor', init.rttDegradedFactor, LINK_RTT_DEGRADED_FACTOR, 1),
    rttDegradedSlackMs: numberIn('rttDegradedSlackMs', init.rttDegradedSlackMs, LINK_RTT_DEGRADED_SLACK_MS, 0),
  });
}
