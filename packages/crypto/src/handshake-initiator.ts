/**
 * The initiator side of the edgebox handshake (docs/protocols/handshake.md §5):
 * start() -> Init; receive(CookieReply) -> Init with cookie; receive(Response) -> Finish +
 * HandshakeResult. Bytes in, bytes out: no sockets, no timers. Unauthenticated garbage
 * leaves the state unchanged (`details.fatal = false`); a failure after the Response
 * authenticated wipes the handshake (`fatal = true`).
 */
import { CryptoError } from './errors.js';
import {
  HANDSHAKE_SUITES,
  HANDSHAKE_SUPPORTED_VERSIONS,
  HS_AEAD_TAG_BYTES,
  HS_INIT_ID_BYTES,
  HS_INIT_MIN_BYTES,
  HS_RANDOM_BYTES,
  isHybridSuite,
  suiteFromId,
  type HandshakeSuite,
} from './handshake-constants.js';
import {
  decodeCookieReply,
  decodeResponse,
  encodeFinishHeader,
  encodeInit,
  initPaddingFor,
  peekHandshakeType,
  type InitMessage,
} from './handshake-messages.js';
import {
  HS_ZERO_NONCE,
  TH0,
  concatBytes,
  deriveHandshakeSecrets,
  deriveSessionKeys,
  mixTranscript,
} from './handshake-key-schedule.js';
import {
  aeadOpen,
  aeadSeal,
  constantTimeEqual,
  mlkemDecapsulate,
  mlkemKeyPair,
  x25519KeyPair,
  x25519Shared,
  zeroize,
  type KeyPair,
} from './handshake-primitives.js';
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
  HandshakePskCredentials,
  HandshakeStep,
} from './handshake-types.js';

/** Options of createHandshakeInitiator. */
export interface HandshakeInitiatorInit extends HandshakeCommonInit {
  readonly credentials: HandshakeCertificateCredentials | HandshakePskCredentials;
}

/** State of an initiator (§5). */
export type HandshakeInitiatorState = 'created' | 'awaiting-response' | 'done' | 'failed';

/** One handshake attempt of an initiator. Create a new one to retry after failure. */
export interface HandshakeInitiator {
  readonly state: HandshakeInitiatorState;
  /** Our session id (u32), known from start(). */
  readonly localSessionId: number;
  /** Build the Init (first call) and return it; later calls return the current Init again. */
  start(): Uint8Array;
  /**
   * Feed a CookieReply or Response. Returns the message to send (Init with cookie, or
   * Finish) and, on Response, the result. Raises only CryptoError.
   */
  receive(msg: Uint8Array): HandshakeStep;
  /** The last message we sent (Init, Init with cookie, or Finish), for re-sending on loss. */
  retransmit(): Uint8Array | undefined;
  /** Abandon the handshake and zeroize ephemerals. Safe to call twice. */
  destroy(): void;
}

/**
 * Create the initiator of one handshake.
 *
 * @example
 * const hs = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'site-a', psk } })
 * socket.send(hs.start())
 * const { send, result } = hs.receive(reply) // send the Finish, then use result.sendKey
 */
