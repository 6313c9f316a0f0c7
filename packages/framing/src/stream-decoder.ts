/**
 * Incremental stream frame decoder (framing.md §3, §5, §7): bytes from a TCP stream (or any
 * byte stream) in any split, complete frames out, synchronously, with a hard memory bound.
 *
 * 1. push(chunk) hands over the caller's chunk (no copy).
 * 2. read() returns the next complete frame, or null when it needs more bytes:
 *    - a frame wholly inside the chunk is returned as a view of the chunk (zero copy);
 *    - a frame that straddles chunks is copied, once, into the internal buffer; its header
 *      is validated as soon as its 12 bytes are in, BEFORE any payload byte is buffered,
 *      so an oversized length fails with at most 12 bytes held.
 * 3. end() at the end of the stream: FRAMING_TRUNCATED if a partial frame remains.
 *
 * Every input byte is copied at most once (no concatenation of chunks), so many small
 * chunks cost O(n). The internal buffer never exceeds 12 + maxPayload bytes:
 *
 *   internal buffer  [ header (12) | payload bytes so far ... |      free       ]
 *                    ^0                                       ^have             ^capacity
 *                    |<------------- need = 12 + length ------------>|
 *
 * Any FramingError poisons the decoder: that first error is thrown once, and every later
 * call throws FRAMING_DECODER_CLOSED naming it (the connection must be closed, §7).
 */
import { DEFAULT_STREAM_RETAIN_BYTES, FRAME_HEADER_BYTES } from './constants.js';
import { FramingError, invalidArgument, truncated } from './errors.js';
import { createFrameHeader, parseHeaderInto, resolveMaxPayload, type FrameHeader } from './header.js';
import { compileTypeTable, type KnownTypes } from './type-registry.js';

/**
 * A decoded frame. ONE object per decoder, reused by every read(): copy the fields you need
 * before the next read().
 *
 * `payload` is a view (no copy). It is valid until the next push(), read(), end() or close()
 * of this decoder, and, when it views the caller's chunk, for as long as the caller does not
 * overwrite that chunk (net.Socket 'data' chunks are fresh; an `onread` static buffer is not).
 * To keep a payload longer, copy it: `Buffer.from(frame.payload)`. The 12 header bytes always
 * precede the payload in the same buffer (see frameHeaderView).
 */
export interface StreamFrame extends FrameHeader {
  payload: Uint8Array;
}

/** Options of createStreamDecoder(). */
export interface StreamDecoderInit {
  /** Largest payload accepted; default DEFAULT_MAX_FRAME_PAYLOAD (256 KiB), at most 16 MiB. */
  maxPayload?: number;
  /** Optional type registry: unknown types raise FRAMING_UNKNOWN_TYPE, disallowed flags FRAMING_RESERVED. */
  knownTypes?: KnownTypes;
  /**
   * Keep the internal buffer between frames only while it is at most this many bytes
   * (default DEFAULT_STREAM_RETAIN_BYTES, 128 KiB); a bigger one is dropped after its frame.
   */
  retainBytes?: number;
}

/** Callback of decode(): called synchronously for each frame, with the caller's state. */
export type StreamFrameHandler<S> = (frame: StreamFrame, state: S) => void;

/** An incremental stream decoder. Synchronous; not shared between connections. */
export interface StreamDecoder {
  /**
   * Hand over the next chunk. Frames are extracted by read() (or use decode / frames).
   * Throws FRAMING_INVALID_ARGUMENT if the previous chunk still has unread frames (read()
   * had not returned null), FRAMING_DECODER_CLOSED after end(), close() or an error.
   */
  push(chunk: Uint8Array): void;
  /** The next complete frame (the reused StreamFrame), or null when more bytes are needed. */
  read(): StreamFrame | null;
  /**
   * push(chunk), then call onFrame(frame, state) for every complete frame; returns how many.
   * If onFrame throws, the error propagates and the remaining frames stay readable by read().
   */
  decode<S>(chunk: Uint8Array, onFrame: StreamFrameHandler<S>, state: S): number;
  /** push(chunk) and iterate its frames: `for (const f of decoder.frames(chunk))`. Reused iterator. */
  frames(chunk: Uint8Array): IterableIterator<StreamFrame, undefined>;
  /**
   * End of stream. Throws FRAMING_TRUNCATED (and poisons) if a partial frame is buffered,
   * FRAMING_INVALID_ARGUMENT if read() had not yet returned null. Then the decoder is closed.
   */
  end(): void;
  /** Close and release the buffer; later calls throw FRAMING_DECODER_CLOSED. Idempotent. */
  close(): void;
  /** Bytes of a partial frame held in the internal buffer (not counting unread chunk bytes). */
  readonly bufferedBytes: number;
  /** Size of the internal buffer (0 when none); never more than 12 + maxPayload. */
  readonly bufferCapacity: number;
  /** Limit given at creation. */
  readonly maxPayload: number;
  /** True after end(), close() or an error. */
  readonly closed: boolean;
  /** The error that poisoned the decoder, if any. */
  readonly error: FramingError | undefined;
  /** Frames returned so far. */
  readonly framesDecoded: number;
  /** Bytes of complete frames returned so far (headers included). */
  readonly bytesDecoded: number;
}

