/**
 * Token buckets per key (peer id, IP, service): per-peer message rates and connection-attempt
 * limits. A bucket holds up to `capacity` tokens and refills at `refillPerSecond`; a call takes
 * tokens or is refused. Refill is computed on access from the elapsed time, so there are no
 * timers.
 *
 * The key map is bounded: at `maxKeys` the least recently used key is evicted and counted
 * (`evictions`, export it as a metric). An evicted key comes back with a full bucket, so keep
 * maxKeys above the number of keys active at once (peers, not packets). LRU order is the Map's
 * insertion order: a hit re-inserts the key (delete + set), no allocation per call.
 */
import { RATE_LIMIT_MAX_KEYS } from './constants.js';
import { PeersError, checkInteger, checkNumber, describeValue, invalid } from './errors.js';

/** Options of createRateLimiter. */
export interface RateLimiterInit {
  /** Bucket size: the burst allowed after a quiet period. */
  capacity: number;
  /** Tokens added per second (may be fractional: 0.5 = one every 2 s). */
  refillPerSecond: number;
  /** Keys tracked before LRU eviction (default RATE_LIMIT_MAX_KEYS). */
  maxKeys?: number;
}

/** Dependencies of createRateLimiter. */
export interface RateLimiterComponents {
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/** Token buckets by key. */
export interface RateLimiter<K extends string | number = string> {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly maxKeys: number;
  /** Keys tracked now. */
  readonly size: number;
  /** Keys evicted (least recently used) because the map was full. */
  readonly evictions: number;
  /** Calls refused since creation. */
  readonly limited: number;
  /** Take `tokens` (default 1) from key's bucket; false (nothing taken) when there are not enough. */
  tryTake(key: K, tokens?: number): boolean;
  /** tryTake that throws PEERS_RATE_LIMITED (details.retryAfterMs) when refused. */
  take(key: K, tokens?: number): void;
  /** ms until `tokens` would be available for key (0 = now). */
  retryAfterMs(key: K, tokens?: number): number;
  /** Tokens available for key now (capacity for an unknown key). */
  available(key: K): number;
  /** Forget a key (its next call starts with a full bucket). */
  delete(key: K): boolean;
  /** Forget every key. */
  clear(): void;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Create a keyed token-bucket rate limiter.
 *
 * @example
 * // at most 100 messages/s per peer, bursts of 200
 * const messages = createRateLimiter({ capacity: 200, refillPerSecond: 100 });
 * if (!messages.tryTake(peerId)) { metrics.dropped.inc(); return; }
 * // at most 1 connection attempt per 10 s per address, bursts of 3
 * const dials = createRateLimiter({ capacity: 3, refillPerSecond: 0.1 });
 */
export function createRateLimiter<K extends string | number = string>(init: RateLimiterInit, components: RateLimiterComponents = {}): RateLimiter<K> {
  if (typeof init !== 'object' || init === null) throw invalid('rate limiter options', init, 'an object with capacity and refillPerSecond');
  const capacity = checkNumber('capacity', init.capacity, 1, 1e12);
  const refillPerSecond = checkNumber('refillPerSecond', init.refillPerSecond, 1e-9, 1e12);
  const maxKeys = checkInteger('maxKeys', init.maxKeys ?? RATE_LIMIT_MAX_KEYS, 1, 100_000_000);
  const now = components.now ?? (() => performance.now());
  const buckets = new Map<K, Bucket>();
  let evictions = 0;
  let limited = 0;

  const checkTokens = (tokens: number): void => {
    if (!(tokens > 0 && tokens <= capacity)) throw invalid('tokens', tokens, `a number in (0, ${capacity}] (the capacity)`);
  };

  /** The key's bucket refilled to now, moved to the most-recent end (created full if new). */
  const touch = (key: K): Bucket => {
    const at = now();
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= maxKeys) {
        const oldest = buckets.keys().next().value as K;
        buckets.delete(oldest);
        evictions++;
      }
      bucket = { tokens: capacity, updatedAt: at }; // one object per key, not per call
      buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = at - bucket.updatedAt;
    if (elapsed > 0) {
      bucket.tokens = Math.min(capacity, bucket.tokens + (elapsed * refillPerSecond) / 1000);
      bucket.updatedAt = at;
    }
    buckets.delete(key);
    buckets.set(key, bucket);
    return bucket;
  };

  const wait = (bucket: Bucket, tokens: number): number => (bucket.tokens >= tokens ? 0 : Math.ceil(((tokens - bucket.tokens) * 1000) / refillPerSecond));

  const tryTake = (key: K, tokens = 1): boolean => {
    checkTokens(tokens);
    const bucket = touch(key);
    if (bucket.tokens >= tokens) {
      bucket.tokens -= tokens;
      return true;
    }
    limited++;
    return false;
  };

  return {
    capacity,
    refillPerSecond,
    maxKeys,
    get size() {
      return buckets.size;
    },
    get evictions() {
      return evictions;
    },
    get limited() {
      return limited;
    },
    tryTake,
    take(key, tokens = 1) {
      if (tryTake(key, tokens)) return;
      const retryAfterMs = wait(buckets.get(key)!, tokens);
      throw new PeersError('PEERS_RATE_LIMITED', `rate limit for ${describeValue(key)}: ${tokens} token(s) wanted, retry in ${retryAfterMs} ms`, {
        details: { key, tokens, retryAfterMs },
      });
    },
    retryAfterMs(key, tokens = 1) {
      checkTokens(tokens);
      const bucket = buckets.get(key);
      return bucket === undefined ? 0 : wait(touch(key), tokens);
    },
    available(key) {
      return buckets.has(key) ? touch(key).tokens : capacity;
    },
    delete: (key) => buckets.delete(key),
    clear() {
      buckets.clear();
    },
  };
}
