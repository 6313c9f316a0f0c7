/**
 * Circuit breaker (per peer, per tunnel destination): stop calling something that keeps
 * failing, then probe it carefully.
 *
 *   closed ──failureThreshold failures within windowMs──▶ open
 *   open ──openMs elapsed (seen by the next allow/state read)──▶ half-open
 *   half-open: admits halfOpenProbes calls; all succeed ──▶ closed (failures forgotten)
 *                                           one fails   ──▶ open (a fresh openMs)
 *
 * The rolling window is a ring of the last `failureThreshold` failure times: the circuit
 * opens when the oldest of them is at most windowMs old, so memory is O(threshold) and a
 * failure costs O(1). Successes while closed do not erase failures (it is a window, not a
 * streak). Results of calls admitted under an earlier state are ignored by run() (a
 * generation counter), so a slow call from before the circuit opened cannot close it.
 * With allow()/recordSuccess()/recordFailure() the caller must report each admitted call
 * exactly once; a half-open probe that never reports keeps its slot until reset().
 */
import { CIRCUIT_FAILURE_THRESHOLD, CIRCUIT_HALF_OPEN_PROBES, CIRCUIT_MAX_FAILURE_THRESHOLD, CIRCUIT_OPEN_MS, CIRCUIT_WINDOW_MS, TIMER_MAX_MS } from './constants.js';
import { PeersError, checkInteger } from './errors.js';

/** Breaker states. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** A state change. */
export interface CircuitStateChange {
  from: CircuitState;
  to: CircuitState;
  at: number;
  reason: string;
}

/** Point-in-time view for status pages and metrics. */
export interface CircuitSnapshot {
  state: CircuitState;
  /** Failures inside the rolling window now. */
  recentFailures: number;
  /** Clock time the circuit last opened, or null. */
  openedAt: number | null;
  /** ms until an open circuit admits a probe (0 when not open). */
  retryAfterMs: number;
  probesInFlight: number;
  /** Times the circuit opened since creation. */
  opens: number;
  /** Calls refused since creation. */
  rejected: number;
}

/** Options of createCircuitBreaker. */
export interface CircuitBreakerInit {
  /** Failures within windowMs that open the circuit (default 5). */
  failureThreshold?: number;
  /** Rolling window (default 60 s). */
  windowMs?: number;
  /** Time open before probing (default 30 s). */
  openMs?: number;
  /** Probes admitted when half-open; all must succeed to close (default 1). */
  halfOpenProbes?: number;
  /** Which errors from run() count as failures (default: all); others count as successes (the callee answered). */
  isFailure?: (err: unknown) => boolean;
}

/** Dependencies of createCircuitBreaker. */
export interface CircuitBreakerComponents {
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Called when a state listener throws. */
  onListenerError?: (err: unknown) => void;
}

/** A circuit breaker. */
export interface CircuitBreaker {
  /** Current state (reading it may move open to half-open when openMs has passed). */
  readonly state: CircuitState;
  /** May a call go ahead now? In half-open a true answer takes a probe slot. */
  allow(): boolean;
  /** Report an admitted call that succeeded. */
  recordSuccess(): void;
  /** Report an admitted call that failed. */
  recordFailure(): void;
  /** allow() + call + record; throws PEERS_CIRCUIT_OPEN (details.retryAfterMs) when refused. */
  run<T>(fn: () => Promise<T> | T): Promise<T>;
  /** Force the circuit open now (a penalty, an operator decision). */
  trip(reason?: string): void;
  /** Back to closed with no failures. */
  reset(): void;
  snapshot(): CircuitSnapshot;
  /** Subscribe to state changes; returns the unsubscribe function. */
  onStateChange(listener: (change: CircuitStateChange) => void): () => void;
}

/**
 * Create a circuit breaker.
 *
 * @example
 * const breaker = createCircuitBreaker({ failureThreshold: 5, windowMs: 60_000, openMs: 30_000 });
 * try {
 *   await breaker.run(() => dial(peer));
 * } catch (err) {
 *   if (isPeersError(err, 'PEERS_CIRCUIT_OPEN')) conn.transition('cooldown', err.message);
 * }
 */
