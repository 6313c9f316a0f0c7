/**
 * A peer's session after the handshake (docs/protocols/p2p.md §4, §5): per-direction keys from
 * the HandshakeResult, turned into one AEAD key per (stream name, direction, epoch); counter
 * nonces; strict in-order replay rejection; rekey by message count and by time; keys wiped on
 * destroy().
 *
 *   send key (ours)  ──HKDF(salt = TH4, info = "edgebox-p2p v1 stream" ‖ 0 ‖ name ‖ 0 ‖ epoch u32)──▶ stream key
 *   nonce            = send nonce prefix (4) ‖ counter u64 LE         (never random, never reused)
 *   epoch            = floor(counter / REKEY_AFTER_MESSAGES)           (derived by both sides)
 *
 * A sender that has used one epoch's key for rekeyAfterMs jumps its counter to the next epoch's
 * first value: the receiver sees the epoch in the counter, so rekey needs no message of its own.
 *
 * Replay: one libp2p stream is ordered, so a receiver accepts only counters above the last one
 * it authenticated for that stream name (gaps are allowed: a chaos-dropped frame is a gap, a
 * repeated or older one is a replay). Checked before decrypting; recorded after.
 */
import { createAead, hkdf, writeCounterNonce, zeroize, type Aead, type HandshakeResult } from '@edgebox/crypto';
import { encodeHeader, FRAME_HEADER_BYTES } from '@edgebox/framing';
import {
  AEAD_TAG_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_STREAMS_PER_PEER,
  FLAG_ACK_REQUESTED,
  MESSAGE_COUNTER_BYTES,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_MS,
  TYPE_ACK,
  TYPE_MESSAGE,
} from './constants.js';
import { P2pError, tooLarge } from './errors.js';

/** open() results: a number, never an exception (wire input). */
export const OPEN_OK = 0;
/** Payload shorter than counter + tag, or a frame type / flags we do not send. */
export const OPEN_MALFORMED = 1;
/** The tag does not verify: tampered, wrong key or wrong stream. */
export const OPEN_BAD_AUTH = 2;
/** A counter at or below the last one accepted on this stream. */
export const OPEN_REPLAYED = 3;

/** Names of the open() results, for counters and the decryption-error callback. */
export const OPEN_RESULT_NAMES = ['ok', 'malformed', 'bad-auth', 'replayed'] as const;
/** One of OPEN_RESULT_NAMES. */
export type OpenResultName = (typeof OPEN_RESULT_NAMES)[number];

/** Options of createSession(). */
export interface SessionInit {
  /** Largest plaintext accepted by seal() (default DEFAULT_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
  /** Stream names with state at once (default DEFAULT_MAX_STREAMS_PER_PEER). */
  maxStreams?: number;
  /** Messages per key epoch (default REKEY_AFTER_MESSAGES; tests use small values). */
  rekeyAfterMessages?: number;
  /** Time on one send key before moving to the next epoch (default REKEY_AFTER_MS). */
  rekeyAfterMs?: number;
}

/** Clock of a session. */
export interface SessionComponents {
  /** Monotonic ms (default performance.now). */
  now?: () => number;
}

/** Counters of a session, read at scrape time. */
export interface SessionCounters {
  sealed: number;
  opened: number;
  malformed: number;
  badAuth: number;
  replayed: number;
  /** Epoch changes, both directions. */
  rekeys: number;
}

/** A peer session: seal and open messages per stream name. */
export interface Session {
  readonly suite: HandshakeResult['suite'];
  readonly role: HandshakeResult['role'];
  readonly counters: SessionCounters;
  /** The last opened plaintext: a view valid until the next open(). */
  readonly opened: Uint8Array;
  /**
   * One frame (header ‖ counter ‖ ciphertext ‖ tag) carrying `plaintext` on `stream`. Throws
   * P2P_TOO_LARGE over maxMessageBytes, P2P_LIMIT beyond maxStreams, P2P_NOT_RUNNING after destroy().
   * `type` / `flags`: MESSAGE (flags 0 or FLAG_ACK_REQUESTED) or ACK (§4.2); both are in the AAD.
   */
  seal(stream: string, plaintext: Uint8Array, type?: number, flags?: number): Uint8Array;
  /**
   * Open a frame payload received on `stream` (type and flags as decoded). OPEN_OK puts the
   * plaintext in `opened`; anything else is counted and leaves the stream's state unchanged.
   */
  open(stream: string, type: number, flags: number, channel: number, payload: Uint8Array): number;
  /** Wipe every key. Safe to call twice. */
  destroy(): void;
}

