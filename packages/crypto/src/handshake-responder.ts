/**
 * The responder side of the edgebox handshake (docs/protocols/handshake.md §5-§8): one
 * object serves many initiators. Per Init it checks size, syntax and version, the retry
 * cookie (stateless), retransmission, the replay window and cache, negotiates the suite,
 * and answers with a Response while keeping a bounded, expiring pending entry; a matching
 * Finish completes it. Bytes in, bytes out; time from `now()`.
 */
import { CryptoError } from './errors.js';
import {
  DEFAULT_HS_COOKIE_ROTATION_MS,
  DEFAULT_HS_MAX_PENDING,
  DEFAULT_HS_MAX_SKEW_MS,
  DEFAULT_HS_PENDING_TIMEOUT_MS,
  DEFAULT_HS_REPLAY_CACHE_SIZE,
  HANDSHAKE_SUITES,
  HANDSHAKE_SUPPORTED_VERSIONS,
  HS_INIT_ID_BYTES,
  HS_INIT_MIN_BYTES,
  isHybridSuite,
  suiteFromId,
  type HandshakeSuite,
} from './handshake-constants.js';
import {
  decodeFinish,
  decodeInit,
  encodeCookieReply,
  encodeResponseClear,
  encodeResponseTail,
  peekHandshakeType,
  type DecodedInit,
} from './handshake-messages.js';
import {
  HS_ZERO_NONCE,
  TH0,
  concatBytes,
  deriveHandshakeSecrets,
  deriveSessionKeys,
  mixTranscript,
  toHex,
  type HandshakeSecrets,
} from './handshake-key-schedule.js';
import {
  aeadOpen,
  aeadSeal,
  mlkemEncapsulate,
  x25519KeyPair,
  x25519Shared,
  zeroize,
} from './handshake-primitives.js';
import { createHandshakeCookieJar, type HandshakePeerAddress } from './handshake-cookie.js';
import { createHandshakeReplayCache } from './handshake-replay-cache.js';
import {
  asHandshakeError,
  buildAuthPayload,
  checkCertificateCredentials,
  createResult,
  defaultNow,
  defaultRandom,
  hsError,
  resolveSuites,
  u32From,
  verifyAuthPayload,
} from './handshake-common.js';
import type {
  HandshakeCertificateCredentials,
  HandshakeCommonInit,
  HandshakeReceiveContext,
  HandshakeStep,
} from './handshake-types.js';

/** When the responder demands a retry cookie (§7). */
export type HandshakeCookieMode = 'never' | 'under-load' | 'always';

/** Options of createHandshakeResponder. Configure certificate, psk, or both. */
export interface HandshakeResponderInit extends HandshakeCommonInit {
  /** Accept certificate-mode initiators with these credentials. */
  readonly certificate?: HandshakeCertificateCredentials;
  /** Accept PSK-mode initiators: the key for a PSK id, or undefined for an unknown id. */
  readonly psk?: { lookup(pskId: string): Uint8Array | undefined };
  readonly cookie?: {
    /** Default 'under-load'. */
    readonly mode?: HandshakeCookieMode;
    /** ≥ 16 bytes; default 32 random bytes (per process). */
    readonly secret?: Uint8Array;
    /** Default 120 000 ms. */
    readonly rotationMs?: number;
    /** 'under-load' demands cookies from this many pending handshakes on. Default maxPending / 2. */
    readonly loadThreshold?: number;
  };
  /** Max |now - Init timestamp|, default 30 000 ms. */
  readonly maxSkewMs?: number;
  /** Recent Init ids remembered, default 16 384. */
  readonly replayCacheSize?: number;
  /** Half-open handshakes kept, default 1024 (oldest evicted). */
  readonly maxPending?: number;
  /** Half-open handshakes expire after, default 15 000 ms. */
  readonly pendingTimeoutMs?: number;
}