export function createCircuitBreaker(init: CircuitBreakerInit = {}, components: CircuitBreakerComponents = {}): CircuitBreaker {
  const threshold = checkInteger('failureThreshold', init.failureThreshold ?? CIRCUIT_FAILURE_THRESHOLD, 1, CIRCUIT_MAX_FAILURE_THRESHOLD);
  const windowMs = checkInteger('windowMs', init.windowMs ?? CIRCUIT_WINDOW_MS, 1, TIMER_MAX_MS);
  const openMs = checkInteger('openMs', init.openMs ?? CIRCUIT_OPEN_MS, 1, TIMER_MAX_MS);
  const probes = checkInteger('halfOpenProbes', init.halfOpenProbes ?? CIRCUIT_HALF_OPEN_PROBES, 1, 1000);
  const isFailure = init.isFailure ?? (() => true);
  const now = components.now ?? (() => performance.now());
  const onListenerError = components.onListenerError ?? (() => undefined);
  const listeners = new Set<(change: CircuitStateChange) => void>();

  // failure ring: the last `threshold` failure times; `head` is the next slot (= the oldest once full)
  const failures = new Float64Array(threshold);
  let failureCount = 0;
  let head = 0;
  let state: CircuitState = 'closed';
  let openedAt: number | null = null;
  let probesInFlight = 0;
  let probeSuccesses = 0;
  let generation = 0;
  let opens = 0;
  let rejected = 0;

  const move = (to: CircuitState, reason: string, at: number): void => {
    const from = state;
    state = to;
    generation++;
    probesInFlight = 0;
    probeSuccesses = 0;
    if (to === 'open') {
      openedAt = at;
      opens++;
    }
    if (to === 'closed') {
      failureCount = 0;
      head = 0;
    }
    const change: CircuitStateChange = { from, to, at, reason };
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (err) {
        onListenerError(err);
      }
    }
  };

  /** Open → half-open once openMs has passed. */
  const refresh = (at: number): void => {
    if (state === 'open' && openedAt !== null && at - openedAt >= openMs) move('half-open', `open for ${openMs} ms: probing`, at);
  };

  const recentFailures = (at: number): number => {
    let n = 0;
    for (let i = 0; i < failureCount; i++) if (at - failures[i]! <= windowMs) n++;
    return n;
  };

  const allow = (): boolean => {
    const at = now();
    refresh(at);
    if (state === 'closed') return true;
    if (state === 'half-open' && probesInFlight < probes) {
      probesInFlight++;
      return true;
    }
    rejected++;
    return false;
  };

  const success = (): void => {
    if (state !== 'half-open') return;
    probesInFlight = Math.max(0, probesInFlight - 1);
    if (++probeSuccesses >= probes) move('closed', `${probes} probe(s) succeeded`, now());
  };

  const failure = (): void => {
    const at = now();
    if (state === 'half-open') {
      move('open', 'probe failed', at);
      return;
    }
    if (state !== 'closed') return; // a late result while open changes nothing
    failures[head] = at;
    head = (head + 1) % threshold;
    if (failureCount < threshold) failureCount++;
    // once full, failures[head] is the oldest of the last `threshold` failures
    if (failureCount === threshold && at - failures[head]! <= windowMs) {
      move('open', `${threshold} failures within ${windowMs} ms`, at);
    }
  };

  const retryAfter = (at: number): number => (state === 'open' && openedAt !== null ? Math.max(0, Math.ceil(openedAt + openMs - at)) : 0);

  return {
    get state() {
      refresh(now());
      return state;
    },
    allow,
    recordSuccess: success,
    recordFailure: failure,
    async run<T>(fn: () => Promise<T> | T): Promise<T> {
      if (!allow()) {
        const at = now();
        const retryAfterMs = retryAfter(at);
        throw new PeersError('PEERS_CIRCUIT_OPEN', `circuit ${state}: call refused${retryAfterMs > 0 ? `, retry in ${retryAfterMs} ms` : ', probe in flight'}`, {
          details: { state, retryAfterMs },
        });
      }
      const admitted = generation;
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        if (admitted === generation && isFailure(err)) failure();
        else if (admitted === generation) success();
        throw err;
      }
      if (admitted === generation) success();
      return result;
    },
    trip(reason = 'tripped') {
      const at = now();
      if (state === 'open') openedAt = at;
      else move('open', reason, at);
    },
    reset() {
      if (state !== 'closed') move('closed', 'reset', now());
      failureCount = 0;
      head = 0;
      probesInFlight = 0;
    },
    snapshot() {
      const at = now();
      refresh(at);
      return { state, recentFailures: recentFailures(at), openedAt, retryAfterMs: retryAfter(at), probesInFlight, opens, rejected };
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
