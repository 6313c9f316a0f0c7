/**
 * A data-plane session: the keys of one handshake (@edgebox/crypto HandshakeResult) turned
 * into seal() and open() for bonding datagrams (bonding.md §2, §3, §6).
 *
 *   seal:  outer header (framing, receiver = peer's session id, counter = next nonce)
 *          ‖ AEAD(key = sendKey, nonce = sendPrefix ‖ counter LE, aad = outer header,
 *                 plaintext = inner header ‖ payload)                       → out buffer
 *   open:  size → outer header (framing) → receiver index → AEAD open (aad = outer header)
 *          → replay window update → inner header → type-specific length     → views
 *
 * The replay window runs AFTER authentication (as in WireGuard): only authentic datagrams are
 * ever counted `replayed`, and a forged datagram can neither move the window nor inflate that
 * counter. Checking first would save no work against an attacker: garbage with a fresh
 * counter costs the same decryption as a replay.
 *
 * Hot path: no allocation in this file per datagram. The plaintext of seal() and open() lives
 * in two module-level scratch buffers shared by every session of the thread (allocated once,
 * cold), so `opened.payload` is a view valid until the next open() of ANY session. What does
 * allocate is node:crypto's Cipher API inside @edgebox/crypto (cipher object, output, tag).
 *
 * Limits: sealing stops at `rejectAfterMessages` or `rejectAfterMs` (seal returns 0 and counts
 * `refused`); `needsRekey` turns true at `rekeyAfterMessages` / `rekeyAfterMs`, early enough
 * for a new handshake to finish before the hard limit.
 */
import { REPLAY_WINDOW_MAX, createAead, defaultAeadImplementation, createNonceSequence, createReplayWindow, writeCounterNonce } from '@edgebox/crypto';
import type { Aead, AeadAlgorithm, AeadImplementation, HandshakePeer, HandshakeResult, NonceSequence, ReplayWindow } from '@edgebox/crypto';
import { createDatagramDecoder, encodeDatagramHeader } from '@edgebox/framing';
import type { DatagramDecoder, DatagramHeaderInit } from '@edgebox/framing';
import {
  BONDING_TYPES,
  CLOSE_PAYLOAD_BYTES,
  PROBE_ACK_PAYLOAD_BYTES,
  DATAGRAM_MAX_BYTES,
  DATAGRAM_MIN_BYTES,
  DATAGRAM_OVERHEAD_BYTES,
  INNER_HEADER_BYTES,
  OUTER_HEADER_BYTES,
  REJECT_AFTER_MESSAGES,
  REJECT_AFTER_MS,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_MS,
  REPLAY_WINDOW_BONDING,
  TAG_BYTES,
  TYPE_CLOSE,
  TYPE_DATA,
  TYPE_FEEDBACK,
  TYPE_NACK,
  NACK_MAX_SEQS,
  TYPE_PROBE_ACK,
} from './constants.js';
import { invalidArgument, tooLarge } from './errors.js';
import { createInnerHeader, encodeInnerHeader, tryDecodeInnerHeader, type InnerHeader } from './inner-header.js';

// -- open() result codes: numbers on the hot path, names for logs and metrics

/** open(): authentic, fresh, well-formed; read `session.opened`. */
export const OPEN_OK = 0;
/** open(): shorter than outer header + inner header + tag (44 bytes). */
export const OPEN_TOO_SHORT = 1;
/**
 * open(): rejected by framing (version, reserved byte, unknown type, flags, over maxDatagram),
 * a counter above 2^53 − 1, or, after authentication, a bad inner header or payload length.
 */
export const OPEN_MALFORMED = 2;
/** open(): the receiver index is not this session's. */
export const OPEN_WRONG_SESSION = 3;
/** open(): the AEAD tag did not verify (forged, corrupted or another key). */
export const OPEN_BAD_AUTH = 4;
/** open(): authentic but its counter was seen before or is older than the replay window. */
export const OPEN_REPLAYED = 5;
/** open(): the session is destroyed or past `rejectAfterMs`. */
export const OPEN_EXPIRED = 6;
/** A result of open(). */
export type OpenCode = 0 | 1 | 2 | 3 | 4 | 5 | 6;
/** Names of the open() codes, indexed by code (for logs and metric labels). */
export const OPEN_CODE_NAMES = ['ok', 'tooShort', 'malformed', 'wrongSession', 'badAuth', 'replayed', 'expired'] as const;

