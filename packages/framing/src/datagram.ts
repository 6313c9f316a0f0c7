/**
 * Datagram codec for UDP transports (framing.md §4): a 16-byte header, then the AEAD
 * ciphertext. The header is the AEAD associated data, so every header bit is authenticated.
 *
 *   byte 0        1        2        3        4                 8                                16
 *        +--------+--------+--------+--------+-----------------+--------------------------------+------
 *        |version |  type  | flags  |reserved| receiver u32 BE | counter u64 LITTLE-endian      | body
 *        +--------+--------+--------+--------+-----------------+--------------------------------+------
 *
 * The counter is little-endian to match the 64-bit LE counter of the crypto nonce
 * (@edgebox/crypto nonce.ts: 4-byte prefix ‖ counter LE), so a receiver rebuilds the nonce
 * from the same value. The hot path reads it as two u32 halves (counterLo / counterHi) or
 * as a plain number (`counter`); `counterBigInt` exists for the full 64-bit range.
 *
 * Decoding never copies: `header` and `body` are views of the input. A datagram decoder's
 * tryDecode() never throws on wire input: it drops and counts (§7).
 */
import { DATAGRAM_HEADER_BYTES, DATAGRAM_MAX_BYTES_LIMIT, DEFAULT_MAX_DATAGRAM_BYTES, FRAMING_VERSION } from './constants.js';
import { badVersion, invalidArgument, reserved, tooLarge, truncated, unknownType, type FramingError } from './errors.js';
import { checkFrameFields, checkRoom, readU32BE } from './header.js';
import { compileTypeTable, type KnownTypes } from './type-registry.js';

const TWO_32 = 0x1_0000_0000;
/** counterHi below this keeps hi * 2^32 + lo a safe integer (2^53 - 1). */
const SAFE_HI_LIMIT = 0x20_0000;
const U64_MAX = (1n << 64n) - 1n;
const EMPTY = new Uint8Array(0);

/** Fields of a datagram header to write. */
export interface DatagramHeaderInit {
  /** 0..255 (app-owned numbers, framing.md §6). */
  type: number;
  /** 0..255, default 0. */
  flags?: number;
  /** The receiver's session index (u32), as WireGuard's receiver index. */
  receiver: number;
  /** Packet counter 0..2^64-1: a safe integer number (fast) or a bigint. */
  counter: number | bigint;
}

/** A datagram to encode: header fields and the (already sealed) body. */
export interface DatagramInit extends DatagramHeaderInit {
  /** The AEAD ciphertext (or any body). Default empty. Copied. */
  body?: Uint8Array;
}

/**
 * A decoded datagram. Reused by a decoder (or by the `into` argument): read it before the
 * next decode. `header` and `body` view the input bytes (no copy): valid while the input
 * buffer is not overwritten (a reused recv buffer: copy before the next recv).
 */
export interface DatagramView {
  readonly version: number;
  readonly type: number;
  readonly flags: number;
  /** Receiver index (u32). */
  readonly receiver: number;
  /** Low 32 bits of the counter. */
  readonly counterLo: number;
  /** High 32 bits of the counter. */
  readonly counterHi: number;
  /** The counter as a number when ≤ 2^53 - 1 (every counter @edgebox/crypto produces), else -1. */
  readonly counter: number;
  /** The exact 64-bit counter (allocates a bigint: not for the hot path). */
  readonly counterBigInt: bigint;
  /** Bytes [0, 16): the AEAD associated data. */
  readonly header: Uint8Array;
  /** Bytes [16, end): the AEAD ciphertext. */
  readonly body: Uint8Array;
}

/** Options of decodeDatagram / createDatagramDecoder / encodeDatagram. */
export interface DatagramLimits {
  /** Largest whole datagram in bytes; default DEFAULT_MAX_DATAGRAM_BYTES (65507), 16..65527. */
  maxDatagram?: number;
  /** Optional registry: unknown types raise FRAMING_UNKNOWN_TYPE, disallowed flags FRAMING_RESERVED. */
  knownTypes?: KnownTypes;
}

