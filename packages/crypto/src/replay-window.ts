/**
 * Sliding anti-replay window for datagram counters (the RFC 6479 bitmap-ring design, as in
 * WireGuard's replay filter). Call check() BEFORE decrypting (cheap drop of replays, no
 * state change) and update() only AFTER the packet authenticated, so forged packets can
 * never move the window.
 *
 * The window remembers the highest accepted counter `top` and one bit per counter in
 * (top - size, top]. Bits live in a ring of 32-bit words, one word more than size/32, so
 * that the word holding `top` never overwrites bits still inside the window:
 *
 *   counter:  ... | 2016..2047 | 2048..2079 | 2080..2111 | ... | 4064..4095 | 4096..4127 |
 *   ring:         [   w0     ][    w1     ][    w2     ] ... [    w63    ][    w64    ]   (65 words)
 *                                  ^ oldest word                              ^ word of top
 *                    |<------------------- size = 2048 counters ------------------>|
 *                                                                    top - size < c <= top
 *   word index = floor(c / 32) mod words        bit = c mod 32
 *
 * Moving top forward clears the words it passes (at most `words` of them, so a big jump
 * costs O(words), not O(jump)). Accepted: c > top, or top - size < c <= top with bit clear.
 */
import { CryptoError } from './errors.js';
import { REPLAY_WINDOW_DEFAULT, REPLAY_WINDOW_MAX } from './constants.js';

/** Options of createReplayWindow(). */
export interface ReplayWindowInit {
  /** Window size in counters: a multiple of 32 in 32..65536 (default 2048). */
  size?: number;
}

/** Receiver-side replay filter for one key. */
export interface ReplayWindow {
  /** Window size in counters. */
  readonly size: number;
  /** Highest counter accepted so far, -1 before the first. */
  readonly top: number;
  /** Would `counter` be accepted? No state change: call before decrypting. */
  check(counter: number): boolean;
  /**
   * Record `counter` after the packet authenticated. Returns false (and changes nothing) for
   * a duplicate, a counter older than the window, or a non-integer.
   */
  update(counter: number): boolean;
  /** Forget everything (new key). */
  reset(): void;
}

class BitmapReplayWindow implements ReplayWindow {
  readonly size: number;
  top = -1;
  private readonly ring: Uint32Array;
  private readonly words: number;

  constructor(size: number) {
    this.size = size;
    this.words = size / 32 + 1;
    this.ring = new Uint32Array(this.words);
  }

  check(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 0) return false;
    if (counter > this.top) return true;
    if (this.top - counter >= this.size) return false;
    return (this.ring[Math.floor(counter / 32) % this.words]! & (1 << (counter & 31))) === 0;
  }

  update(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 0) return false;
    const ring = this.ring;
    const words = this.words;
    const block = Math.floor(counter / 32);
    if (counter > this.top) {
      // Clear the words between the old top's word (exclusive) and the new one (inclusive).
      const oldBlock = this.top < 0 ? block - words : Math.floor(this.top / 32);
      const steps = Math.min(block - oldBlock, words);
      for (let i = 1; i <= steps; i++) ring[(oldBlock + i) % words] = 0;
      this.top = counter;
    } else if (this.top - counter >= this.size) {
      return false;
    }
    const idx = block % words;
    const bit = 1 << (counter & 31);
    const w = ring[idx]!;
    if ((w & bit) !== 0) return false;
    ring[idx] = w | bit;
    return true;
  }

  reset(): void {
    this.ring.fill(0);
    this.top = -1;
  }
}

/**
 * Create a replay window (default 2048 counters).
 *
 * @example
 * const window = createReplayWindow();
 * if (!window.check(header.counter)) return drop('replayed');
 * const plain = aead.open(nonce, sealed, header);   // throws CRYPTO_AUTH_FAILED
 * if (!window.update(header.counter)) return drop('replayed'); // raced duplicate
 */
export function createReplayWindow(init: ReplayWindowInit = {}): ReplayWindow {
  const size = init.size ?? REPLAY_WINDOW_DEFAULT;
  if (!Number.isInteger(size) || size < 32 || size > REPLAY_WINDOW_MAX || size % 32 !== 0) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `replay window size ${size} is not a multiple of 32 in 32..${REPLAY_WINDOW_MAX}`);
  }
  return new BitmapReplayWindow(size);
}
