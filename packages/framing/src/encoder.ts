/**
 * Stream frame encoder (framing.md §3): one frame into a new Buffer (one allocation), into a
 * caller's buffer at an offset (no allocation), or many frames into one Buffer (batching
 * without writev: one socket.write for a burst of small frames).
 */
import { FRAME_HEADER_BYTES } from './constants.js';
import { invalidArgument, tooLarge } from './errors.js';
import { checkFrameFields, checkRoom, resolveMaxPayload, writeHeaderUnchecked } from './header.js';

/** A frame to encode. */
export interface FrameInit {
  /** 0..255 (app-owned numbers, framing.md §6). */
  type: number;
  /** 0..255, default 0. */
  flags?: number;
  /** Stream id 0..2^32-1, default 0 (connection-level). */
  channel?: number;
  /** Default empty. Copied into the output. */
  payload?: Uint8Array;
}

/** Options of the encoders. */
export interface EncodeOptions {
  /** Refuse payloads over this (FRAMING_TOO_LARGE); default DEFAULT_MAX_FRAME_PAYLOAD. */
  maxPayload?: number;
}

const EMPTY = new Uint8Array(0);

/** Validate one frame and return its payload length. */
function checkFrame(frame: FrameInit, max: number): number {
  if (typeof frame !== 'object' || frame === null) throw invalidArgument('frame', frame, 'an object {type, flags?, channel?, payload?}');
  const payload = frame.payload ?? EMPTY;
  if (!(payload instanceof Uint8Array)) throw invalidArgument('payload', payload, 'a Uint8Array');
  checkFrameFields(frame.type, frame.flags ?? 0, frame.channel ?? 0);
  const n = payload.length;
  if (n > max) throw tooLarge('frame length', n, max);
  return n;
}

/** Write a checked frame at `offset`, return the end offset. */
function writeFrame(target: Uint8Array, offset: number, frame: FrameInit): number {
  const payload = frame.payload ?? EMPTY;
  writeHeaderUnchecked(target, offset, frame.type, frame.flags ?? 0, frame.channel ?? 0, payload.length);
  target.set(payload, offset + FRAME_HEADER_BYTES);
  return offset + FRAME_HEADER_BYTES + payload.length;
}

/**
 * Bytes a frame with `payloadLength` bytes of payload takes on the wire.
 *
 * @example const out = Buffer.allocUnsafe(frameLength(1400));
 */
export function frameLength(payloadLength: number): number {
  return FRAME_HEADER_BYTES + payloadLength;
}

/**
 * Encode one frame into a new Buffer of exactly 12 + payload bytes (one allocation; every
 * byte is written). FRAMING_TOO_LARGE over `maxPayload`, FRAMING_INVALID_ARGUMENT for a bad
 * field.
 *
 * @example socket.write(encodeFrame({ type: PING, channel: 0, payload: nonce8 }));
 */
export function encodeFrame(frame: FrameInit, options: EncodeOptions = {}): Buffer {
  const max = resolveMaxPayload(options.maxPayload);
  const n = checkFrame(frame, max);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + n);
  writeFrame(out, 0, frame);
  return out;
}

/**
 * Encode one frame into `target` at `offset`; returns the offset after the frame. No
 * allocation. FRAMING_INVALID_ARGUMENT when the frame does not fit.
 *
 * @example
 * let at = 0;
 * at = encodeFrameInto(slot, at, { type: DATA, channel, payload });
 * socket.write(slot.subarray(0, at));
 */
export function encodeFrameInto(target: Uint8Array, offset: number, frame: FrameInit, options: EncodeOptions = {}): number {
  const max = resolveMaxPayload(options.maxPayload);
  const n = checkFrame(frame, max);
  checkRoom(target, offset, FRAME_HEADER_BYTES + n);
  return writeFrame(target, offset, frame);
}

/**
 * Encode many frames back to back into ONE new Buffer (one allocation), e.g. a burst of
 * WINDOW_UPDATEs or small DATA frames sent with a single socket.write. All frames are
 * checked before anything is allocated.
 *
 * @example socket.write(encodeFrames([{ type: WINDOW_UPDATE, channel: 3, payload: inc }, { type: PING }]));
 */
export function encodeFrames(frames: readonly FrameInit[], options: EncodeOptions = {}): Buffer {
  if (!Array.isArray(frames)) throw invalidArgument('frames', frames, 'an array of frames');
  const max = resolveMaxPayload(options.maxPayload);
  let total = 0;
  for (let i = 0; i < frames.length; i++) total += FRAME_HEADER_BYTES + checkFrame(frames[i]!, max);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < frames.length; i++) at = writeFrame(out, at, frames[i]!);
  return out;
}