/** A responder serving many initiators. */
export interface HandshakeResponder {
  /**
   * Feed an Init or Finish from `peerAddress`. Returns a Response or CookieReply to send
   * back, or (on Finish) the result. Raises only CryptoError; the transport drops the
   * message and carries on.
   */
  receive(msg: Uint8Array, context: HandshakeReceiveContext): HandshakeStep;
  /** Half-open handshakes currently held. */
  readonly pendingCount: number;
  /** Forget and zeroize every pending handshake. */
  destroy(): void;
}

interface Pending {
  readonly responderSessionId: number;
  readonly initiatorSessionId: number;
  readonly initId: string;
  readonly createdMs: number;
  readonly version: number;
  readonly suite: HandshakeSuite;
  readonly th3: Uint8Array;
  readonly secrets: HandshakeSecrets;
  readonly response: Uint8Array;
  readonly pskId: string | undefined;
  readonly mode: 'certificate' | 'psk';
}

/**
 * Create a responder.
 *
 * @example
 * const responder = createHandshakeResponder({ certificate: { kind: 'certificate', certificate, privateKey, trustStore } })
 * socket.on('message', (msg, rinfo) => {
 *   try {
 *     const { send, result } = responder.receive(msg, { peerAddress: `${rinfo.address}:${rinfo.port}` })
 *     if (send) socket.send(send, rinfo.port, rinfo.address)
 *     if (result) sessions.add(result)
 *   } catch (err) { dropped.inc() } // only CryptoError
 * })
 */