/** Datagrams a decoder's tryDecode() dropped, by reason. Plain numbers, read at scrape time. */
export interface DatagramDrops {
  total: number;
  tooLarge: number;
  truncated: number;
  badVersion: number;
  reserved: number;
  unknownType: number;
}

/** A reusable datagram decoder with compiled limits and drop counters. */
export interface DatagramDecoder {
  /** Decode into the decoder's reused view; throws FramingError on bad input. */
  decode(bytes: Uint8Array): DatagramView;
  /** Decode into the reused view, or return null and count the drop: never throws on wire input. */
  tryDecode(bytes: Uint8Array): DatagramView | null;
  /** Drops counted by tryDecode(). */
  readonly drops: DatagramDrops;
  /** Datagrams decoded successfully. */
  readonly decoded: number;
  readonly maxDatagram: number;
}

class DatagramViewImpl implements DatagramView {
  version = 0;
  type = 0;
  flags = 0;
  receiver = 0;
  counterLo = 0;
  counterHi = 0;
  header: Uint8Array = EMPTY;
  body: Uint8Array = EMPTY;

  get counter(): number {
    return this.counterHi < SAFE_HI_LIMIT ? this.counterHi * TWO_32 + this.counterLo : -1;
  }

  get counterBigInt(): bigint {
    return (BigInt(this.counterHi) << 32n) | BigInt(this.counterLo);
  }
}

/**
 * A fresh view for decodeDatagram's `into` argument.
 *
 * @example const view = createDatagramView(); decodeDatagram(packet, view);
 */
export function createDatagramView(): DatagramView {
  return new DatagramViewImpl();
}

function resolveMaxDatagram(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_DATAGRAM_BYTES;
  if (!Number.isInteger(value) || value < DATAGRAM_HEADER_BYTES || value > DATAGRAM_MAX_BYTES_LIMIT) {
    throw invalidArgument('maxDatagram', value, `an integer in ${DATAGRAM_HEADER_BYTES}..${DATAGRAM_MAX_BYTES_LIMIT}`);
  }
  return value;
}

// -- validation: classify() returns a reason without allocating; errorFor() builds the error (cold)

const OK = 0;
const R_TOO_LARGE = 1;
const R_TRUNCATED = 2;
const R_VERSION = 3;
const R_RESERVED = 4;
const R_UNKNOWN_TYPE = 5;
const R_FLAGS = 6;

function classify(b: Uint8Array, max: number, table: Uint16Array | null): number {
  const n = b.length;
  if (n > max) return R_TOO_LARGE;
  if (n < DATAGRAM_HEADER_BYTES) return R_TRUNCATED;
  if (b[0] !== FRAMING_VERSION) return R_VERSION;
  if (b[3] !== 0) return R_RESERVED;
  if (table !== null) {
    const entry = table[b[1]!]!;
    if (entry === 0) return R_UNKNOWN_TYPE;
    if ((b[2]! & ~entry & 0xff) !== 0) return R_FLAGS;
  }
  return OK;
}

function errorFor(reason: number, b: Uint8Array, max: number, table: Uint16Array | null): FramingError {
  switch (reason) {
    case R_TOO_LARGE:
      return tooLarge('datagram length', b.length, max);
    case R_TRUNCATED:
      return truncated('datagram header', b.length, DATAGRAM_HEADER_BYTES);
    case R_VERSION:
      return badVersion('datagram version', b[0]!, FRAMING_VERSION);
    case R_RESERVED:
      return reserved('datagram reserved byte', b[3]!);
    case R_UNKNOWN_TYPE:
      return unknownType('datagram type', b[1]!);
    default:
      return reserved(`datagram flags of type 0x${b[1]!.toString(16).padStart(2, '0')}`, b[2]!, table![b[1]!]! & 0xff);
  }
}