export function createHandshakeInitiator(init: HandshakeInitiatorInit): HandshakeInitiator {
  const suites = resolveSuites(init);
  const now = init.now ?? defaultNow;
  const random = init.random ?? defaultRandom;
  const creds = init.credentials;
  const cert = creds.kind === 'certificate' ? creds : undefined;
  if (cert !== undefined) checkCertificateCredentials(cert);
  const psk = creds.kind === 'psk' ? creds : undefined;
  if (psk !== undefined) {
    const idLen = new TextEncoder().encode(psk.pskId).length;
    if (idLen < 1 || idLen > 64) throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `pskId length ${idLen} bytes not in 1..64`);
    if (psk.psk.length < 32) throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `psk length ${psk.psk.length} < min 32`);
  }
  const offeredIds = suites.map((s) => HANDSHAKE_SUITES[s].id);
  const offersHybrid = suites.some(isHybridSuite);

  let state: HandshakeInitiatorState = 'created';
  let sessionId = 0;
  let eX: KeyPair | undefined;
  let eKem: KeyPair | undefined;
  let fields: InitMessage | undefined;
  let th1: Uint8Array | undefined;
  let lastSent: Uint8Array | undefined;

  function wipe(): void {
    zeroize(eX?.privateKey, eKem?.privateKey);
    eX = undefined;
    eKem = undefined;
  }

  function fail(): void {
    wipe();
    state = 'failed';
  }

  function onCookieReply(msg: Uint8Array): HandshakeStep {
    const reply = decodeCookieReply(msg);
    if (reply.initiatorSessionId !== sessionId || !constantTimeEqual(reply.initId, th1!.subarray(0, HS_INIT_ID_BYTES))) {
      throw hsError('CRYPTO_HANDSHAKE_COOKIE', `cookie reply for session ${reply.initiatorSessionId} does not match our Init (session ${sessionId})`, false);
    }
    const { bytes } = encodeInit({ ...fields!, cookie: reply.cookie.slice() });
    lastSent = bytes;
    return { send: bytes };
  }

  function onResponse(msg: Uint8Array): HandshakeStep {
    // --- unauthenticated checks: failures here are not fatal (§5)
    const r = decodeResponse(msg);
    if (r.initiatorSessionId !== sessionId) {
      throw hsError('CRYPTO_HANDSHAKE_STATE', `response for initiator session ${r.initiatorSessionId}, ours is ${sessionId}`, false);
    }
    if (!HANDSHAKE_SUPPORTED_VERSIONS.includes(r.version) || !fields!.versions.includes(r.version)) {
      throw hsError('CRYPTO_HANDSHAKE_DOWNGRADE', `response version ${r.version} not in our offer [${fields!.versions.join(',')}]`, false);
    }
    const suite = suiteFromId(r.suiteId);
    if (suite === undefined || !suites.includes(suite)) {
      throw hsError(
        'CRYPTO_HANDSHAKE_DOWNGRADE',
        `response suite 0x${r.suiteId.toString(16)} not in our policy [${suites.join(', ')}]`,
        false,
        { suiteId: r.suiteId },
      );
    }
    const hybrid = isHybridSuite(suite);
    if (hybrid !== (r.mlkemCiphertext !== undefined)) {
      throw hsError('CRYPTO_HANDSHAKE_MALFORMED', `response ML-KEM ciphertext ${r.mlkemCiphertext === undefined ? 'missing' : 'present'} for suite ${suite}`, false);
    }
    const th2 = mixTranscript(th1!, r.clear);
    const classical = x25519Shared(eX!.privateKey, r.x25519PublicKey);
    const postQuantum = hybrid ? mlkemDecapsulate(r.mlkemCiphertext!, eKem!.privateKey) : undefined;
    const secrets = deriveHandshakeSecrets({ classical, postQuantum, psk: psk?.psk, th2 });
    zeroize(classical, postQuantum);
    try {
      const aead = HANDSHAKE_SUITES[suite].aead;
      const plaintext = aeadOpen(aead, secrets.hsKeyR2I, HS_ZERO_NONCE, r.encrypted, th2);
      if (plaintext === undefined) {
        throw hsError('CRYPTO_HANDSHAKE_AUTH', 'response does not authenticate (tampered transcript, wrong PSK or wrong peer)', false);
      }
      // --- authenticated from here: any failure is fatal
      try {
        const peer = verifyAuthPayload({
          peerRole: 'responder', plaintext, th: th2, cert, pskId: psk?.pskId, finKey: secrets.finKeyR2I, nowMs: now(),
        });
        checkBestCommon(suite, r.version, r.suiteIds, r.versions);
        const th3 = mixTranscript(th2, msg.subarray(r.clear.length));
        const auth = buildAuthPayload('initiator', th3, cert, secrets.finKeyI2R);
        const header = encodeFinishHeader({
          version: r.version, initiatorSessionId: sessionId, responderSessionId: r.responderSessionId,
          encryptedLength: auth.length + HS_AEAD_TAG_BYTES,
        });
        const sealed = aeadSeal(aead, secrets.hsKeyI2R, HS_ZERO_NONCE, auth, concatBytes(th3, header));
        const finish = concatBytes(header, sealed);
        const th4 = mixTranscript(th3, finish);
        const keys = deriveSessionKeys(secrets.hs, th4);
        const result = createResult({
          version: r.version, suite, aead, role: 'initiator',
          sendKey: keys.keyI2R, receiveKey: keys.keyR2I, sendNoncePrefix: keys.nonceI2R, receiveNoncePrefix: keys.nonceR2I,
          localSessionId: sessionId, remoteSessionId: r.responderSessionId, peer, transcriptHash: th4,
        });
        wipe();
        state = 'done';
        lastSent = finish;
        return { send: finish, result };
      } catch (err) {
        fail();
        throw asHandshakeError(err, true);
      }
    } finally {
      secrets.wipe();
    }
  }

  // §6: after authentication, the choice must be the best common one for our preference order.
  function checkBestCommon(suite: HandshakeSuite, version: number, theirSuiteIds: readonly number[], theirVersions: readonly number[]): void {
    const bestSuite = suites.find((s) => theirSuiteIds.includes(HANDSHAKE_SUITES[s].id));
    if (bestSuite !== suite) {
      throw new CryptoError('CRYPTO_HANDSHAKE_DOWNGRADE', `responder chose ${suite} but best common suite is ${bestSuite ?? 'none'}`, {
        details: { chosen: suite, best: bestSuite },
      });
    }
    const bestVersion = fields!.versions.find((v) => theirVersions.includes(v));
    if (bestVersion !== version) {
      throw new CryptoError('CRYPTO_HANDSHAKE_DOWNGRADE', `responder chose version ${version} but best common is ${bestVersion ?? 'none'}`);
    }
  }

  return {
    get state() {
      return state;
    },
    get localSessionId() {
      return sessionId;
    },
    start() {
      if (state === 'awaiting-response') return lastSent!;
      if (state !== 'created') throw hsError('CRYPTO_HANDSHAKE_STATE', `start() in state ${state}, expected created`, false);
      // Randomness is drawn in a fixed order so vectors are reproducible (§10).
      sessionId = u32From(random(4));
      const rnd = random(HS_RANDOM_BYTES);
      const xSeed = random(32);
      eX = x25519KeyPair(xSeed);
      const kemSeed = offersHybrid ? random(64) : undefined;
      eKem = kemSeed === undefined ? undefined : mlkemKeyPair(kemSeed);
      zeroize(xSeed, kemSeed);
      const base = {
        version: HANDSHAKE_SUPPORTED_VERSIONS[0]!,
        authMode: creds.kind,
        versions: [...HANDSHAKE_SUPPORTED_VERSIONS],
        suiteIds: offeredIds,
        initiatorSessionId: sessionId,
        timestampMs: Math.floor(now()),
        random: rnd,
        x25519PublicKey: eX.publicKey,
        mlkemPublicKey: eKem?.publicKey,
        pskId: psk === undefined ? new Uint8Array(0) : new TextEncoder().encode(psk.pskId),
      };
      fields = { ...base, paddingBytes: initPaddingFor(base, HS_INIT_MIN_BYTES), cookie: undefined };
      const { bytes, body } = encodeInit(fields);
      th1 = mixTranscript(TH0, body);
      state = 'awaiting-response';
      lastSent = bytes;
      return bytes;
    },
    receive(msg) {
      if (state !== 'awaiting-response') {
        throw hsError('CRYPTO_HANDSHAKE_STATE', `message received in state ${state}, expected awaiting-response`, false);
      }
      try {
        const type = peekHandshakeType(msg);
        if (type === 'cookie-reply') return onCookieReply(msg);
        if (type === 'response') return onResponse(msg);
        throw hsError('CRYPTO_HANDSHAKE_STATE', `${type} message received by the initiator, expected response or cookie-reply`, false);
      } catch (err) {
        throw asHandshakeError(err, (state as HandshakeInitiatorState) === 'failed');
      }
    },
    retransmit() {
      return state === 'awaiting-response' || state === 'done' ? lastSent : undefined;
    },
    destroy() {
      if (state !== 'done') state = 'failed';
      wipe();
    },
  };
}
