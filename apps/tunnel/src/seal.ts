/**
 * Sealed stream framing (docs/protocols/tunnel.md §3, §6): every frame after the handshake is
 * `header (12) || AEAD(key, prefix || counter, body, aad = header)`. The counter of each
 * direction is implicit (TCP keeps order), starts at 0 per key and is never on the wire.
 *
 * ```
 *   send:    [ver type flags 0 | channel | len=n+16 ] [ ciphertext (n) | tag (16) ]
 *             \______________ aad ______________/
 *   counter: 0 1 2 ... (per key)  --REKEY--> key[g+1] = HKDF(key[g]), counter 0 again
 * ```
 *
 * Keys rotate in place (`rotateSend` / `rotateReceive`); the old key is wiped. `needsRekey`
 * says when the send direction reached its message, byte or time limit.
 */
import { createAead, hkdf, zeroize, type Aead, type AeadAlgorithm } from '@edgebox/crypto';
import { encodeHeader, FRAME_HEADER_BYTES } from '@edgebox/framing';
import {
  NONCE_COUNTER_HARD_LIMIT,
  REKEY_AFTER_BYTES,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_MS,
  REKEY_INFO,
  MAX_SEALED_PAYLOAD_BYTES,
  TAG_BYTES,
} from './constants.js';
import { TunnelError } from './errors.js';

/** The keys of a session, as a handshake result gives them. */
export interface SessionKeys {
  aead: AeadAlgorithm;
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  sendNoncePrefix: Uint8Array;
  receiveNoncePrefix: Uint8Array;
}

/** Rekey limits of the send direction. */
export interface RekeyLimits {
  /** Frames sealed under one key (default 2^32). */
  rekeyAfterMessages?: number;
  /** Plaintext bytes sealed under one key (default 2^36). */
  rekeyAfterBytes?: number;
  /** Age of the send key in ms (default 120 000). */
  rekeyAfterMs?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
}

/** Seals outgoing and opens incoming frames of one connection. */
export interface FrameSealer {
  /** Frames sealed / opened under the current keys (the next counters). */
  readonly sendCounter: number;
  readonly receiveCounter: number;
  /** Key generations: 0 after the handshake, +1 per rotation. */
  readonly sendGeneration: number;
  readonly receiveGeneration: number;
  /** Plaintext bytes sealed under the current send key. */
  readonly sendBytes: number;
  readonly destroyed: boolean;
  /** Length of the sealed frame of a `bodyLength`-byte body. */
  sealedLength(bodyLength: number): number;
  /** Seals one frame into `out` at `offset`; returns the end offset. */
  sealInto(out: Uint8Array, offset: number, type: number, flags: number, channel: number, body: Uint8Array): number;
  /** Seals one frame into a new Buffer (one allocation, handed to `transport.write`). */
  seal(type: number, flags: number, channel: number, body: Uint8Array): Buffer;
  /** Opens a sealed payload with its 12-byte header as AAD; returns a fresh plaintext (TUNNEL_AUTH on failure). */
  open(header: Uint8Array, sealed: Uint8Array): Uint8Array;
  /** Opens in place: the plaintext overwrites the start of `sealed`; returns that view. */
  openInPlace(header: Uint8Array, sealed: Uint8Array): Uint8Array;
  /** Opens into `out` from its start (at least the plaintext's length); returns the plaintext length. */
  openInto(header: Uint8Array, sealed: Uint8Array, out: Uint8Array): number;
  /** Switches the send key to the next generation (after sending REKEY); returns it. */
  rotateSend(): number;
  /** Switches the receive key to the next generation (after opening REKEY); returns it. */
  rotateReceive(): number;
  /** True when the send key reached a rekey limit. */
  needsRekey(): boolean;
  /** Wipes every key. Idempotent. */
  destroy(): void;
}

const REKEY_INFO_BYTES = new TextEncoder().encode(REKEY_INFO);
const EMPTY = new Uint8Array(0);

