/**
 * The e2e probe's data datagram: one AEAD-sealed message under a handshake's session keys.
 * This is a test format, not a product wire format; it only proves both sides derived the
 * same keys. Layout (13-byte header, authenticated as AAD):
 *
 *   0      1                 5                         13
 *   +------+-----------------+-------------------------+----------------------+
 *   | 0xE2 | receiver sid u32| counter u64 (big-endian)| ciphertext ‖ tag(16) |
 *   +------+-----------------+-------------------------+----------------------+
 *
 * Nonce = 4-byte direction prefix from the handshake ‖ the counter (handshake.md §4).
 * 0xE2 can never start a handshake message (those start with version 0x01).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { CipherChaCha20Poly1305, CipherGCM, DecipherChaCha20Poly1305, DecipherGCM } from 'node:crypto';
import type { HandshakeResult } from '@edgebox/crypto';

export const FRAME_TYPE_DATA = 0xe2;
export const FRAME_HEADER_BYTES = 13;
export const FRAME_TAG_BYTES = 16;
/** Plaintext cap: one message fits a datagram on any path. */
export const FRAME_MAX_PLAINTEXT = 1024;

/** Keys of one direction pair, copied out of a HandshakeResult. */
export interface SessionKeys {
  aead: HandshakeResult['aead'];
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  sendNoncePrefix: Uint8Array;
  receiveNoncePrefix: Uint8Array;
  localSessionId: number;
  remoteSessionId: number;
}

function nonce(prefix: Uint8Array, counter: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.set(prefix, 0);
  n.writeBigUInt64BE(counter, 4);
  return n;
}

// Separate calls per algorithm: node's typings pick the AEAD overload from a literal name.
function cipher(keys: SessionKeys, iv: Buffer): CipherGCM | CipherChaCha20Poly1305 {
  return keys.aead === 'aes-256-gcm'
    ? createCipheriv('aes-256-gcm', keys.sendKey, iv, { authTagLength: FRAME_TAG_BYTES })
    : createCipheriv('chacha20-poly1305', keys.sendKey, iv, { authTagLength: FRAME_TAG_BYTES });
}

function decipher(keys: SessionKeys, iv: Buffer): DecipherGCM | DecipherChaCha20Poly1305 {
  return keys.aead === 'aes-256-gcm'
    ? createDecipheriv('aes-256-gcm', keys.receiveKey, iv, { authTagLength: FRAME_TAG_BYTES })
    : createDecipheriv('chacha20-poly1305', keys.receiveKey, iv, { authTagLength: FRAME_TAG_BYTES });
}

/**
 * Seals `plaintext` for the peer with counter `counter`.
 *
 * @example
 * socket.send(sealFrame(keys, 0n, Buffer.from('hello')), port, host);
 */
export function sealFrame(keys: SessionKeys, counter: bigint, plaintext: Uint8Array): Buffer {
  if (plaintext.length > FRAME_MAX_PLAINTEXT) throw new RangeError(`plaintext length ${plaintext.length} > max ${FRAME_MAX_PLAINTEXT}`);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header[0] = FRAME_TYPE_DATA;
  header.writeUInt32BE(keys.remoteSessionId, 1);
  header.writeBigUInt64BE(counter, 5);
  const c = cipher(keys, nonce(keys.sendNoncePrefix, counter));
  c.setAAD(header, { plaintextLength: plaintext.length });
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([header, body, c.getAuthTag()]);
}

/** Header fields of a data datagram, or undefined if it is not one. */
export function peekFrame(datagram: Uint8Array): { receiverSessionId: number; counter: bigint } | undefined {
  if (datagram.length < FRAME_HEADER_BYTES + FRAME_TAG_BYTES || datagram[0] !== FRAME_TYPE_DATA) return undefined;
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  return { receiverSessionId: b.readUInt32BE(1), counter: b.readBigUInt64BE(5) };
}

/**
 * Opens a data datagram; undefined when it is not one or does not authenticate.
 *
 * @example
 * const text = openFrame(keys, datagram)?.plaintext.toString();
 */
export function openFrame(keys: SessionKeys, datagram: Uint8Array): { counter: bigint; plaintext: Buffer } | undefined {
  const head = peekFrame(datagram);
  if (head === undefined || head.receiverSessionId !== keys.localSessionId) return undefined;
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  const d = decipher(keys, nonce(keys.receiveNoncePrefix, head.counter));
  const body = b.subarray(FRAME_HEADER_BYTES, b.length - FRAME_TAG_BYTES);
  d.setAAD(b.subarray(0, FRAME_HEADER_BYTES), { plaintextLength: body.length });
  d.setAuthTag(b.subarray(b.length - FRAME_TAG_BYTES));
  try {
    return { counter: head.counter, plaintext: Buffer.concat([d.update(body), d.final()]) };
  } catch {
    return undefined;
  }
}

/** Copies the keys out of a result (the result's own buffers are zeroized by destroy()). */
export function sessionKeysOf(result: HandshakeResult): SessionKeys {
  return {
    aead: result.aead,
    sendKey: Uint8Array.from(result.sendKey),
    receiveKey: Uint8Array.from(result.receiveKey),
    sendNoncePrefix: Uint8Array.from(result.sendNoncePrefix),
    receiveNoncePrefix: Uint8Array.from(result.receiveNoncePrefix),
    localSessionId: result.localSessionId,
    remoteSessionId: result.remoteSessionId,
  };
}
