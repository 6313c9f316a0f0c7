/**
 * Frame bodies of the tunnel stream protocol (docs/protocols/tunnel.md §2): strict encode and
 * decode of each plaintext body. Lengths are exact; anything else raises TUNNEL_MALFORMED
 * (body content) or TUNNEL_PROTOCOL (wrong channel for the type). The multiplexer calls the
 * small per-type readers on its hot path; `decodeFrameBody` / `encodeFrameBody` give the
 * whole typed frame for tests, vectors and tools (they allocate: cold path).
 */
import {
  FLAG_REKEY_ACK,
  FRAME_DATA,
  FRAME_DATAGRAM,
  FRAME_FIN,
  FRAME_GOAWAY,
  FRAME_NAMES,
  FRAME_OPEN,
  FRAME_OPEN_ACK,
  FRAME_OPEN_ERR,
  FRAME_PING,
  FRAME_PONG,
  FRAME_REKEY,
  FRAME_RESET,
  FRAME_WINDOW_UPDATE,
  MAX_DATA_BYTES,
  MAX_DATAGRAM_BYTES,
  MAX_STREAM_ID,
  MAX_TARGET_BYTES,
  MAX_WINDOW_UPDATE_BYTES,
  PING_BYTES,
  PROTOCOL_TCP,
  PROTOCOL_UDP,
  TUNNEL_FRAME_TYPES,
} from './constants.js';
import { TunnelError } from './errors.js';

/** What an OPEN asks for (tunnel.md §2). */
export interface OpenRequest {
  protocol: 'tcp' | 'udp';
  /** Exposed port, 1..65535. */
  port: number;
  /** `host:port` for protocol mode, '' otherwise. */
  target: string;
}

/** A decoded frame: type, channel and the body's fields. */
export type TunnelFrame =
  | { type: typeof FRAME_OPEN; channel: number; open: OpenRequest }
  | { type: typeof FRAME_OPEN_ACK | typeof FRAME_FIN; channel: number }
  | { type: typeof FRAME_OPEN_ERR | typeof FRAME_RESET; channel: number; code: number }
  | { type: typeof FRAME_DATA | typeof FRAME_DATAGRAM; channel: number; data: Uint8Array }
  | { type: typeof FRAME_WINDOW_UPDATE; channel: number; credit: number }
  | { type: typeof FRAME_PING | typeof FRAME_PONG; channel: 0; opaque: Uint8Array }
  | { type: typeof FRAME_REKEY; channel: 0; ack: boolean; generation: number }
  | { type: typeof FRAME_GOAWAY; channel: 0; lastStreamId: number; code: number };

const TARGET_RE = /^[\x21-\x7e]+:[0-9]{1,5}$/;

function name(type: number): string {
  return FRAME_NAMES[type] ?? `0x${type.toString(16)}`;
}

function malformed(type: number, what: string, details?: Record<string, unknown>): TunnelError {
  return new TunnelError('TUNNEL_MALFORMED', `${name(type)} ${what}`, { details: { type, ...details } });
}

function expectLength(type: number, body: Uint8Array, length: number): void {
  if (body.length === length) return;
  throw malformed(type, `body length ${body.length} != ${length}`);
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** True when the type lives on channel 0 (connection frames). */
export function isConnectionFrame(type: number): boolean {
  return type === FRAME_PING || type === FRAME_PONG || type === FRAME_REKEY || type === FRAME_GOAWAY;
}

/**
 * Checks that `type` may travel on `channel` (tunnel.md §2): connection frames on 0, stream
 * frames on an id in 1..2^31-1, WINDOW_UPDATE on either.
 *
 * @example checkChannel(FRAME_DATA, 0); // throws TUNNEL_PROTOCOL
 */
export function checkChannel(type: number, channel: number): void {
  if (isConnectionFrame(type)) {
    if (channel === 0) return;
  } else if (type === FRAME_WINDOW_UPDATE) {
    if (channel <= MAX_STREAM_ID) return;
  } else if (channel !== 0 && channel <= MAX_STREAM_ID) {
    return;
  }
  throw new TunnelError('TUNNEL_PROTOCOL', `${name(type)} on channel ${channel} not allowed`, { details: { type, channel } });
}

/** Body length of an OPEN for `init`. */
export function openBodyLength(init: OpenRequest): number {
  return 6 + Buffer.byteLength(init.target, 'latin1');
}

/**
 * Writes an OPEN body at `offset` of `out`; returns the end offset.
 *
 * @example const end = encodeOpen(buf, 0, { protocol: 'tcp', port: 443, target: '' });
 */
export function encodeOpen(out: Uint8Array, offset: number, init: OpenRequest): number {
  const { port, target, protocol } = init;
  if (protocol !== 'tcp' && protocol !== 'udp') {
    throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `OPEN protocol ${String(protocol)} is not tcp or udp`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `OPEN port ${port} is not in 1..65535`);
  }
  if (target !== '' && (target.length > MAX_TARGET_BYTES || !TARGET_RE.test(target))) {
    throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `OPEN target ${JSON.stringify(target.slice(0, 64))} is not host:port of at most ${MAX_TARGET_BYTES} ASCII bytes`);
  }
  const end = offset + 6 + target.length;
  if (end > out.length) throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `OPEN needs ${end - offset} bytes, ${out.length - offset} left`);
  out[offset] = protocol === 'tcp' ? PROTOCOL_TCP : PROTOCOL_UDP;
  out[offset + 1] = 0;
  putU16(out, offset + 2, port);
  putU16(out, offset + 4, target.length);
  for (let i = 0; i < target.length; i++) out[offset + 6 + i] = target.charCodeAt(i);
  return end;
}

