/**
 * The 12-byte stream frame header (framing.md §3), big-endian:
 *
 *   byte 0        1        2        3        4                 8                 12
 *        +--------+--------+--------+--------+-----------------+-----------------+---------
 *        |version |  type  | flags  |reserved| channel u32 BE  | length u32 BE   | payload
 *        +--------+--------+--------+--------+-----------------+-----------------+---------
 *
 * encodeHeader writes into a caller's buffer; decodeHeader reads into a caller's reusable
 * header object. Neither allocates. Checks run in the order of the spec (§3.2): version,
 * reserved, length against the limit, then type and flags against an optional registry.
 */
import { DEFAULT_MAX_FRAME_PAYLOAD, FRAME_HEADER_BYTES, FRAME_MAX_PAYLOAD_LIMIT, FRAMING_VERSION } from './constants.js';
import { badVersion, invalidArgument, reserved, tooLarge, truncated, unknownType } from './errors.js';
import { compileTypeTable, type KnownTypes } from './type-registry.js';

/** A decoded header. Reused by decodeHeader: read its fields before the next decode. */
export interface FrameHeader {
  /** Always FRAMING_VERSION after a successful decode. */
  version: number;
  type: number;
  flags: number;
  /** Stream id (u32); 0 = connection-level frames by convention. */
  channel: number;
  /** Payload length in bytes. */
  length: number;
}

/** Fields of a header to write. */
export interface FrameHeaderInit {
  /** 0..255 */
  type: number;
  /** 0..255, default 0 */
  flags?: number;
  /** 0..2^32-1, default 0 */
  channel?: number;
  /** Payload length, 0..maxPayload */
  length: number;
}

/** Limits of encodeHeader / decodeHeader. */
export interface HeaderLimits {
  /** Largest payload length accepted (default DEFAULT_MAX_FRAME_PAYLOAD, at most FRAME_MAX_PAYLOAD_LIMIT). */
  maxPayload?: number;
  /** Optional registry: other types raise FRAMING_UNKNOWN_TYPE, other flag bits FRAMING_RESERVED. */
  knownTypes?: KnownTypes;
}

/**
 * A zeroed header object to pass to decodeHeader again and again.
 *
 * @example const header = createFrameHeader(); decodeHeader(buf, 0, header);
 */
export function createFrameHeader(): FrameHeader {
  return { version: 0, type: 0, flags: 0, channel: 0, length: 0 };
}

/** Validate a maxPayload option (cold). */
export function resolveMaxPayload(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_FRAME_PAYLOAD;
  if (!Number.isInteger(value) || value < 0 || value > FRAME_MAX_PAYLOAD_LIMIT) {
    throw invalidArgument('maxPayload', value, `an integer in 0..${FRAME_MAX_PAYLOAD_LIMIT}`);
  }
  return value;
}