/** Options of createSession(). */
export interface SessionInit {
  /** Monotonic ms at creation (default performance.now()): the start of the key's lifetime. */
  nowMs?: number;
  /** needsRekey after this many datagrams sealed (default REKEY_AFTER_MESSAGES = 2^40). */
  rekeyAfterMessages?: number;
  /** seal() refuses after this many (default REJECT_AFTER_MESSAGES = 2^41); > rekeyAfterMessages. */
  rejectAfterMessages?: number;
  /** needsRekey once the session is this old (default 120 s). */
  rekeyAfterMs?: number;
  /** Neither seal nor open once this old (default 180 s); > rekeyAfterMs. */
  rejectAfterMs?: number;
  /** Replay window in counters (default 8192; a multiple of 32 up to 65536). */
  replayWindow?: number;
  /** AEAD implementation (default 'native' when built, else 'node'; both OpenSSL). */
  implementation?: AeadImplementation;
  /** Largest datagram sealed or opened (default 65507). */
  maxDatagram?: number;
}

/** Per-session counters: plain numbers, read at scrape time. */
export interface SessionCounters {
  /** Datagrams sealed. */
  sealed: number;
  /** seal() calls refused: destroyed, expired or at the message limit. */
  refused: number;
  /** Datagrams opened (OPEN_OK). */
  opened: number;
  /** Drops by reason (see the OPEN_* codes). */
  tooShort: number;
  malformed: number;
  wrongSession: number;
  badAuth: number;
  replayed: number;
  expired: number;
}

/** The last datagram open() accepted. One object per session, overwritten by each open(). */
export interface OpenedDatagram {
  /** Datagram type (TYPE_DATA ...). */
  type: number;
  /** Outer counter (the nonce). */
  counter: number;
  /** Decoded inner header (reused object). */
  readonly header: InnerHeader;
  /** Payload after the inner header: a view of the shared scratch, valid until the next open(). */
  payload: Uint8Array;
}

/** One direction pair of keys for one peer: seal what we send, open what we receive. */
export interface BondingSession {
  /** Our session id: the receiver index of datagrams sent to us (the session table's key). */
  readonly localIndex: number;
  /** The peer's session id: the receiver index we put in what we send. */
  readonly remoteIndex: number;
  readonly role: 'initiator' | 'responder';
  readonly aead: AeadAlgorithm;
  /** Who authenticated at the other end. */
  readonly peer: HandshakePeer;
  /** Monotonic ms at creation. */
  readonly createdMs: number;
  /** Monotonic ms of the last authentic datagram (createdMs before the first). */
  readonly lastReceivedMs: number;
  /** Counter the next seal() uses (= datagrams sealed so far). */
  readonly sendCounter: number;
  /** True once a rekey should start (message count or age). */
  readonly needsRekey: boolean;
  /** True once past a hard limit: seal() refuses; past rejectAfterMs, open() refuses too. */
  readonly expired: boolean;
  /** True after destroy(). */
  readonly destroyed: boolean;
  readonly counters: SessionCounters;
  /** What the last successful open() found. */
  readonly opened: OpenedDatagram;
  /**
   * Seal one datagram into `out` (from offset 0): returns its length, or 0 when refused (see
   * `refused`). `payload` may be any view; it is copied. Throws BONDING_INVALID_ARGUMENT for
   * an unknown type, a bad header field, a payload length the type forbids or a too small
   * `out`, BONDING_TOO_LARGE over maxDatagram.
   */
  seal(type: number, header: InnerHeader, payload: Uint8Array, out: Uint8Array): number;
  /** Authenticate and decrypt one datagram; on OPEN_OK read `opened`. Never throws on wire input. */
  open(datagram: Uint8Array, nowMs: number): OpenCode;
  /** Coarse timer: re-evaluate the time limits (needsRekey, expired). */
  tick(nowMs: number): void;
  /** Wipe both keys and the handshake result's keys; later seal/open refuse. Safe twice. */
  destroy(): void;
}

