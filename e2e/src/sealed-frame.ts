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
import { createAead } from '@edgebox/crypto';
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
  const sealed = createAead(keys.aead, keys.sendKey).seal(nonce(keys.sendNoncePrefix, counter), plaintext, header);
  return Buffer.concat([header, sealed]);
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
  try {
    const plaintext = createAead(keys.aead, keys.receiveKey).open(nonce(keys.receiveNoncePrefix, head.counter), b.subarray(FRAME_HEADER_BYTES), b.subarray(0, FRAME_HEADER_BYTES));
    return { counter: head.counter, plaintext: Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length) };
  } catch {
    return undefined; // CRYPTO_AUTH_FAILED: not ours or tampered
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