/** A caller error: new input or end() while the previous chunk still has unread frames (cold). */
function unreadInput(call: string, unread: number): FramingError {
  return new FramingError('FRAMING_INVALID_ARGUMENT', `${call} with ${unread} unread bytes of the previous chunk: read() until it returns null first`, {
    details: { field: 'unread', value: unread, expected: 0 },
  });
}

/** Initial internal buffer for a partial frame (grown to the frame's size when needed). */
const INITIAL_BUFFER_BYTES = 4096;
const EMPTY = new Uint8Array(0);

class StreamDecoderImpl implements StreamDecoder, IterableIterator<StreamFrame, undefined> {
  readonly maxPayload: number;
  framesDecoded = 0;
  bytesDecoded = 0;
  closed = false;
  error: FramingError | undefined = undefined;
  private readonly table: Uint16Array | null;
  private readonly retainBytes: number;
  private readonly maxFrame: number;
  private readonly frame: StreamFrame;
  private readonly yielded: IteratorYieldResult<StreamFrame>;
  private readonly finished: IteratorReturnResult<undefined>;
  /** Current chunk and read position; null once fully consumed. */
  private input: Uint8Array | null = null;
  private pos = 0;
  /** Internal buffer for a frame that straddles chunks. */
  private buf: Buffer | null = null;
  /** Bytes held in buf. */
  private have = 0;
  /** Total bytes of the buffered frame (12 + length) once its header is in, else 0. */
  private need = 0;
  /** Why the decoder closed without an error (end / close). */
  private closedBy = '';

  constructor(maxPayload: number, table: Uint16Array | null, retainBytes: number) {
    this.maxPayload = maxPayload;
    this.table = table;
    this.retainBytes = retainBytes;
    this.maxFrame = FRAME_HEADER_BYTES + maxPayload;
    const frame = createFrameHeader() as StreamFrame;
    frame.payload = EMPTY;
    this.frame = frame;
    this.yielded = { done: false, value: frame };
    this.finished = { done: true, value: undefined };
  }

  get bufferedBytes(): number {
    return this.have;
  }

  get bufferCapacity(): number {
    return this.buf === null ? 0 : this.buf.length;
  }

  push(chunk: Uint8Array): void {
    if (this.closed) throw this.closedError();
    if (!(chunk instanceof Uint8Array)) throw invalidArgument('chunk', chunk, 'a Uint8Array');
    if (this.input !== null) {
      throw unreadInput('push()', this.input.length - this.pos);
    }
    if (chunk.length === 0) return;
    this.input = chunk;
    this.pos = 0;
  }

  read(): StreamFrame | null {
    if (this.closed) throw this.closedError();
    const input = this.input;
    if (input === null) return null;
    try {
      return this.have > 0 ? this.continueBuffered(input) : this.readFromInput(input);
    } catch (err) {
      throw this.poison(err);
    }
  }

  decode<S>(chunk: Uint8Array, onFrame: StreamFrameHandler<S>, state: S): number {
    this.push(chunk);
    let n = 0;
    for (let f = this.read(); f !== null; f = this.read()) {
      n++;
      onFrame(f, state);
    }
    return n;
  }

  frames(chunk: Uint8Array): IterableIterator<StreamFrame, undefined> {
    this.push(chunk);
    return this;
  }

  // Iterator protocol for frames(): the decoder is its own (reused) iterator.
  next(): IteratorResult<StreamFrame, undefined> {
    return this.read() === null ? this.finished : this.yielded;
  }

  [Symbol.iterator](): IterableIterator<StreamFrame, undefined> {
    return this;
  }

  end(): void {
    if (this.closed) throw this.closedError();
    if (this.input !== null) {
      throw unreadInput('end()', this.input.length - this.pos);
    }
    if (this.have > 0) {
      const err =
        this.have < FRAME_HEADER_BYTES
          ? truncated('frame header at end of stream', this.have, FRAME_HEADER_BYTES)
          : truncated(`frame (type ${this.frame.type}, channel ${this.frame.channel}) at end of stream`, this.have, this.need);
      throw this.poison(err);
    }
    this.shut('end()');
  }

  close(): void {
    if (!this.closed) this.shut('close()');
  }

  /** Fast path: no partial frame held; parse straight out of the chunk. */
  private readFromInput(input: Uint8Array): StreamFrame | null {
    const pos = this.pos;
    const avail = input.length - pos;
    if (avail >= FRAME_HEADER_BYTES) {
      const frame = this.frame;
      parseHeaderInto(input, pos, frame, this.maxPayload, this.table);
      const total = FRAME_HEADER_BYTES + frame.length;
      if (avail >= total) {
        frame.payload = input.subarray(pos + FRAME_HEADER_BYTES, pos + total);
        this.advance(input, pos + total);
        this.framesDecoded++;
        this.bytesDecoded += total;
        return frame;
      }
      // A frame that continues in the next chunk: header already validated, buffer the rest.
      this.need = total;
      this.reserve(total);
    } else {
      this.need = 0;
      this.reserve(FRAME_HEADER_BYTES);
    }
    this.buf!.set(avail === input.length ? input : input.subarray(pos), 0);
    this.have = avail;
    this.input = null;
    return null;
  }

