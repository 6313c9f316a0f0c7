/**
 * Wiping secrets and comparing them in constant time. JS cannot promise that no copy of a
 * key survives elsewhere in the heap, but wiping the buffers we own shortens the window in
 * which a heap dump or a reused pool slot exposes them.
 */
import { timingSafeEqual } from 'node:crypto';

/**
 * Overwrite every given buffer with zeros; `undefined`/`null` entries are skipped.
 *
 * @example zeroize(sendKey, receiveKey, sharedSecret);
 */
export function zeroize(...bufs: (Uint8Array | undefined | null)[]): void {
  for (const b of bufs) b?.fill(0);
}

/**
 * Constant-time equality for equal lengths; unequal lengths return false at once (lengths are
 * not secret here: tags, MACs and cookies have fixed public sizes).
 *
 * @example if (!constantTimeEqual(expectedMac, receivedMac)) reject();
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
