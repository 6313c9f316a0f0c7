/**
 * Replay protection for handshake Init messages (docs/protocols/handshake.md §8): a timestamp
 * window plus a bounded cache of recent Init ids. Memory is bounded by `capacity`; when the
 * cache is full the oldest entry is evicted and its timestamp becomes a floor below which
 * every Init is refused, so eviction can never re-open a replay.
 *
 *   insertion order (Map) ──► oldest ............................ newest
 *   floorMs = max timestamp of anything evicted while still inside the window
 */
import { CryptoError } from './errors.js';

/** The replay cache of a responder; one per responder, shared by all initiators. */
export interface HandshakeReplayCache {
  /**
   * Accept `id` (hex of TH1) with Init timestamp `timestampMs` at time `nowMs`, recording it,
   * or raise CRYPTO_HANDSHAKE_REPLAYED.
   */
  check(id: string, timestampMs: number, nowMs: number): void;
  /** True when `id` was recorded and has not expired. */
  has(id: string, nowMs: number): boolean;
  /** Entries currently held. */
  readonly size: number;
}

export interface HandshakeReplayCacheInit {
  /** Max |now - timestamp| accepted, ms. */
  maxSkewMs: number;
  /** Max entries kept. */
  capacity: number;
}

/**
 * Create a bounded replay cache.
 *
 * @example
 * const cache = createHandshakeReplayCache({ maxSkewMs: 30_000, capacity: 16_384 })
 * cache.check(th1Hex, init.timestampMs, now()) // throws CRYPTO_HANDSHAKE_REPLAYED on a replay
 */
export function createHandshakeReplayCache(init: HandshakeReplayCacheInit): HandshakeReplayCache {
  const { maxSkewMs, capacity } = init;
  if (!(capacity >= 1)) throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `replay cache capacity ${capacity} < 1`);
  // id -> Init timestamp; insertion order is arrival order.
  const entries = new Map<string, number>();
  let floorMs = -Infinity;

  // Entries whose timestamp fell out of the window cannot be replayed anyway (the skew
  // check refuses them), so they are dropped. Arrival order ~ timestamp order for honest
  // peers; a stale entry stuck behind a newer one is removed when it reaches the front.
  function expire(nowMs: number): void {
    for (const [id, ts] of entries) {
      if (ts >= nowMs - maxSkewMs) break;
      entries.delete(id);
    }
  }

  return {
    check(id, timestampMs, nowMs) {
      if (Math.abs(nowMs - timestampMs) > maxSkewMs) {
        throw new CryptoError(
          'CRYPTO_HANDSHAKE_REPLAYED',
          `init timestamp ${timestampMs} is ${nowMs - timestampMs} ms from now ${nowMs}, max skew ${maxSkewMs} ms`,
          { details: { timestampMs, nowMs, maxSkewMs } },
        );
      }
      expire(nowMs);
      if (entries.has(id)) {
        throw new CryptoError('CRYPTO_HANDSHAKE_REPLAYED', `init ${id.slice(0, 32)} seen before`, { details: { initId: id.slice(0, 32) } });
      }
      if (timestampMs <= floorMs) {
        throw new CryptoError(
          'CRYPTO_HANDSHAKE_REPLAYED',
          `init timestamp ${timestampMs} <= replay floor ${floorMs} (cache of ${capacity} full)`,
          { details: { timestampMs, floorMs } },
        );
      }
      if (entries.size >= capacity) {
        const [oldestId, oldestTs] = entries.entries().next().value as [string, number];
        entries.delete(oldestId);
        if (oldestTs > floorMs) floorMs = oldestTs;
      }
      entries.set(id, timestampMs);
    },
    has(id, nowMs) {
      expire(nowMs);
      return entries.has(id);
    },
    get size() {
      return entries.size;
    },
  };
}