/**
 * The next key of a direction (tunnel.md §6): HKDF-SHA256(salt = empty, ikm = key, info =
 * "edgebox/tunnel/v1/rekey", 32).
 *
 * @example const next = nextTrafficKey(session.sendKey);
 */
export function nextTrafficKey(key: Uint8Array): Uint8Array {
  return hkdf(EMPTY, key, REKEY_INFO_BYTES, 32);
}

function writeNonce(nonce: Uint8Array, counter: number): void {
  // bytes 0..3 hold the prefix; counter little-endian in 4..11 (crypto nonce.ts).
  const lo = counter % 0x1_0000_0000;
  const hi = (counter - lo) / 0x1_0000_0000;
  nonce[4] = lo & 0xff;
  nonce[5] = (lo >>> 8) & 0xff;
  nonce[6] = (lo >>> 16) & 0xff;
  nonce[7] = lo >>> 24;
  nonce[8] = hi & 0xff;
  nonce[9] = (hi >>> 8) & 0xff;
  nonce[10] = (hi >>> 16) & 0xff;
  nonce[11] = hi >>> 24;
}

class Direction {
  aead: Aead;
  key: Uint8Array;
  readonly nonce = new Uint8Array(12);
  counter = 0;
  generation = 0;
  bytes = 0;
  since: number;

  constructor(alg: AeadAlgorithm, key: Uint8Array, prefix: Uint8Array, now: number) {
    if (!(prefix instanceof Uint8Array) || prefix.length !== 4) throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `nonce prefix length ${prefix?.length} != 4`);
    this.key = Uint8Array.from(key);
    this.aead = createAead(alg, this.key);
    this.nonce.set(prefix, 0);
    this.since = now;
  }

  rotate(alg: AeadAlgorithm, now: number): number {
    const next = nextTrafficKey(this.key);
    this.aead.destroy();
    zeroize(this.key);
    this.key = next;
    this.aead = createAead(alg, next);
    this.counter = 0;
    this.bytes = 0;
    this.since = now;
    return ++this.generation;
  }
}

class Sealer implements FrameSealer {
  private readonly alg: AeadAlgorithm;
  private readonly tx: Direction;
  private readonly rx: Direction;
  private readonly now: () => number;
  private readonly afterMessages: number;
  private readonly afterBytes: number;
  private readonly afterMs: number;
  destroyed = false;