const EMPTY = new Uint8Array(0);

// Shared plaintext scratch (see the header comment). Cold: allocated on first use.
let sealScratch: Uint8Array = EMPTY;
let openScratch: Uint8Array = EMPTY;
function ensureScratch(): void {
  if (sealScratch.length === 0) {
    sealScratch = new Uint8Array(DATAGRAM_MAX_BYTES);
    openScratch = new Uint8Array(DATAGRAM_MAX_BYTES);
  }
}

/**
 * The receiver index of a datagram (bytes 4..7, big-endian), or -1 when it is shorter than
 * the outer header. What a server looks sessions up by, before opening.
 *
 * @example const session = table.get(peekReceiverIndex(packet));
 */
export function peekReceiverIndex(datagram: Uint8Array): number {
  if (datagram.length < OUTER_HEADER_BYTES) return -1;
  return ((datagram[4]! << 24) | (datagram[5]! << 16) | (datagram[6]! << 8) | datagram[7]!) >>> 0;
}

/** Payload length rule per type: PROBE_ACK 2 (the probed size), CLOSE 2, DATA and FEEDBACK at least 1, NACK 1..64 u32, PROBE any. */
function payloadLengthOk(type: number, length: number): boolean {
  switch (type) {
    case TYPE_PROBE_ACK:
      return length === PROBE_ACK_PAYLOAD_BYTES;
    case TYPE_CLOSE:
      return length === CLOSE_PAYLOAD_BYTES;
    case TYPE_DATA:
    case TYPE_FEEDBACK:
      return length > 0;
    case TYPE_NACK:
      return length >= 4 && length <= 4 * NACK_MAX_SEQS && length % 4 === 0;
    default:
      return true; // PROBE: padding of any length
  }
}

class Session implements BondingSession {
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly role: 'initiator' | 'responder';
  readonly aead: AeadAlgorithm;
  readonly peer: HandshakePeer;
  readonly createdMs: number;
  lastReceivedMs: number;
  needsRekey = false;
  expired = false;
  destroyed = false;
  readonly counters: SessionCounters = { sealed: 0, refused: 0, opened: 0, tooShort: 0, malformed: 0, wrongSession: 0, badAuth: 0, replayed: 0, expired: 0 };
  readonly opened: OpenedDatagram = { type: 0, counter: 0, header: createInnerHeader(), payload: EMPTY };

  private readonly result: HandshakeResult;
  private readonly sender: Aead;
  private readonly receiver: Aead;
  private readonly nonces: NonceSequence;
  private readonly receivePrefix = new Uint8Array(4);
  private readonly receiveNonce = new Uint8Array(12);
  private readonly replay: ReplayWindow;
  private readonly decoder: DatagramDecoder;
  private readonly outer: DatagramHeaderInit;
  private readonly rekeyAfterMessages: number;
  private readonly rejectAfterMessages: number;
  private readonly rekeyAfterMs: number;
  private readonly rejectAfterMs: number;
  private readonly maxDatagram: number;

  constructor(result: HandshakeResult, init: Required<Omit<SessionInit, 'implementation'>> & { implementation: AeadImplementation }) {
    this.result = result;
    this.localIndex = result.localSessionId;
    this.remoteIndex = result.remoteSessionId;
    this.role = result.role;
    this.aead = result.aead;
    this.peer = result.peer;
    this.createdMs = init.nowMs;
    this.lastReceivedMs = init.nowMs;
    this.rekeyAfterMessages = init.rekeyAfterMessages;
    this.rejectAfterMessages = init.rejectAfterMessages;
    this.rekeyAfterMs = init.rekeyAfterMs;
    this.rejectAfterMs = init.rejectAfterMs;
    this.maxDatagram = init.maxDatagram;
    this.sender = createAead(result.aead, result.sendKey, { implementation: init.implementation });
    this.receiver = createAead(result.aead, result.receiveKey, { implementation: init.implementation });
    this.nonces = createNonceSequence({ prefix: result.sendNoncePrefix, limit: init.rejectAfterMessages });
    this.receivePrefix.set(result.receiveNoncePrefix);
    this.replay = createReplayWindow({ size: init.replayWindow });
    this.decoder = createDatagramDecoder({ knownTypes: BONDING_TYPES, maxDatagram: init.maxDatagram });
    this.outer = { type: TYPE_DATA, flags: 0, receiver: result.remoteSessionId, counter: 0 };
  }

