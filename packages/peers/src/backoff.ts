/**
 * Reconnection delays: exponential backoff (optionally with full or equal jitter) and
 * decorrelated jitter, after Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture
 * Blog (2015):
 *
 *   exponential   ceiling = min(max, min * factor^attempt)
 *                   none:  ceiling
 *                   full:  random_between(min, ceiling)         (the blog draws from 0; we keep min)
 *                   equal: ceiling/2 + random_between(0, ceiling/2), at least min
 *   decorrelated  sleep = min(max, random_between(min, sleep * 3)), sleep starting at min
 *
 * Every delay is an integer in [minMs, maxMs]; maxMs is at most 2^31-1 so it fits setTimeout.
 * Randomness is injected (`components.random`, values in [0, 1)) so tests are deterministic.
 * Decorrelated jitter is the default: clients that failed together do not retry together.
 */
import { BACKOFF_FACTOR, BACKOFF_MAX_MS, BACKOFF_MIN_MS, DECORRELATED_JITTER_MULTIPLIER, TIMER_MAX_MS } from './constants.js';
import { checkInteger, checkNumber, invalid } from './errors.js';

/** How delays grow. */
export type BackoffStrategy = 'exponential' | 'decorrelated';
/** Jitter applied to exponential backoff. */
export type BackoffJitter = 'none' | 'full' | 'equal';

/** Options of createBackoff. */
export interface BackoffInit {
  /** Default 'decorrelated'. */
  strategy?: BackoffStrategy;
  /** Shortest delay (default BACKOFF_MIN_MS). */
  minMs?: number;
  /** Longest delay (default BACKOFF_MAX_MS, at most TIMER_MAX_MS). */
  maxMs?: number;
  /** Exponential growth per attempt (default 2; exponential only). */
  factor?: number;
  /** Jitter for exponential backoff (default 'none'; exponential only). */
  jitter?: BackoffJitter;
}

/** Dependencies of createBackoff. */
export interface BackoffComponents {
  /** Uniform random in [0, 1) (default Math.random; jitter needs no cryptographic quality). */
  random?: () => number;
}

/** A delay sequence for one retrying thing (a peer, a tunnel session). */
export interface Backoff {
  readonly strategy: BackoffStrategy;
  readonly minMs: number;
  readonly maxMs: number;
  /** Delays handed out since creation or the last reset. */
  readonly attempt: number;
  /** The next delay in ms (integer in [minMs, maxMs]). */
  next(): number;
  /** Start over from minMs (call after a connection has been up for a while). */
  reset(): void;
}

/**
 * Create a backoff sequence.
 *
 * @example
 * const backoff = createBackoff({ minMs: 500, maxMs: 60_000 }); // decorrelated jitter
 * conn.transition('reconnecting', 'lost');
 * timer = setTimeout(dial, backoff.next());
 * // ...once established and stable:
 * backoff.reset();
 */
export function createBackoff(init: BackoffInit = {}, components: BackoffComponents = {}): Backoff {
  const strategy = init.strategy ?? 'decorrelated';
  if (strategy !== 'exponential' && strategy !== 'decorrelated') throw invalid('strategy', strategy, "'exponential' or 'decorrelated'");
  const jitter = init.jitter ?? 'none';
  if (jitter !== 'none' && jitter !== 'full' && jitter !== 'equal') throw invalid('jitter', jitter, "'none', 'full' or 'equal'");
  const minMs = checkInteger('minMs', init.minMs ?? BACKOFF_MIN_MS, 1, TIMER_MAX_MS); // 0 would never grow
  const maxMs = checkInteger('maxMs', init.maxMs ?? Math.max(BACKOFF_MAX_MS, minMs), minMs, TIMER_MAX_MS);
  const factor = checkNumber('factor', init.factor ?? BACKOFF_FACTOR, 1, 1000);
  const random = components.random ?? Math.random;
  let attempt = 0;
  let sleep = minMs; // decorrelated: the previous delay

  const uniform = (low: number, high: number): number => {
    const r = random();
    const u = r >= 0 && r < 1 ? r : r >= 1 ? 1 : 0; // a bad source cannot push a delay out of range
    return low + u * (high - low);
  };

  const clamp = (ms: number): number => Math.min(maxMs, Math.max(minMs, Math.floor(ms)));

  const exponential = (): number => {
    const ceiling = Math.min(maxMs, minMs * factor ** attempt); // Infinity/NaN-free: min() caps it
    if (jitter === 'full') return clamp(uniform(minMs, ceiling));
    if (jitter === 'equal') return clamp(ceiling / 2 + uniform(0, ceiling / 2));
    return clamp(ceiling);
  };

  const decorrelated = (): number => {
    sleep = clamp(uniform(minMs, Math.max(minMs, sleep * DECORRELATED_JITTER_MULTIPLIER)));
    return sleep;
  };

  return {
    strategy,
    minMs,
    maxMs,
    get attempt() {
      return attempt;
    },
    next() {
      const delay = strategy === 'decorrelated' ? decorrelated() : exponential();
      attempt++;
      return delay;
    },
    reset() {
      attempt = 0;
      sleep = minMs;
    },
  };
}
