/**
 * SHA-256 and HMAC-SHA256 over one or more parts, on node:crypto. Taking parts avoids the
 * caller concatenating buffers just to hash them (transcripts are hashed from many fields).
 */
import { createHash, createHmac } from 'node:crypto';

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * SHA-256 of the concatenation of `parts` (no separators: length-prefix variable fields
 * yourself when the boundary matters).
 *
 * @example const h = sha256(header, body); // 32 bytes
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return view(h.digest());
}

/**
 * HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key`.
 *
 * @example const mac = hmacSha256(cookieKey, addressBytes, timestamp);
 */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return view(h.digest());
}
