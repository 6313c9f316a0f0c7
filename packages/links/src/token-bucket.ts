/**
 * Token bucket for per-link rate caps: `rateBytesPerSec` tokens flow in, the bucket holds at
 * most `burstBytes`, a packet of n bytes takes n tokens. Refill is lazy (computed from the
 * time since the last call), so the bucket has no timer and each call is a few arithmetic
 * operations on numbers: no allocation. The bucket starts full.
 *
 *   tokens(t) = min(burst, tokens(t0) + (t - t0) · rate / 1000)
 *
 * `take()` may drive tokens below zero (a packet sent anyway, e.g. by the last-resort rule):
 * the debt is repaid by later refills. A clock stepping back refills nothing.
 */
import { TOKEN_BUCKET_BURST_MS, TOKEN_BUCKET_MIN_BURST_BYTES } from './constants.js';
import { numberIn, positive } from './validate.js';

/** Options of createTokenBucket(). */
export interface TokenBucketInit {
  /** Refill rate in bytes per second (0 blocks once the bucket is empty). */
  rateBytesPerSec: number;
  /**
   * Bucket depth in bytes (default max(rate · TOKEN_BUCKET_BURST_MS / 1000,
   * TOKEN_BUCKET_MIN_BURST_BYTES)). A packet larger than the depth never passes tryTake().
   */
  burstBytes?: number;
}

/** A lazily refilled token bucket. */
export interface TokenBucket {
  readonly rateBytesPerSec: number;
  readonly burstBytes: number;
  /** Tokens after the last refill (may be negative after take()). */
  readonly tokens: number;
  /** Tokens available at `nowMs`. */
  available(nowMs: number): number;
  /** Would a packet of `bytes` pass at `nowMs`? (refills, takes nothing) */
  canTake(bytes: number, nowMs: number): boolean;
  /** Take `bytes` tokens if available; false (and nothing taken) otherwise. */
  tryTake(bytes: number, nowMs: number): boolean;
  /** Take `bytes` tokens unconditionally (the balance may go negative). */
  take(bytes: number, nowMs: number): void;
  /** Change the rate (and depth); tokens above the new depth are dropped. Cold path. */
  setRate(rateBytesPerSec: number, burstBytes?: number): void;
}

/**
 * The default depth for a rate: TOKEN_BUCKET_BURST_MS worth of it, at least 64 KiB.
 *
 * @example
 * defaultBurstBytes(12_500_000); // 625000: 50 ms of 100 Mbit/s
 */
export function defaultBurstBytes(rateBytesPerSec: number): number {
  const b = (rateBytesPerSec * TOKEN_BUCKET_BURST_MS) / 1000;
  return b > TOKEN_BUCKET_MIN_BURST_BYTES ? b : TOKEN_BUCKET_MIN_BURST_BYTES;
}

class LazyTokenBucket implements TokenBucket {
  // Number initialisers, not bare declarations: a class field starts as `undefined`, which
  // would make V8 store these doubles boxed (a new HeapNumber per write) instead of in place.
  rateBytesPerSec = 0;
  burstBytes = 0;
  tokens = 0;
  private lastMs = Number.NaN;

  constructor(rate: number, burst: number) {
    this.rateBytesPerSec = rate;
    this.burstBytes = burst;
    this.tokens = burst;
  }

  private refill(nowMs: number): void {
    const last = this.lastMs;
    if (nowMs > last) {
      const t = this.tokens + ((nowMs - last) * this.rateBytesPerSec) / 1000;
      this.tokens = t < this.burstBytes ? t : this.burstBytes;
      this.lastMs = nowMs;
    } else if (last !== last) {
      this.lastMs = nowMs; // first call: the bucket starts full
    }
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  canTake(bytes: number, nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= bytes;
  }

  tryTake(bytes: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }

  take(bytes: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= bytes;
  }

  setRate(rateBytesPerSec: number, burstBytes?: number): void {
    this.rateBytesPerSec = numberIn('rateBytesPerSec', rateBytesPerSec, 0, 0);
    this.burstBytes = positive('burstBytes', burstBytes, defaultBurstBytes(this.rateBytesPerSec));
    if (this.tokens > this.burstBytes) this.tokens = this.burstBytes;
  }
}

/**
 * Create a token bucket (full at the first call).
 *
 * @example
 * const cap = createTokenBucket({ rateBytesPerSec: 12_500_000 }); // 100 Mbit/s
 * if (cap.tryTake(packet.length, now)) send(packet);
 * else dropAndCount();
 */
export function createTokenBucket(init: TokenBucketInit): TokenBucket {
  const rate = numberIn('rateBytesPerSec', init.rateBytesPerSec, Number.NaN, 0);
  const burst = positive('burstBytes', init.burstBytes, defaultBurstBytes(rate));
  return new LazyTokenBucket(rate, burst);
}