/**
 * Reads an OPEN body (cold path: one object per stream).
 *
 * @example const { protocol, port, target } = decodeOpen(body);
 */
export function decodeOpen(body: Uint8Array): OpenRequest {
  if (body.length < 6) throw malformed(FRAME_OPEN, `body length ${body.length} < 6`);
  const p = body[0]!;
  if (p !== PROTOCOL_TCP && p !== PROTOCOL_UDP) throw malformed(FRAME_OPEN, `protocol ${p} is not 1 (tcp) or 2 (udp)`);
  if (body[1] !== 0) throw malformed(FRAME_OPEN, `reserved byte ${body[1]} != 0`);
  const port = u16(body, 2);
  if (port === 0) throw malformed(FRAME_OPEN, 'port 0 is not in 1..65535');
  const n = u16(body, 4);
  if (n > MAX_TARGET_BYTES) throw malformed(FRAME_OPEN, `target length ${n} > max ${MAX_TARGET_BYTES}`);
  if (body.length !== 6 + n) throw malformed(FRAME_OPEN, `body length ${body.length} != 6 + target length ${n}`);
  const target = Buffer.from(body.buffer, body.byteOffset + 6, n).toString('latin1');
  if (n > 0 && !TARGET_RE.test(target)) throw malformed(FRAME_OPEN, `target ${JSON.stringify(target.slice(0, 64))} is not host:port`);
  return { protocol: p === PROTOCOL_TCP ? 'tcp' : 'udp', port, target };
}

/** Writes a `code u16` body (OPEN_ERR, RESET); returns the end offset. */
export function encodeCode(out: Uint8Array, offset: number, code: number): number {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `code ${code} is not a u16`);
  putU16(out, offset, code);
  return offset + 2;
}

/** Reads the `code u16` body of OPEN_ERR or RESET. */
export function decodeCode(type: number, body: Uint8Array): number {
  expectLength(type, body, 2);
  return u16(body, 0);
}

/** Writes a WINDOW_UPDATE body; returns the end offset. */
export function encodeWindowUpdate(out: Uint8Array, offset: number, credit: number): number {
  if (!Number.isInteger(credit) || credit < 1 || credit > MAX_WINDOW_UPDATE_BYTES) {
    throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `WINDOW_UPDATE credit ${credit} is not in 1..${MAX_WINDOW_UPDATE_BYTES}`);
  }
  putU32(out, offset, credit);
  return offset + 4;
}

/** Reads a WINDOW_UPDATE body: the credit in bytes, 1..2^31-1. */
export function decodeWindowUpdate(body: Uint8Array): number {
  expectLength(FRAME_WINDOW_UPDATE, body, 4);
  const credit = u32(body, 0);
  if (credit === 0 || credit > MAX_WINDOW_UPDATE_BYTES) throw malformed(FRAME_WINDOW_UPDATE, `credit ${credit} is not in 1..${MAX_WINDOW_UPDATE_BYTES}`);
  return credit;
}

/** Writes a REKEY body; returns the end offset. */
export function encodeRekey(out: Uint8Array, offset: number, generation: number): number {
  if (!Number.isInteger(generation) || generation < 1 || generation > 0xffff_ffff) {
    throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `REKEY generation ${generation} is not in 1..2^32-1`);
  }
  putU32(out, offset, generation);
  return offset + 4;
}

/** Reads a REKEY body: the generation the sender switched to. */
export function decodeRekey(body: Uint8Array): number {
  expectLength(FRAME_REKEY, body, 4);
  const g = u32(body, 0);
  if (g === 0) throw malformed(FRAME_REKEY, 'generation 0 is not in 1..2^32-1');
  return g;
}

/** Writes a GOAWAY body; returns the end offset. */
export function encodeGoAway(out: Uint8Array, offset: number, lastStreamId: number, code: number): number {
  if (!Number.isInteger(lastStreamId) || lastStreamId < 0 || lastStreamId > MAX_STREAM_ID) {
    throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `GOAWAY lastStreamId ${lastStreamId} is not in 0..${MAX_STREAM_ID}`);
  }
  putU32(out, offset, lastStreamId);
  return encodeCode(out, offset + 4, code);
}

/** Reads a GOAWAY body. */
export function decodeGoAway(body: Uint8Array): { lastStreamId: number; code: number } {
  expectLength(FRAME_GOAWAY, body, 6);
  const lastStreamId = u32(body, 0);
  if (lastStreamId > MAX_STREAM_ID) throw malformed(FRAME_GOAWAY, `lastStreamId ${lastStreamId} > max ${MAX_STREAM_ID}`);
  return { lastStreamId, code: u16(body, 4) };
}