function fill(view: DatagramViewImpl, b: Uint8Array): DatagramViewImpl {
  view.version = b[0]!;
  view.type = b[1]!;
  view.flags = b[2]!;
  view.receiver = readU32BE(b, 4);
  view.counterLo = (b[8]! | (b[9]! << 8) | (b[10]! << 16) | (b[11]! << 24)) >>> 0;
  view.counterHi = (b[12]! | (b[13]! << 8) | (b[14]! << 16) | (b[15]! << 24)) >>> 0;
  view.header = b.subarray(0, DATAGRAM_HEADER_BYTES);
  view.body = b.subarray(DATAGRAM_HEADER_BYTES);
  return view;
}

function checkBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('datagram', bytes, 'a Uint8Array');
}

function asImpl(into: DatagramView): DatagramViewImpl {
  if (!(into instanceof DatagramViewImpl)) throw invalidArgument('into', into, 'a view from createDatagramView()');
  return into;
}

/**
 * Decode one datagram (whole UDP payload) into `into` (default: a new view) and return it.
 * FRAMING_TOO_LARGE over `maxDatagram` (checked first, nothing read), FRAMING_TRUNCATED under
 * 16 bytes, FRAMING_BAD_VERSION, FRAMING_RESERVED, FRAMING_UNKNOWN_TYPE. On a receive loop
 * prefer createDatagramDecoder().tryDecode(), which drops and counts instead of throwing.
 *
 * @example
 * const d = decodeDatagram(packet);
 * const plaintext = aead.open(nonceFor(d.counter), d.body, d.header);
 */
export function decodeDatagram(bytes: Uint8Array, into: DatagramView = new DatagramViewImpl(), limits: DatagramLimits = {}): DatagramView {
  checkBytes(bytes);
  const view = asImpl(into);
  const max = resolveMaxDatagram(limits.maxDatagram);
  const table = compileTypeTable(limits.knownTypes);
  const reason = classify(bytes, max, table);
  if (reason !== OK) throw errorFor(reason, bytes, max, table);
  return fill(view, bytes);
}

class DatagramDecoderImpl implements DatagramDecoder {
  readonly maxDatagram: number;
  readonly drops: DatagramDrops = { total: 0, tooLarge: 0, truncated: 0, badVersion: 0, reserved: 0, unknownType: 0 };
  decoded = 0;
  private readonly table: Uint16Array | null;
  private readonly view = new DatagramViewImpl();

  constructor(maxDatagram: number, table: Uint16Array | null) {
    this.maxDatagram = maxDatagram;
    this.table = table;
  }

  decode(bytes: Uint8Array): DatagramView {
    checkBytes(bytes);
    const reason = classify(bytes, this.maxDatagram, this.table);
    if (reason !== OK) throw errorFor(reason, bytes, this.maxDatagram, this.table);
    this.decoded++;
    return fill(this.view, bytes);
  }

  tryDecode(bytes: Uint8Array): DatagramView | null {
    checkBytes(bytes);
    const reason = classify(bytes, this.maxDatagram, this.table);
    if (reason === OK) {
      this.decoded++;
      return fill(this.view, bytes);
    }
    const d = this.drops;
    d.total++;
    if (reason === R_TOO_LARGE) d.tooLarge++;
    else if (reason === R_TRUNCATED) d.truncated++;
    else if (reason === R_VERSION) d.badVersion++;
    else if (reason === R_UNKNOWN_TYPE) d.unknownType++;
    else d.reserved++; // reserved byte or disallowed flag bits
    return null;
  }
}

/**
 * A datagram decoder for one receive loop: limits and registry compiled once, one reused
 * view, drop counters for metrics.
 *
 * @example
 * const dec = createDatagramDecoder({ knownTypes: BONDING_TYPES });
 * socket.on('message', (msg) => {
 *   const d = dec.tryDecode(msg);
 *   if (d === null) return;                       // dropped and counted in dec.drops
 *   if (!replay.check(d.counter)) return;
 *   // open d.body with d.header as associated data ...
 * });
 */