export function createHandshakeResponder(init: HandshakeResponderInit): HandshakeResponder {
  const suites = resolveSuites(init);
  const hybridOnly = suites.every(isHybridSuite);
  const now = init.now ?? defaultNow;
  const random = init.random ?? defaultRandom;
  if (init.certificate === undefined && init.psk === undefined) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'responder needs certificate or psk credentials, got neither');
  }
  if (init.certificate !== undefined) checkCertificateCredentials(init.certificate);
  const maxPending = init.maxPending ?? DEFAULT_HS_MAX_PENDING;
  const pendingTimeoutMs = init.pendingTimeoutMs ?? DEFAULT_HS_PENDING_TIMEOUT_MS;
  const cookieMode = init.cookie?.mode ?? 'under-load';
  const loadThreshold = init.cookie?.loadThreshold ?? Math.floor(maxPending / 2);
  const jar = createHandshakeCookieJar({
    secret: init.cookie?.secret ?? defaultRandom(32),
    rotationMs: init.cookie?.rotationMs ?? DEFAULT_HS_COOKIE_ROTATION_MS,
  });
  const replay = createHandshakeReplayCache({
    maxSkewMs: init.maxSkewMs ?? DEFAULT_HS_MAX_SKEW_MS,
    capacity: init.replayCacheSize ?? DEFAULT_HS_REPLAY_CACHE_SIZE,
  });
  // Insertion-ordered: the first entry is the oldest (expiry and eviction scan from it).
  const pending = new Map<number, Pending>();
  const pendingByInit = new Map<string, number>();

  function drop(p: Pending): void {
    p.secrets.wipe();
    pending.delete(p.responderSessionId);
    pendingByInit.delete(p.initId);
  }

  function expire(nowMs: number): void {
    for (const p of pending.values()) {
      if (p.createdMs + pendingTimeoutMs > nowMs) break;
      drop(p);
    }
  }

  function negotiate(d: DecodedInit): { version: number; suite: HandshakeSuite } {
    const version = d.versions.find((v) => HANDSHAKE_SUPPORTED_VERSIONS.includes(v));
    if (version === undefined) {
      throw hsError('CRYPTO_HANDSHAKE_VERSION', `init versions [${d.versions.join(',')}] none in supported [${HANDSHAKE_SUPPORTED_VERSIONS.join(',')}]`, false);
    }
    const offered = d.suiteIds.map(suiteFromId).filter((s): s is HandshakeSuite => s !== undefined);
    const suite = offered.find((s) => suites.includes(s));
    if (suite === undefined) {
      const ids = d.suiteIds.map((i) => `0x${i.toString(16)}`).join(',');
      if (hybridOnly && !offered.some(isHybridSuite)) {
        throw hsError('CRYPTO_HANDSHAKE_DOWNGRADE', `init offers only classical suites [${ids}]; policy requires hybrid [${suites.join(', ')}]`, false);
      }
      throw hsError('CRYPTO_HANDSHAKE_VERSION', `init suites [${ids}] none in policy [${suites.join(', ')}]`, false);
    }
    if (isHybridSuite(suite) && d.mlkemPublicKey === undefined) {
      throw hsError('CRYPTO_HANDSHAKE_MALFORMED', `init offers hybrid suite ${suite} without an ML-KEM public key`, false);
    }
    return { version, suite };
  }

  function onInit(msg: Uint8Array, address: HandshakePeerAddress): HandshakeStep {
    const d = decodeInit(msg);
    if (msg.length < HS_INIT_MIN_BYTES) {
      throw hsError('CRYPTO_HANDSHAKE_MALFORMED', `init length ${msg.length} < min ${HS_INIT_MIN_BYTES} (anti-amplification padding)`, false);
    }
    const nowMs = now();
    const th1 = mixTranscript(TH0, d.body);
    // §7: a present cookie is always checked; a missing one is demanded under load.
    if (d.cookie !== undefined) {
      jar.verify(d.cookie, address, th1, nowMs);
    } else if (cookieMode === 'always' || (cookieMode === 'under-load' && pending.size >= loadThreshold)) {
      return {
        send: encodeCookieReply({
          version: d.version, initiatorSessionId: d.initiatorSessionId,
          initId: th1.subarray(0, HS_INIT_ID_BYTES), cookie: jar.mint(address, th1, nowMs),
        }),
      };
    }
    expire(nowMs);
    const initId = toHex(th1);
    // §5: the same Init again while pending is a retransmission: answer identically.
    const existing = pendingByInit.get(initId);
    if (existing !== undefined) return { send: pending.get(existing)!.response };

    const { version, suite } = negotiate(d);
    let pskKey: Uint8Array | undefined;
    let pskId: string | undefined;
    let cert: HandshakeCertificateCredentials | undefined;
    if (d.authMode === 'psk') {
      pskId = new TextDecoder().decode(d.pskId);
      pskKey = init.psk?.lookup(pskId);
      if (pskKey === undefined) throw hsError('CRYPTO_HANDSHAKE_AUTH', `psk id "${pskId}" unknown`, false);
    } else {
      cert = init.certificate;
      if (cert === undefined) throw hsError('CRYPTO_HANDSHAKE_AUTH', 'certificate mode not accepted by this responder (psk only)', false);
    }
    replay.check(initId, d.timestampMs, nowMs);

    // Randomness in a fixed order (§10): session id, X25519 seed, ML-KEM encapsulation seed.
    let responderSessionId = u32From(random(4));
    while (pending.has(responderSessionId)) responderSessionId = u32From(random(4));
    const xSeed = random(32);
    const eX = x25519KeyPair(xSeed);
    zeroize(xSeed);
    const hybrid = isHybridSuite(suite);
    const kemSeed = hybrid ? random(32) : undefined;
    let classical: Uint8Array | undefined;
    let kem: { ciphertext: Uint8Array; sharedSecret: Uint8Array } | undefined;
    try {
      kem = kemSeed === undefined ? undefined : mlkemEncapsulate(d.mlkemPublicKey!, kemSeed);
      const clear = encodeResponseClear({
        version, suiteId: HANDSHAKE_SUITES[suite].id, initiatorSessionId: d.initiatorSessionId, responderSessionId,
        versions: [...HANDSHAKE_SUPPORTED_VERSIONS], suiteIds: suites.map((s) => HANDSHAKE_SUITES[s].id),
        x25519PublicKey: eX.publicKey, mlkemCiphertext: kem?.ciphertext,
      });
      const th2 = mixTranscript(th1, clear);
      classical = x25519Shared(eX.privateKey, d.x25519PublicKey);
      const secrets = deriveHandshakeSecrets({ classical, postQuantum: kem?.sharedSecret, psk: pskKey, th2 });
      const auth = buildAuthPayload('responder', th2, cert, secrets.finKeyR2I);
      const sealed = aeadSeal(HANDSHAKE_SUITES[suite].aead, secrets.hsKeyR2I, HS_ZERO_NONCE, auth, th2);
      zeroize(auth);
      const response = encodeResponseTail(clear, sealed);
      const th3 = mixTranscript(th2, response.subarray(clear.length));
      if (pending.size >= maxPending) drop(pending.values().next().value as Pending);
      pending.set(responderSessionId, {
        responderSessionId, initiatorSessionId: d.initiatorSessionId, initId, createdMs: nowMs,
        version, suite, th3, secrets, response, pskId, mode: d.authMode,
      });
      pendingByInit.set(initId, responderSessionId);
      return { send: response };
    } finally {
      zeroize(eX.privateKey, classical, kem?.sharedSecret, kemSeed);
    }
  }

  function onFinish(msg: Uint8Array): HandshakeStep {
    const f = decodeFinish(msg);
    expire(now());
    const p = pending.get(f.responderSessionId);
    if (p === undefined) {
      throw hsError('CRYPTO_HANDSHAKE_STATE', `finish for unknown or expired responder session ${f.responderSessionId}`, false);
    }
    if (f.initiatorSessionId !== p.initiatorSessionId || f.version !== p.version) {
      throw hsError('CRYPTO_HANDSHAKE_STATE', `finish (initiator session ${f.initiatorSessionId}, version ${f.version}) does not match pending (${p.initiatorSessionId}, ${p.version})`, false);
    }
    const aead = HANDSHAKE_SUITES[p.suite].aead;
    const plaintext = aeadOpen(aead, p.secrets.hsKeyI2R, HS_ZERO_NONCE, f.encrypted, concatBytes(p.th3, f.header));
    // Unauthenticated garbage does not kill the pending handshake: the genuine Finish may follow.
    if (plaintext === undefined) throw hsError('CRYPTO_HANDSHAKE_AUTH', 'finish does not authenticate (tampered or wrong keys)', false);
    try {
      const peer = verifyAuthPayload({
        peerRole: 'initiator', plaintext, th: p.th3, cert: p.mode === 'certificate' ? init.certificate : undefined,
        pskId: p.pskId, finKey: p.secrets.finKeyI2R, nowMs: now(),
      });
      const th4 = mixTranscript(p.th3, msg);
      const keys = deriveSessionKeys(p.secrets.hs, th4);
      return {
        result: createResult({
          version: p.version, suite: p.suite, aead, role: 'responder',
          sendKey: keys.keyR2I, receiveKey: keys.keyI2R, sendNoncePrefix: keys.nonceR2I, receiveNoncePrefix: keys.nonceI2R,
          localSessionId: p.responderSessionId, remoteSessionId: p.initiatorSessionId, peer, transcriptHash: th4,
        }),
      };
    } catch (err) {
      throw asHandshakeError(err, true);
    } finally {
      zeroize(plaintext);
      drop(p);
    }
  }

  return {
    receive(msg, context) {
      try {
        const type = peekHandshakeType(msg);
        if (type === 'init') return onInit(msg, context.peerAddress);
        if (type === 'finish') return onFinish(msg);
        throw hsError('CRYPTO_HANDSHAKE_STATE', `${type} message received by the responder, expected init or finish`, false);
      } catch (err) {
        throw asHandshakeError(err, false);
      }
    },
    get pendingCount() {
      return pending.size;
    },
    destroy() {
      for (const p of [...pending.values()]) drop(p);
    },
  };
}
