/**
 * @edgebox/framing: versioned binary frames with hard size limits (docs/protocols/framing.md).
 *
 * - Stream frames (TCP: tunnel, p2p streams): a 12-byte header (version, type, flags,
 *   reserved, channel u32, length u32) and a payload. encodeFrame / encodeFrameInto /
 *   encodeFrames write them; createStreamDecoder reads them from any chunking.
 * - Datagrams (UDP: bonding, p2p): a 16-byte header (version, type, flags, reserved,
 *   receiver u32, counter u64 LE), the AEAD associated data, then the ciphertext.
 *
 * @example
 * import { createStreamDecoder, encodeFrame } from '@edgebox/framing';
 * socket.write(encodeFrame({ type: 0x11, channel: 5, payload }));
 * const decoder = createStreamDecoder({ maxPayload: 256 * 1024 });
 * socket.on('data', (chunk) => decoder.decode(chunk, onFrame, session));
 */
export {
  FRAMING_ERROR_CODES,
  FramingError,
  isFramingError,
  type FramingErrorCode,
  type FramingErrorOptions,
} from './errors.js';
export * from './constants.js';
export type { KnownTypes } from './type-registry.js';
export {
  createFrameHeader,
  decodeHeader,
  encodeHeader,
  type FrameHeader,
  type FrameHeaderInit,
  type HeaderLimits,
} from './header.js';
export { encodeFrame, encodeFrameInto, encodeFrames, frameLength, type EncodeOptions, type FrameInit } from './encoder.js';
export {
  createStreamDecoder,
  frameHeaderView,
  type StreamDecoder,
  type StreamDecoderInit,
  type StreamFrame,
  type StreamFrameHandler,
} from './stream-decoder.js';
export {
  createDatagramDecoder,
  createDatagramView,
  decodeDatagram,
  encodeDatagram,
  encodeDatagramHeader,
  type DatagramDecoder,
  type DatagramDrops,
  type DatagramHeaderInit,
  type DatagramInit,
  type DatagramLimits,
  type DatagramView,
} from './datagram.js';