export function createDatagramDecoder(init: DatagramLimits = {}): DatagramDecoder {
  return new DatagramDecoderImpl(resolveMaxDatagram(init.maxDatagram), compileTypeTable(init.knownTypes));
}

/**
 * Write a 16-byte datagram header into `target` at `offset`; returns the offset after it
 * (where the sealed body goes). The header is then the AEAD associated data. No allocation.
 *
 * @example
 * const at = encodeDatagramHeader(slot, 0, { type: DATA, receiver: peer.index, counter: seq.next() });
 * const n = aead.sealInto(seq.nonce, packet, slot, slot.subarray(0, at), at);
 * socket.send(slot.subarray(0, at + n));
 */
export function encodeDatagramHeader(target: Uint8Array, offset: number, header: DatagramHeaderInit): number {
  const flags = header.flags ?? 0;
  const receiver = header.receiver;
  checkFrameFields(header.type, flags, 0);
  if (receiver >>> 0 !== receiver) throw invalidArgument('receiver', receiver, 'an integer in 0..4294967295');
  const counter = header.counter;
  let lo: number;
  let hi: number;
  if (typeof counter === 'number') {
    if (!Number.isSafeInteger(counter) || counter < 0) throw invalidArgument('counter', counter, 'an integer in 0..2^53-1 (use a bigint above)');
    lo = counter % TWO_32;
    hi = (counter - lo) / TWO_32;
  } else {
    if (typeof counter !== 'bigint' || counter < 0n || counter > U64_MAX) throw invalidArgument('counter', counter, 'a bigint in 0..2^64-1');
    lo = Number(counter & 0xffff_ffffn);
    hi = Number(counter >> 32n);
  }
  checkRoom(target, offset, DATAGRAM_HEADER_BYTES);
  const t = target;
  const o = offset;
  t[o] = FRAMING_VERSION;
  t[o + 1] = header.type;
  t[o + 2] = flags;
  t[o + 3] = 0;
  t[o + 4] = receiver >>> 24;
  t[o + 5] = (receiver >>> 16) & 0xff;
  t[o + 6] = (receiver >>> 8) & 0xff;
  t[o + 7] = receiver & 0xff;
  t[o + 8] = lo & 0xff;
  t[o + 9] = (lo >>> 8) & 0xff;
  t[o + 10] = (lo >>> 16) & 0xff;
  t[o + 11] = lo >>> 24;
  t[o + 12] = hi & 0xff;
  t[o + 13] = (hi >>> 8) & 0xff;
  t[o + 14] = (hi >>> 16) & 0xff;
  t[o + 15] = hi >>> 24;
  return o + DATAGRAM_HEADER_BYTES;
}

/**
 * Encode a whole datagram (header + copied body) into a new Buffer: one allocation.
 * FRAMING_TOO_LARGE when 16 + body exceeds `maxDatagram`. For the data plane, prefer
 * encodeDatagramHeader + sealInto into a pooled slot (no copy).
 *
 * @example socket.send(encodeDatagram({ type: KEEPALIVE, receiver, counter, body: sealedEmpty }));
 */
export function encodeDatagram(datagram: DatagramInit, limits: Pick<DatagramLimits, 'maxDatagram'> = {}): Buffer {
  const body = datagram.body ?? EMPTY;
  if (!(body instanceof Uint8Array)) throw invalidArgument('body', body, 'a Uint8Array');
  const max = resolveMaxDatagram(limits.maxDatagram);
  const total = DATAGRAM_HEADER_BYTES + body.length;
  if (total > max) throw tooLarge('datagram length', total, max);
  const out = Buffer.allocUnsafe(total);
  encodeDatagramHeader(out, 0, datagram);
  out.set(body, DATAGRAM_HEADER_BYTES);
  return out;
}