/** Big-endian u32 at `o` (no bounds check: callers checked the length). */
export function readU32BE(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Write a header whose fields are already validated. */
export function writeHeaderUnchecked(t: Uint8Array, o: number, type: number, flags: number, channel: number, length: number): void {
  t[o] = FRAMING_VERSION;
  t[o + 1] = type;
  t[o + 2] = flags;
  t[o + 3] = 0;
  t[o + 4] = channel >>> 24;
  t[o + 5] = (channel >>> 16) & 0xff;
  t[o + 6] = (channel >>> 8) & 0xff;
  t[o + 7] = channel & 0xff;
  t[o + 8] = length >>> 24;
  t[o + 9] = (length >>> 16) & 0xff;
  t[o + 10] = (length >>> 8) & 0xff;
  t[o + 11] = length & 0xff;
}

/**
 * Check the type / flags / channel of a frame to encode; returns nothing, throws
 * FRAMING_INVALID_ARGUMENT. `(v & 0xff) === v` is false for NaN, fractions and out-of-range.
 */
export function checkFrameFields(type: number, flags: number, channel: number): void {
  if ((type & 0xff) !== type) throw invalidArgument('type', type, 'an integer in 0..255');
  if ((flags & 0xff) !== flags) throw invalidArgument('flags', flags, 'an integer in 0..255');
  if (channel >>> 0 !== channel) throw invalidArgument('channel', channel, 'an integer in 0..4294967295');
}

/**
 * Write a 12-byte header into `target` at `offset` and return the offset after it. Use it to
 * build a frame in place: write the header, then seal or copy the payload right after it.
 * Throws FRAMING_TOO_LARGE for a length over `maxPayload`, FRAMING_INVALID_ARGUMENT for a
 * field out of range or too little room.
 *
 * @example
 * const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + sealedLength);
 * const at = encodeHeader(out, 0, { type: DATA, channel: 7, length: sealedLength });
 * aead.sealInto(nonce, plaintext, out, undefined, at);
 */
export function encodeHeader(target: Uint8Array, offset: number, header: FrameHeaderInit, limits: HeaderLimits = {}): number {
  const flags = header.flags ?? 0;
  const channel = header.channel ?? 0;
  const length = header.length;
  checkFrameFields(header.type, flags, channel);
  const max = limits.maxPayload === undefined ? DEFAULT_MAX_FRAME_PAYLOAD : resolveMaxPayload(limits.maxPayload);
  if (!Number.isInteger(length) || length < 0) throw invalidArgument('length', length, 'a non-negative integer');
  if (length > max) throw tooLarge('frame length', length, max);
  checkRoom(target, offset, FRAME_HEADER_BYTES);
  writeHeaderUnchecked(target, offset, header.type, flags, channel, length);
  return offset + FRAME_HEADER_BYTES;
}

/** Throw FRAMING_INVALID_ARGUMENT unless target[offset, offset+n) exists. */
export function checkRoom(target: Uint8Array, offset: number, n: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + n > target.length) {
    throw invalidArgument('offset', offset, `an integer with ${n} bytes of room in a target of ${target.length}`);
  }
}

/**
 * Validate the header at source[o, o+12) and copy it into `into`. The caller guarantees 12
 * readable bytes. Hot path: integer compares only; errors are built when failing.
 */
export function parseHeaderInto(source: Uint8Array, o: number, into: FrameHeader, maxPayload: number, table: Uint16Array | null): void {
  const version = source[o]!;
  if (version !== FRAMING_VERSION) throw badVersion('frame version', version, FRAMING_VERSION);
  const rsv = source[o + 3]!;
  if (rsv !== 0) throw reserved('frame reserved byte', rsv);
  const length = readU32BE(source, o + 8);
  if (length > maxPayload) throw tooLarge('frame length', length, maxPayload);
  const type = source[o + 1]!;
  const flags = source[o + 2]!;
  if (table !== null) {
    const entry = table[type]!;
    if (entry === 0) throw unknownType('frame type', type);
    if ((flags & ~entry & 0xff) !== 0) throw reserved(`frame flags of type 0x${type.toString(16).padStart(2, '0')}`, flags, entry & 0xff);
  }
  into.version = version;
  into.type = type;
  into.flags = flags;
  into.channel = readU32BE(source, o + 4);
  into.length = length;
}

/**
 * Read and validate the header at `source[offset]` into `into` (default: a new object) and
 * return it. FRAMING_TRUNCATED when fewer than 12 bytes remain, FRAMING_BAD_VERSION,
 * FRAMING_RESERVED, FRAMING_TOO_LARGE (length over `maxPayload`), FRAMING_UNKNOWN_TYPE.
 * The payload is not checked (it may not have arrived yet). For repeated calls with a
 * registry, prefer createStreamDecoder, which compiles the registry once.
 *
 * @example
 * const h = decodeHeader(buf, 0, header, { maxPayload: 65_536 });
 * if (buf.length >= FRAME_HEADER_BYTES + h.length) handle(h, buf.subarray(12, 12 + h.length));
 */
export function decodeHeader(source: Uint8Array, offset = 0, into: FrameHeader = createFrameHeader(), limits: HeaderLimits = {}): FrameHeader {
  if (!Number.isInteger(offset) || offset < 0) throw invalidArgument('offset', offset, 'a non-negative integer');
  const have = source.length - offset;
  if (have < FRAME_HEADER_BYTES) throw truncated('frame header', Math.max(0, have), FRAME_HEADER_BYTES);
  const max = limits.maxPayload === undefined ? DEFAULT_MAX_FRAME_PAYLOAD : resolveMaxPayload(limits.maxPayload);
  const table = limits.knownTypes === undefined ? null : compileTypeTable(limits.knownTypes);
  parseHeaderInto(source, offset, into, max, table);
  return into;
}
