/**
 * Frames over a libp2p v3 stream, for the cold paths (the handshake): write one frame with
 * back-pressure (`send()` returns false until `drain`, see drain.ts), read one frame at a time through
 * @edgebox/framing's stream decoder from any chunking. The named-stream hot path has its own
 * loop in streams.ts.
 */
import type { Stream } from '@libp2p/interface';
import { waitForDrain } from './drain.js';
import { createStreamDecoder, encodeFrame, type StreamDecoder } from '@edgebox/framing';

/** One decoded frame, its payload copied out of the decoder (cold path). */
export interface ReadFrame {
  type: number;
  flags: number;
  channel: number;
  payload: Uint8Array;
}

/** Reads whole frames from a stream. */
export interface FrameReader {
  /** The next frame, or undefined at the end of the stream. Throws FramingError on bad input. */
  next(): Promise<ReadFrame | undefined>;
  /** Release the decoder. */
  close(): void;
}

/**
 * A frame reader over `stream` accepting payloads up to `maxPayload` and the given types.
 *
 * @example const reader = createFrameReader(stream, 16_384, [TYPE_HANDSHAKE]); const f = await reader.next();
 */
export function createFrameReader(stream: Stream, maxPayload: number, knownTypes: readonly number[]): FrameReader {
  const decoder: StreamDecoder = createStreamDecoder({ maxPayload, knownTypes });
  const chunks = stream[Symbol.asyncIterator]();
  let pending = false; // the decoder still holds frames of the last chunk
  return {
    async next() {
      for (;;) {
        if (pending) {
          const frame = decoder.read();
          if (frame !== null) return { type: frame.type, flags: frame.flags, channel: frame.channel, payload: frame.payload.slice() };
          pending = false;
        }
        const { done, value } = await chunks.next();
        if (done === true) {
          decoder.end(); // FRAMING_TRUNCATED when a partial frame is left
          return undefined;
        }
        decoder.push(value.subarray());
        pending = true;
      }
    },
    close() {
      decoder.close();
    },
  };
}

/**
 * Write one frame, waiting for the stream to drain when its buffer is full.
 *
 * @example await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: init }, { signal });
 */
export async function writeFrame(
  stream: Stream,
  frame: { type: number; flags?: number; channel?: number; payload: Uint8Array },
  options: { signal?: AbortSignal; maxPayload?: number } = {},
): Promise<void> {
  const bytes = encodeFrame(frame, { maxPayload: options.maxPayload });
  if (!stream.send(bytes)) await waitForDrain(stream, options.signal);
}