  get sendCounter(): number {
    return this.nonces.counter;
  }

  seal(type: number, header: InnerHeader, payload: Uint8Array, out: Uint8Array): number {
    const c = this.counters;
    if (this.expired || this.destroyed) {
      c.refused++;
      return 0;
    }
    const counter = this.nonces.counter;
    if (counter >= this.rejectAfterMessages) {
      this.expired = true;
      this.needsRekey = true;
      c.refused++;
      return 0;
    }
    const plainLength = INNER_HEADER_BYTES + payload.length;
    const total = OUTER_HEADER_BYTES + plainLength + TAG_BYTES;
    if (total > this.maxDatagram || total > out.length || type < TYPE_DATA || type > TYPE_NACK || !payloadLengthOk(type, payload.length)) {
      this.badSeal(type, payload.length, total, out.length);
    }
    encodeInnerHeader(header, sealScratch, 0); // validates the fields before a nonce is spent
    sealScratch.set(payload, INNER_HEADER_BYTES);
    const outer = this.outer;
    outer.type = type;
    outer.counter = this.nonces.next();
    encodeDatagramHeader(out, 0, outer);
    this.sender.sealInto(this.nonces.nonce, sealScratch.subarray(0, plainLength), out, out.subarray(0, OUTER_HEADER_BYTES), OUTER_HEADER_BYTES);
    c.sealed++;
    if (counter + 1 >= this.rekeyAfterMessages) this.needsRekey = true;
    return total;
  }

  /** Cold: explain why seal() cannot go on. */
  private badSeal(type: number, payloadLength: number, total: number, outLength: number): never {
    if (total > this.maxDatagram) throw tooLarge('datagram length', total, this.maxDatagram);
    if (!BONDING_TYPES.has(type)) throw invalidArgument('datagram type', `0x${type.toString(16)}`, 'a bonding type 0x40..0x45');
    if (!payloadLengthOk(type, payloadLength)) {
      throw invalidArgument(`payload length of type 0x${type.toString(16)}`, payloadLength, type === TYPE_PROBE_ACK || type === TYPE_CLOSE ? '2' : type === TYPE_NACK ? `a multiple of 4 in 4..${4 * NACK_MAX_SEQS}` : 'at least 1');
    }
    throw invalidArgument('out length', outLength, `at least ${total} (payload ${payloadLength} + ${DATAGRAM_OVERHEAD_BYTES})`);
  }

  open(datagram: Uint8Array, nowMs: number): OpenCode {
    const c = this.counters;
    if (this.destroyed || nowMs - this.createdMs >= this.rejectAfterMs) {
      this.expired = true;
      c.expired++;
      return OPEN_EXPIRED;
    }
    if (datagram.length < DATAGRAM_MIN_BYTES) {
      c.tooShort++;
      return OPEN_TOO_SHORT;
    }
    const d = this.decoder.tryDecode(datagram);
    if (d === null) {
      c.malformed++;
      return OPEN_MALFORMED;
    }
    if (d.receiver !== this.localIndex) {
      c.wrongSession++;
      return OPEN_WRONG_SESSION;
    }
    const counter = d.counter;
    if (counter < 0) {
      c.malformed++; // above 2^53 - 1: no sender of ours ever gets there
      return OPEN_MALFORMED;
    }
    writeCounterNonce(this.receiveNonce, this.receivePrefix, counter);
    const plain = openScratch;
    const n = this.receiver.tryOpenInto(this.receiveNonce, datagram, OUTER_HEADER_BYTES, datagram.length - OUTER_HEADER_BYTES, plain, d.header, 0);
    if (n < 0) {
      c.badAuth++; // forged, corrupted or another key: counted, never thrown
      return OPEN_BAD_AUTH;
    }
    if (!this.replay.update(counter)) {
      c.replayed++;
      return OPEN_REPLAYED;
    }
    const o = this.opened;
    if (!tryDecodeInnerHeader(plain, 0, o.header) || !payloadLengthOk(d.type, n - INNER_HEADER_BYTES)) {
      c.malformed++; // authentic but broken: a peer bug, dropped all the same
      return OPEN_MALFORMED;
    }
    o.type = d.type;
    o.counter = counter;
    o.payload = plain.subarray(INNER_HEADER_BYTES, n);
    this.lastReceivedMs = nowMs;
    c.opened++;
    return OPEN_OK;
  }