  /** Slow path: complete the buffered frame with bytes of the chunk. */
  private continueBuffered(input: Uint8Array): StreamFrame | null {
    let pos = this.pos;
    let buf = this.buf!;
    const frame = this.frame;
    if (this.have < FRAME_HEADER_BYTES) {
      const n = Math.min(FRAME_HEADER_BYTES - this.have, input.length - pos);
      for (let i = 0; i < n; i++) buf[this.have + i] = input[pos + i]!;
      this.have += n;
      pos += n;
      if (this.have < FRAME_HEADER_BYTES) return this.starve();
      parseHeaderInto(buf, 0, frame, this.maxPayload, this.table);
      this.need = FRAME_HEADER_BYTES + frame.length;
      buf = this.reserve(this.need);
    }
    const need = this.need;
    const n = Math.min(need - this.have, input.length - pos);
    if (n > 0) buf.set(input.subarray(pos, pos + n), this.have);
    this.have += n;
    pos += n;
    if (this.have < need) return this.starve();
    frame.payload = buf.subarray(FRAME_HEADER_BYTES, need);
    this.have = 0;
    this.need = 0;
    // A buffer grown for a big frame is let go; the view above keeps its memory alive.
    if (buf.length > this.retainBytes) this.buf = null;
    this.advance(input, pos);
    this.framesDecoded++;
    this.bytesDecoded += need;
    return frame;
  }

  private starve(): null {
    this.input = null;
    return null;
  }

  private advance(input: Uint8Array, pos: number): void {
    if (pos >= input.length) this.input = null;
    else this.pos = pos;
  }

  /** Make the internal buffer hold `size` bytes (≤ 12 + maxPayload), keeping `have` bytes. */
  private reserve(size: number): Buffer {
    const old = this.buf;
    if (old !== null && old.length >= size) return old;
    const grown = old === null ? INITIAL_BUFFER_BYTES : old.length * 2;
    // Cold: at most log2(maxFrame / 4096) growths per buffer, never past maxFrame.
    const buf = Buffer.allocUnsafeSlow(Math.max(size, Math.min(grown, this.maxFrame)));
    if (old !== null && this.have > 0) old.copy(buf, 0, 0, this.have);
    this.buf = buf;
    return buf;
  }

  private poison(err: unknown): unknown {
    if (err instanceof FramingError && !this.closed) {
      this.error = err;
      this.shut('');
    }
    return err;
  }

  private shut(by: string): void {
    this.closed = true;
    this.closedBy = by;
    this.input = null;
    this.buf = null;
    this.have = 0;
    this.need = 0;
    this.frame.payload = EMPTY;
  }

  private closedError(): FramingError {
    const first = this.error;
    if (first !== undefined) {
      return new FramingError('FRAMING_DECODER_CLOSED', `decoder closed after ${first.code}: ${first.message}`, {
        cause: first,
        details: { firstError: first.code },
      });
    }
    return new FramingError('FRAMING_DECODER_CLOSED', `decoder closed by ${this.closedBy}`, { details: { closedBy: this.closedBy } });
  }
}

/**
 * Create an incremental stream decoder for one connection.
 *
 * @example
 * const decoder = createStreamDecoder({ maxPayload: 256 * 1024, knownTypes: TUNNEL_TYPES });
 * socket.on('data', (chunk) => {
 *   try {
 *     decoder.decode(chunk, onFrame, session);          // sync: no await per frame
 *   } catch (err) {
 *     socket.destroy(err as Error);                     // a framing error is fatal (§7)
 *   }
 * });
 * socket.on('end', () => decoder.end());                // FRAMING_TRUNCATED on a cut frame
 */
export function createStreamDecoder(init: StreamDecoderInit = {}): StreamDecoder {
  const maxPayload = resolveMaxPayload(init.maxPayload);
  const table = compileTypeTable(init.knownTypes);
  const retainBytes = init.retainBytes ?? DEFAULT_STREAM_RETAIN_BYTES;
  if (!Number.isInteger(retainBytes) || retainBytes < 0) throw invalidArgument('retainBytes', retainBytes, 'a non-negative integer');
  return new StreamDecoderImpl(maxPayload, table, retainBytes);
}

/**
 * The 12 header bytes of a decoded frame, as a view (one allocation when called): e.g. the
 * AEAD associated data of a sealed payload. Same lifetime as `frame.payload`.
 *
 * @example const aad = frameHeaderView(frame); aead.open(nonce, frame.payload, aad);
 */
export function frameHeaderView(frame: StreamFrame): Uint8Array {
  const p = frame.payload;
  if (p.byteOffset < FRAME_HEADER_BYTES) throw invalidArgument('frame.payload', p, 'a payload returned by a stream decoder');
  return new Uint8Array(p.buffer, p.byteOffset - FRAME_HEADER_BYTES, FRAME_HEADER_BYTES);
}
