/**
 * Concurrent connection limits, globally and per key (peer, source address, service): max
 * peers, pending dials, streams per peer, tunnel connections per service. A slot is taken when
 * a connection opens and released when it closes; over a limit the caller refuses and counts.
 *
 * Keys live in the map only while they hold a slot, so the map never holds more than maxTotal
 * keys. A slot's release() is idempotent: closing twice cannot free someone else's slot.
 */
import { PeersError, checkInteger, describeValue } from './errors.js';

/** Options of createConnectionLimiter. */
export interface ConnectionLimiterInit {
  /** Slots in total. */
  maxTotal: number;
  /** Slots per key (default maxTotal). */
  maxPerKey?: number;
}

/** A held slot. */
export interface ConnectionSlot {
  readonly key: string;
  readonly released: boolean;
  /** Give the slot back (idempotent). */
  release(): void;
}

/** Counting limits. */
export interface ConnectionLimiter {
  readonly maxTotal: number;
  readonly maxPerKey: number;
  /** Slots held now. */
  readonly total: number;
  /** Acquisitions refused since creation. */
  readonly refused: number;
  /** Slots held by key. */
  count(key: string): number;
  /** A slot, or null when the total or the key's limit is reached. */
  tryAcquire(key: string): ConnectionSlot | null;
  /** tryAcquire that throws PEERS_LIMIT naming the limit reached. */
  acquire(key: string): ConnectionSlot;
}

/**
 * Create a connection limiter.
 *
 * @example
 * const limits = createConnectionLimiter({ maxTotal: 1000, maxPerKey: 8 });
 * const slot = limits.tryAcquire(remoteIp);
 * if (slot === null) { socket.destroy(); metrics.refused.inc(); return; }
 * socket.once('close', slot.release);
 */
export function createConnectionLimiter(init: ConnectionLimiterInit): ConnectionLimiter {
  const maxTotal = checkInteger('maxTotal', init?.maxTotal, 1, 100_000_000);
  const maxPerKey = checkInteger('maxPerKey', init.maxPerKey ?? maxTotal, 1, maxTotal);
  const counts = new Map<string, number>();
  let total = 0;
  let refused = 0;

  const tryAcquire = (key: string): ConnectionSlot | null => {
    const held = counts.get(key) ?? 0;
    if (total >= maxTotal || held >= maxPerKey) {
      refused++;
      return null;
    }
    counts.set(key, held + 1);
    total++;
    let released = false;
    const slot: ConnectionSlot = {
      key,
      get released() {
        return released;
      },
      release() {
        if (released) return;
        released = true;
        total--;
        const n = (counts.get(key) ?? 1) - 1;
        if (n <= 0) counts.delete(key);
        else counts.set(key, n);
      },
    };
    return slot;
  };

  return {
    maxTotal,
    maxPerKey,
    get total() {
      return total;
    },
    get refused() {
      return refused;
    },
    count: (key) => counts.get(key) ?? 0,
    tryAcquire,
    acquire(key) {
      const slot = tryAcquire(key);
      if (slot !== null) return slot;
      const which = total >= maxTotal ? `total limit ${maxTotal}` : `limit ${maxPerKey} for ${describeValue(key)}`;
      throw new PeersError('PEERS_LIMIT', `connection refused: ${which} reached`, { details: { key, total, maxTotal, maxPerKey } });
    },
  };
}