  tick(nowMs: number): void {
    const age = nowMs - this.createdMs;
    if (age >= this.rekeyAfterMs) this.needsRekey = true;
    if (age >= this.rejectAfterMs) this.expired = true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.sender.destroy();
    this.receiver.destroy();
    this.receivePrefix.fill(0);
    this.receiveNonce.fill(0);
    this.nonces.nonce.fill(0);
    this.replay.reset();
    this.result.destroy();
  }
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw invalidArgument(name, value, `an integer in 1..${max}`);
  return value;
}

/**
 * Build the data-plane session of one completed handshake. The session takes ownership of
 * `result`: its keys are copied into two AEADs, and destroy() wipes those and the result.
 *
 * @example
 * const session = createSession(step.result!, { nowMs: performance.now() });
 * const n = session.seal(TYPE_DATA, tx, packet, slot);     // 0 = refused (expired)
 * socket.send(slot.subarray(0, n));
 * if (peer.open(datagram, now) === OPEN_OK) deliver(peer.opened.header, peer.opened.payload);
 */
export function createSession(result: HandshakeResult, init: SessionInit = {}): BondingSession {
  const nowMs = init.nowMs ?? performance.now();
  if (!Number.isFinite(nowMs)) throw invalidArgument('nowMs', nowMs, 'a finite number of ms');
  const rejectAfterMessages = positiveInteger('rejectAfterMessages', init.rejectAfterMessages ?? REJECT_AFTER_MESSAGES);
  const rekeyAfterMessages = positiveInteger('rekeyAfterMessages', init.rekeyAfterMessages ?? Math.min(REKEY_AFTER_MESSAGES, rejectAfterMessages), rejectAfterMessages);
  const rejectAfterMs = positiveInteger('rejectAfterMs', init.rejectAfterMs ?? REJECT_AFTER_MS);
  const rekeyAfterMs = positiveInteger('rekeyAfterMs', init.rekeyAfterMs ?? Math.min(REKEY_AFTER_MS, rejectAfterMs), rejectAfterMs);
  const replayWindow = init.replayWindow ?? REPLAY_WINDOW_BONDING;
  if (!Number.isInteger(replayWindow) || replayWindow < 32 || replayWindow > REPLAY_WINDOW_MAX || replayWindow % 32 !== 0) {
    throw invalidArgument('replayWindow', replayWindow, `a multiple of 32 in 32..${REPLAY_WINDOW_MAX}`);
  }
  const maxDatagram = init.maxDatagram ?? DATAGRAM_MAX_BYTES;
  if (!Number.isInteger(maxDatagram) || maxDatagram < DATAGRAM_MIN_BYTES || maxDatagram > DATAGRAM_MAX_BYTES) {
    throw invalidArgument('maxDatagram', maxDatagram, `an integer in ${DATAGRAM_MIN_BYTES}..${DATAGRAM_MAX_BYTES}`);
  }
  ensureScratch();
  return new Session(result, {
    nowMs,
    rekeyAfterMessages,
    rejectAfterMessages,
    rekeyAfterMs,
    rejectAfterMs,
    replayWindow,
    maxDatagram,
    implementation: init.implementation ?? defaultAeadImplementation(),
  });
}