/** Checks the body of a DATA (1..65536 bytes) or DATAGRAM (0..65507 bytes). */
export function checkDataBody(type: number, length: number): void {
  if (type === FRAME_DATA ? length >= 1 && length <= MAX_DATA_BYTES : length <= MAX_DATAGRAM_BYTES) return;
  throw malformed(type, `body length ${length} is not in ${type === FRAME_DATA ? `1..${MAX_DATA_BYTES}` : `0..${MAX_DATAGRAM_BYTES}`}`);
}

/** Checks an empty body (OPEN_ACK, FIN). */
export function checkEmptyBody(type: number, body: Uint8Array): void {
  expectLength(type, body, 0);
}

/** Checks a PING / PONG body: 8 opaque bytes. */
export function checkPingBody(type: number, body: Uint8Array): void {
  expectLength(type, body, PING_BYTES);
}

/**
 * Decodes a whole frame body into a typed frame, after checking type, flags and channel.
 * Views (`data`, `opaque`) share `body`. Raises TUNNEL_MALFORMED / TUNNEL_PROTOCOL only.
 *
 * @example const f = decodeFrameBody(0x16, 0, 0, Buffer.from('00010000', 'hex')); // credit 65536
 */
export function decodeFrameBody(type: number, channel: number, flags: number, body: Uint8Array): TunnelFrame {
  const allowed = TUNNEL_FRAME_TYPES.get(type);
  if (allowed === undefined) throw new TunnelError('TUNNEL_PROTOCOL', `frame type 0x${type.toString(16)} is not a tunnel frame`, { details: { type } });
  if ((flags & ~allowed) !== 0) throw malformed(type, `flags 0x${flags.toString(16)} not allowed (mask 0x${allowed.toString(16)})`);
  checkChannel(type, channel);
  switch (type) {
    case FRAME_OPEN:
      return { type, channel, open: decodeOpen(body) };
    case FRAME_OPEN_ACK:
    case FRAME_FIN:
      checkEmptyBody(type, body);
      return { type, channel };
    case FRAME_OPEN_ERR:
    case FRAME_RESET:
      return { type, channel, code: decodeCode(type, body) };
    case FRAME_DATA:
    case FRAME_DATAGRAM:
      checkDataBody(type, body.length);
      return { type, channel, data: body };
    case FRAME_WINDOW_UPDATE:
      return { type, channel, credit: decodeWindowUpdate(body) };
    case FRAME_PING:
    case FRAME_PONG:
      checkPingBody(type, body);
      return { type, channel: 0, opaque: body };
    case FRAME_REKEY:
      return { type, channel: 0, ack: (flags & FLAG_REKEY_ACK) !== 0, generation: decodeRekey(body) };
    default: {
      const g = decodeGoAway(body);
      return { type: FRAME_GOAWAY, channel: 0, lastStreamId: g.lastStreamId, code: g.code };
    }
  }
}

/**
 * Encodes a typed frame's body and flags (cold path: allocates).
 *
 * @example const { body, flags } = encodeFrameBody({ type: FRAME_RESET, channel: 3, code: 7 });
 */
export function encodeFrameBody(frame: TunnelFrame): { flags: number; body: Buffer } {
  checkChannel(frame.type, frame.channel);
  switch (frame.type) {
    case FRAME_OPEN: {
      const body = Buffer.alloc(openBodyLength(frame.open));
      encodeOpen(body, 0, frame.open);
      return { flags: 0, body };
    }
    case FRAME_OPEN_ACK:
    case FRAME_FIN:
      return { flags: 0, body: Buffer.alloc(0) };
    case FRAME_OPEN_ERR:
    case FRAME_RESET: {
      const body = Buffer.alloc(2);
      encodeCode(body, 0, frame.code);
      return { flags: 0, body };
    }
    case FRAME_DATA:
    case FRAME_DATAGRAM:
      if (frame.type === FRAME_DATA ? frame.data.length < 1 || frame.data.length > MAX_DATA_BYTES : frame.data.length > MAX_DATAGRAM_BYTES) {
        throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `${name(frame.type)} body length ${frame.data.length} out of range`);
      }
      return { flags: 0, body: Buffer.from(frame.data) };
    case FRAME_WINDOW_UPDATE: {
      const body = Buffer.alloc(4);
      encodeWindowUpdate(body, 0, frame.credit);
      return { flags: 0, body };
    }
    case FRAME_PING:
    case FRAME_PONG:
      if (frame.opaque.length !== PING_BYTES) throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `${name(frame.type)} opaque length ${frame.opaque.length} != ${PING_BYTES}`);
      return { flags: 0, body: Buffer.from(frame.opaque) };
    case FRAME_REKEY: {
      const body = Buffer.alloc(4);
      encodeRekey(body, 0, frame.generation);
      return { flags: frame.ack ? FLAG_REKEY_ACK : 0, body };
    }
    default: {
      const body = Buffer.alloc(6);
      encodeGoAway(body, 0, frame.lastStreamId, frame.code);
      return { flags: 0, body };
    }
  }
}
