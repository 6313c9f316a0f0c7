/**
 * Per-direction counter nonces for long-lived AEAD keys (ARCHITECTURE.md "Crypto policy":
 * never random). Layout of the 12-byte nonce:
 *
 *   byte  0      4                              12
 *         +------+------------------------------+
 *         |prefix|  counter, 64-bit LITTLE-endian|
 *         +------+------------------------------+
 *
 * The 4-byte prefix names the direction / sender (from the handshake's key schedule), so the
 * two directions of a session never share a nonce even if they share a key. Little-endian as
 * in WireGuard; the counter also travels in the packet header so the receiver can rebuild the
 * nonce (writeCounterNonce) and run the replay window on it.
 *
 * Counters are plain numbers (exact to 2^53 - 1): no bigint on the hot path.
 */
import { CryptoError } from './errors.js';
import { AEAD_NONCE_BYTES, NONCE_COUNTER_MAX, NONCE_PREFIX_BYTES } from './constants.js';

const TWO_32 = 0x1_0000_0000;

/** Options of createNonceSequence(). */
export interface NonceSequenceInit {
  /** 4-byte direction / sender prefix. Copied. */
  prefix: Uint8Array;
  /** Number of nonces this key may produce: counters 0..limit-1 (default and max 2^53 - 1). */
  limit?: number;
  /** First counter (default 0), e.g. to continue after a restart with a persisted counter. */
  start?: number;
}

/** A sender's nonce source for one key and direction. */
export interface NonceSequence {
  /**
   * The 12-byte nonce written by the last next(): ONE buffer reused on every call, so use it
   * (seal) before calling next() again.
   */
  readonly nonce: Uint8Array;
  /** Counter the next call of next() will use. */
  readonly counter: number;
  /** Nonces left before CRYPTO_NONCE_EXHAUSTED. */
  readonly remaining: number;
  /** Limit given at creation. */
  readonly limit: number;
  /**
   * Take the next counter: writes prefix || counter into `nonce` and returns the counter
   * (put it in the packet header). Throws CRYPTO_NONCE_EXHAUSTED at the limit: rekey.
   */
  next(): number;
}

/**
 * Write prefix || counter (64-bit little-endian) into `out` at `offset`. For the receiver,
 * which rebuilds the nonce from the counter in the packet header.
 *
 * @example writeCounterNonce(nonceBuf, session.receiveNoncePrefix, header.counter);
 */
export function writeCounterNonce(out: Uint8Array, prefix: Uint8Array, counter: number, offset = 0): void {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `nonce counter ${counter} is not an integer in 0..${NONCE_COUNTER_MAX}`);
  }
  out[offset] = prefix[0]!;
  out[offset + 1] = prefix[1]!;
  out[offset + 2] = prefix[2]!;
  out[offset + 3] = prefix[3]!;
  const lo = counter % TWO_32;
  const hi = (counter - lo) / TWO_32;
  out[offset + 4] = lo & 0xff;
  out[offset + 5] = (lo >>> 8) & 0xff;
  out[offset + 6] = (lo >>> 16) & 0xff;
  out[offset + 7] = lo >>> 24;
  out[offset + 8] = hi & 0xff;
  out[offset + 9] = (hi >>> 8) & 0xff;
  out[offset + 10] = (hi >>> 16) & 0xff;
  out[offset + 11] = hi >>> 24;
}

/**
 * Read the counter of a 12-byte counter nonce (little-endian bytes 4..11). Returns -1 when
 * the counter does not fit a safe integer (never produced by this module).
 *
 * @example const counter = readNonceCounter(nonce);
 */
export function readNonceCounter(nonce: Uint8Array, offset = 0): number {
  const lo = (nonce[offset + 4]! | (nonce[offset + 5]! << 8) | (nonce[offset + 6]! << 16) | (nonce[offset + 7]! << 24)) >>> 0;
  const hi = (nonce[offset + 8]! | (nonce[offset + 9]! << 8) | (nonce[offset + 10]! << 16) | (nonce[offset + 11]! << 24)) >>> 0;
  const v = hi * TWO_32 + lo;
  return Number.isSafeInteger(v) ? v : -1;
}

class CounterNonceSequence implements NonceSequence {
  readonly nonce = new Uint8Array(AEAD_NONCE_BYTES);
  counter: number;
  readonly limit: number;

  constructor(prefix: Uint8Array, limit: number, start: number) {
    this.limit = limit;
    this.counter = start;
    this.nonce.set(prefix, 0);
  }

  get remaining(): number {
    return this.limit - this.counter;
  }

  next(): number {
    const c = this.counter;
    if (c >= this.limit) {
      throw new CryptoError('CRYPTO_NONCE_EXHAUSTED', `nonce counter ${c} reached limit ${this.limit}: rekey`, { details: { counter: c, limit: this.limit } });
    }
    this.counter = c + 1;
    // prefix bytes 0..3 were written once in the constructor; only the counter changes.
    const n = this.nonce;
    const lo = c % TWO_32;
    const hi = (c - lo) / TWO_32;
    n[4] = lo & 0xff;
    n[5] = (lo >>> 8) & 0xff;
    n[6] = (lo >>> 16) & 0xff;
    n[7] = lo >>> 24;
    n[8] = hi & 0xff;
    n[9] = (hi >>> 8) & 0xff;
    n[10] = (hi >>> 16) & 0xff;
    n[11] = hi >>> 24;
    return c;
  }
}

/**
 * Counter-nonce source for one key and direction.
 *
 * @example
 * const seq = createNonceSequence({ prefix: session.sendNoncePrefix, limit: REKEY_AFTER_MESSAGES });
 * const counter = seq.next();               // throws CRYPTO_NONCE_EXHAUSTED at the limit
 * aead.sealInto(seq.nonce, packet, out, header);
 */
export function createNonceSequence(init: NonceSequenceInit): NonceSequence {
  const { prefix } = init;
  if (!(prefix instanceof Uint8Array) || prefix.length !== NONCE_PREFIX_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `nonce prefix length ${prefix?.length} != ${NONCE_PREFIX_BYTES}`);
  }
  const limit = init.limit ?? NONCE_COUNTER_MAX;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `nonce limit ${limit} is not an integer in 1..${NONCE_COUNTER_MAX}`);
  }
  const start = init.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0 || start > limit) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `nonce start ${start} is not an integer in 0..${limit}`);
  }
  return new CounterNonceSequence(prefix, limit, start);
}