interface Direction {
  epoch: number;
  counter: number; // send: next counter to use; receive: last accepted (-1 = none)
  epochStartMs: number;
  aead: Aead | undefined;
}

const TWO_32 = 2 ** 32;

/** Write a safe integer as u64 LE (no DataView / BigInt per message: hot path). */
function writeU64LE(b: Uint8Array, o: number, v: number): void {
  const lo = v % TWO_32;
  const hi = (v - lo) / TWO_32;
  b[o] = lo & 0xff;
  b[o + 1] = (lo >>> 8) & 0xff;
  b[o + 2] = (lo >>> 16) & 0xff;
  b[o + 3] = lo >>> 24;
  b[o + 4] = hi & 0xff;
  b[o + 5] = (hi >>> 8) & 0xff;
  b[o + 6] = (hi >>> 16) & 0xff;
  b[o + 7] = hi >>> 24;
}

/** Read a u64 LE; -1 when above Number.MAX_SAFE_INTEGER. */
function readU64LE(b: Uint8Array, o: number): number {
  const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  const hi = (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0;
  return hi > 0x1f_ffff ? -1 : hi * TWO_32 + lo;
}

const INFO_LABEL = new TextEncoder().encode('edgebox-p2p v1 stream');
const EMPTY = new Uint8Array(0);

/**
 * The key of `stream` for one direction and epoch (§5). Exported for the test vectors.
 *
 * @example const key = deriveStreamKey(result.sendKey, result.transcriptHash, 'chat', 0);
 */
export function deriveStreamKey(directionKey: Uint8Array, transcriptHash: Uint8Array, stream: string, epoch: number): Uint8Array {
  const name = new TextEncoder().encode(stream);
  const info = new Uint8Array(INFO_LABEL.length + 1 + name.length + 1 + 4);
  info.set(INFO_LABEL, 0);
  info.set(name, INFO_LABEL.length + 1);
  new DataView(info.buffer).setUint32(info.length - 4, epoch >>> 0);
  return hkdf(transcriptHash, directionKey, info, 32);
}

/**
 * A session over a completed handshake. The session copies what it needs; the caller may
 * destroy() the HandshakeResult afterwards (the session's destroy() wipes its own copies).
 *
 * @example
 * const session = createSession(result);
 * stream.send(session.seal('chat', bytes));
 * if (session.open('chat', f.type, f.flags, f.channel, f.payload) === OPEN_OK) deliver(session.opened);
 */
export function createSession(result: HandshakeResult, init: SessionInit = {}, components: SessionComponents = {}): Session {
  const maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxStreams = init.maxStreams ?? DEFAULT_MAX_STREAMS_PER_PEER;
  const perEpoch = init.rekeyAfterMessages ?? REKEY_AFTER_MESSAGES;
  const rekeyAfterMs = init.rekeyAfterMs ?? REKEY_AFTER_MS;
  const now = components.now ?? (() => performance.now());
  const algorithm = result.aead;
  const sendKey = result.sendKey.slice();
  const receiveKey = result.receiveKey.slice();
  const sendPrefix = result.sendNoncePrefix.slice();
  const receivePrefix = result.receiveNoncePrefix.slice();
  const th = result.transcriptHash.slice();
  const sending = new Map<string, Direction>();
  const receiving = new Map<string, Direction>();
  const nonce = new Uint8Array(12); // one scratch nonce: seal/open are synchronous
  const aad = new Uint8Array(FRAME_HEADER_BYTES);
  const counters: SessionCounters = { sealed: 0, opened: 0, malformed: 0, badAuth: 0, replayed: 0, rekeys: 0 };
  let opened: Uint8Array = EMPTY;
  let destroyed = false;

  function direction(map: Map<string, Direction>, stream: string, key: Uint8Array, start: number): Direction {
    let d = map.get(stream);
    if (d !== undefined) return d;
    // State lives as long as the session (forgetting a name would reset its replay counter),
    // so the number of names is bounded instead.
    if (map.size >= maxStreams) throw new P2pError('P2P_LIMIT', `stream names ${map.size} >= max ${maxStreams}`, { details: { stream } });
    const k = deriveStreamKey(key, th, stream, 0);
    d = { epoch: 0, counter: start, epochStartMs: now(), aead: createAead(algorithm, k) };
    zeroize(k);
    map.set(stream, d);
    return d;
  }

  function rekey(d: Direction, stream: string, epoch: number): void {
    d.aead?.destroy();
    const k = deriveStreamKey(sendKey, th, stream, epoch);
    d.aead = createAead(algorithm, k);
    zeroize(k);
    d.epoch = epoch;
    d.epochStartMs = now();
    counters.rekeys++;
  }

  return {
    suite: result.suite,
    role: result.role,
    counters,
    get opened() {
      return opened;
    },

    seal(stream, plaintext, type = TYPE_MESSAGE, flags = 0) {
      if (destroyed) throw new P2pError('P2P_NOT_RUNNING', 'session is closed');
      if (plaintext.length > maxMessageBytes + (flags === 0 ? 0 : 8)) throw tooLarge('message bytes', plaintext.length, maxMessageBytes);
      const d = direction(sending, stream, sendKey, 0);
      if (now() - d.epochStartMs >= rekeyAfterMs) d.counter = (d.epoch + 1) * perEpoch; // time-based rekey: jump
      const epoch = Math.floor(d.counter / perEpoch);
      if (epoch !== d.epoch) rekey(d, stream, epoch);
      const counter = d.counter++;
      const length = MESSAGE_COUNTER_BYTES + plaintext.length + AEAD_TAG_BYTES;
      const out = new Uint8Array(FRAME_HEADER_BYTES + length); // the frame handed to the stream: it owns it
      encodeHeader(out, 0, { type, flags, length }, { maxPayload: length });
      writeU64LE(out, FRAME_HEADER_BYTES, counter);
      writeCounterNonce(nonce, sendPrefix, counter);
      d.aead!.sealInto(nonce, plaintext, out, out.subarray(0, FRAME_HEADER_BYTES), FRAME_HEADER_BYTES + MESSAGE_COUNTER_BYTES);
      counters.sealed++;
      return out;
    },

    open(stream, type, flags, channel, payload) {
      const known = type === TYPE_MESSAGE ? (flags & ~FLAG_ACK_REQUESTED) === 0 : type === TYPE_ACK && flags === 0;
      if (destroyed || !known || channel !== 0 || payload.length < MESSAGE_COUNTER_BYTES + AEAD_TAG_BYTES) {
        counters.malformed++;
        return OPEN_MALFORMED;
      }
      const counter = readU64LE(payload, 0);
      if (counter < 0) {
        counters.malformed++;
        return OPEN_MALFORMED;
      }
      const d = direction(receiving, stream, receiveKey, -1);
      if (counter <= d.counter) {
        counters.replayed++;
        return OPEN_REPLAYED;
      }
      const epoch = Math.floor(counter / perEpoch);
      // A new epoch's key is kept only once a frame authenticates under it: a forged counter
      // must not move the receiver (only forward: counters above the last accepted one).
      let aead = d.aead!;
      if (epoch !== d.epoch) {
        const k = deriveStreamKey(receiveKey, th, stream, epoch);
        aead = createAead(algorithm, k);
        zeroize(k);
      }
      encodeHeader(aad, 0, { type, flags, channel, length: payload.length }, { maxPayload: payload.length });
      writeCounterNonce(nonce, receivePrefix, counter);
      const sealedLength = payload.length - MESSAGE_COUNTER_BYTES;
      const out = new Uint8Array(sealedLength - AEAD_TAG_BYTES); // delivered to the app, which keeps it
      const n = aead.tryOpenInto(nonce, payload, MESSAGE_COUNTER_BYTES, sealedLength, out, aad, 0);
      if (n < 0) {
        if (aead !== d.aead) aead.destroy();
        counters.badAuth++;
        return OPEN_BAD_AUTH;
      }
      if (aead !== d.aead) {
        d.aead?.destroy();
        d.aead = aead;
        d.epoch = epoch;
        counters.rekeys++;
      }
      d.counter = counter;
      opened = out;
      counters.opened++;
      return OPEN_OK;
    },

    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const d of [...sending.values(), ...receiving.values()]) d.aead?.destroy();
      sending.clear();
      receiving.clear();
      zeroize(sendKey, receiveKey, sendPrefix, receivePrefix, th);
      opened = EMPTY;
    },
  };
}