  constructor(keys: SessionKeys, limits: RekeyLimits) {
    this.alg = keys.aead;
    this.now = limits.now ?? (() => performance.now());
    const t = this.now();
    try {
      this.tx = new Direction(keys.aead, keys.sendKey, keys.sendNoncePrefix, t);
      this.rx = new Direction(keys.aead, keys.receiveKey, keys.receiveNoncePrefix, t);
    } catch (cause) {
      if (cause instanceof TunnelError) throw cause;
      throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `session keys rejected: ${(cause as Error).message}`, { cause });
    }
    this.afterMessages = limits.rekeyAfterMessages ?? REKEY_AFTER_MESSAGES;
    this.afterBytes = limits.rekeyAfterBytes ?? REKEY_AFTER_BYTES;
    this.afterMs = limits.rekeyAfterMs ?? REKEY_AFTER_MS;
  }

  get sendCounter(): number {
    return this.tx.counter;
  }
  get receiveCounter(): number {
    return this.rx.counter;
  }
  get sendGeneration(): number {
    return this.tx.generation;
  }
  get receiveGeneration(): number {
    return this.rx.generation;
  }
  get sendBytes(): number {
    return this.tx.bytes;
  }

  sealedLength(bodyLength: number): number {
    return FRAME_HEADER_BYTES + bodyLength + TAG_BYTES;
  }

  sealInto(out: Uint8Array, offset: number, type: number, flags: number, channel: number, body: Uint8Array): number {
    const tx = this.tx;
    if (this.destroyed) throw new TunnelError('TUNNEL_CLOSED', 'sealer destroyed');
    if (tx.counter >= NONCE_COUNTER_HARD_LIMIT) {
      throw new TunnelError('TUNNEL_NONCE_EXHAUSTED', `send counter ${tx.counter} reached ${NONCE_COUNTER_HARD_LIMIT} without a rekey`);
    }
    const length = body.length + TAG_BYTES;
    if (length > MAX_SEALED_PAYLOAD_BYTES) throw new TunnelError('TUNNEL_INVALID_ARGUMENT', `frame body ${body.length} > max ${MAX_SEALED_PAYLOAD_BYTES - TAG_BYTES}`);
    const start = offset;
    const bodyAt = encodeHeader(out, offset, { type, flags, channel, length });
    writeNonce(tx.nonce, tx.counter);
    const header = out.subarray(start, bodyAt);
    const n = tx.aead.sealInto(tx.nonce, body, out, header, bodyAt);
    tx.counter++;
    tx.bytes += body.length;
    return bodyAt + n;
  }

  seal(type: number, flags: number, channel: number, body: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length + TAG_BYTES); // one per frame: the transport keeps it
    this.sealInto(out, 0, type, flags, channel, body);
    return out;
  }

  private prepareOpen(sealed: Uint8Array): void {
    if (this.destroyed) throw new TunnelError('TUNNEL_CLOSED', 'sealer destroyed');
    if (sealed.length < TAG_BYTES) throw new TunnelError('TUNNEL_AUTH', `sealed payload length ${sealed.length} < tag ${TAG_BYTES}`);
    writeNonce(this.rx.nonce, this.rx.counter);
  }

  private authFailed(cause: unknown): TunnelError {
    return new TunnelError('TUNNEL_AUTH', `frame ${this.rx.counter} (generation ${this.rx.generation}) did not authenticate`, {
      cause,
      details: { counter: this.rx.counter, generation: this.rx.generation },
    });
  }

  open(header: Uint8Array, sealed: Uint8Array): Uint8Array {
    this.prepareOpen(sealed);
    let plain: Uint8Array;
    try {
      plain = this.rx.aead.open(this.rx.nonce, sealed, header);
    } catch (cause) {
      throw this.authFailed(cause);
    }
    this.rx.counter++;
    return plain;
  }

  openInPlace(header: Uint8Array, sealed: Uint8Array): Uint8Array {
    return sealed.subarray(0, this.openInto(header, sealed, sealed));
  }

  openInto(header: Uint8Array, sealed: Uint8Array, out: Uint8Array): number {
    this.prepareOpen(sealed);
    let n: number;
    try {
      n = this.rx.aead.openInto(this.rx.nonce, sealed, out, header, 0);
    } catch (cause) {
      throw this.authFailed(cause);
    }
    this.rx.counter++;
    return n;
  }

  rotateSend(): number {
    return this.tx.rotate(this.alg, this.now());
  }

  rotateReceive(): number {
    return this.rx.rotate(this.alg, this.now());
  }

  needsRekey(): boolean {
    const tx = this.tx;
    return tx.counter >= this.afterMessages || tx.bytes >= this.afterBytes || this.now() - tx.since >= this.afterMs;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const d of [this.tx, this.rx]) {
      d.aead.destroy();
      zeroize(d.key);
    }
  }
}

/**
 * Creates the sealer of one connection from its session keys (copied: the caller may wipe
 * its own).
 *
 * @example
 * const sealer = createFrameSealer(handshakeResult, { rekeyAfterMessages: 1_000_000 });
 * socket.write(sealer.seal(FRAME_PING, 0, 0, opaque8));
 * const plain = sealer.open(frameHeaderView(frame), frame.payload);
 */
export function createFrameSealer(keys: SessionKeys, limits: RekeyLimits = {}): FrameSealer {
  return new Sealer(keys, limits);
}
