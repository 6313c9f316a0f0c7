/**
 * The application handshake (docs/protocols/p2p.md §3): the @edgebox/crypto handshake (SIGMA-I
 * over ephemeral X25519 + ML-KEM-768, so every session has fresh keys: forward secrecy) run
 * inside the libp2p stream `/edgebox/p2p/handshake/1`, one frame per message.
 *
 *   initiator                                 responder
 *   HANDSHAKE(Init)            ──────────▶
 *                              ◀──────────    HANDSHAKE(Response)     cert + signature
 *   HANDSHAKE(Finish)          ──────────▶                             cert + signature
 *                              ◀──────────    HANDSHAKE_DONE (empty)   keys installed
 *
 * Binding (§3.2): each side presents a certificate carrying its Ed25519 node key and signs the
 * transcript with it (the crypto handshake's proof of possession). The certificate is not
 * trusted for who issued it: it is accepted only if its key IS the key of the peer id that
 * Noise authenticated on this connection. A peer whose handshake identity differs from its
 * libp2p identity is refused with P2P_IDENTITY_MISMATCH. The issuer is a throwaway CA per node
 * because the crypto handshake carries X.509 certificates, not raw keys.
 *
 * HANDSHAKE_DONE exists so the initiator does not send messages before the responder has
 * keys: libp2p streams of one connection are not ordered with each other.
 */
import type { KeyObject } from 'node:crypto';
import type { Stream } from '@libp2p/interface';
import {
  createCertificateAuthority,
  createHandshakeInitiator,
  createHandshakeResponder,
  inspectCertificate,
  issueCertificate,
  DEFAULT_HANDSHAKE_SUITES,
  type HandshakeResult,
  type HandshakeSuite,
  type HandshakeTrustStore,
  type Identity,
} from '@edgebox/crypto';
import { peerIdFromIdentity, peerIdFromPublicKey } from '@edgebox/peers';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, HANDSHAKE_MAX_FRAME_BYTES, TYPE_HANDSHAKE, TYPE_HANDSHAKE_DONE } from './constants.js';
import { P2pError } from './errors.js';
import { createFrameReader, writeFrame, type FrameReader } from './frame-io.js';

/** What a node presents in handshakes: a certificate for its key, and the key. */
export interface HandshakeCredentials {
  /** The peer id of `privateKey` (what the remote side expects it to be). */
  readonly peerId: string;
  /** DER certificate whose subject key is the node's Ed25519 key. */
  readonly certificate: Uint8Array;
  readonly privateKey: KeyObject;
}

/**
 * Credentials for `identity`: a certificate for its key from a throwaway CA (the binding is to
 * the peer id, not to the issuer: see the file comment).
 *
 * @example const creds = await createHandshakeCredentials(identity);
 */
export async function createHandshakeCredentials(identity: Identity, init: { validityDays?: number } = {}): Promise<HandshakeCredentials> {
  const peerId = peerIdFromIdentity(identity);
  const days = init.validityDays ?? 3650;
  // One clock reading for both: the leaf may not outlive its CA, even by the second between calls.
  const now = new Date();
  const ca = await createCertificateAuthority({ commonName: `edgebox-p2p ${peerId}`, validityDays: days + 1, now });
  const issued = await issueCertificate(ca, { commonName: peerId, publicKey: identity.publicKey, usage: 'peer', validityDays: days, now });
  return { peerId, certificate: issued.der, privateKey: identity.privateKey };
}

/** Options of runHandshake(). */
export interface RunHandshakeInit {
  role: 'initiator' | 'responder';
  credentials: HandshakeCredentials;
  /** The peer id Noise authenticated on this connection (`connection.remotePeer`). */
  remotePeer: string;
  /** Allowed suites, best first (default: the hybrid ones). */
  suites?: readonly HandshakeSuite[];
  /** Give up after this long (default DEFAULT_HANDSHAKE_TIMEOUT_MS). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A trust store that accepts exactly the certificate whose key is `remotePeer`'s (§3.2), within
 * its validity. `mismatch` records a refusal so the caller can report P2P_IDENTITY_MISMATCH
 * (the crypto handshake re-wraps what verify() throws).
 */
function peerBindingTrustStore(remotePeer: string, mismatch: { peerId?: string }): HandshakeTrustStore {
  return {
    verify(certificate, options = {}) {
      const info = inspectCertificate(certificate);
      const presented = peerIdFromPublicKey(info.publicKey);
      if (presented !== remotePeer) {
        mismatch.peerId = presented;
        throw new P2pError('P2P_IDENTITY_MISMATCH', `handshake identity ${presented} is not the authenticated peer ${remotePeer}`);
      }
      const now = options.now ?? new Date();
      if (now < info.notBefore || now > info.notAfter) {
        throw new P2pError('P2P_HANDSHAKE', `certificate of ${remotePeer} is not valid at ${now.toISOString()}`);
      }
      return { ...info, usage: info.usage ?? 'peer' };
    },
  };
}

function expectFrame(frame: { type: number } | undefined, type: number, what: string): asserts frame is { type: number; payload: Uint8Array } {
  if (frame === undefined) throw new P2pError('P2P_HANDSHAKE', `stream ended before ${what}`);
  if (frame.type !== type) throw new P2pError('P2P_HANDSHAKE', `frame type 0x${frame.type.toString(16)} where ${what} was expected`);
}

/**
 * Run one handshake on `stream` and return the session keys. The stream is closed when done;
 * on failure it is aborted and a P2pError (P2P_HANDSHAKE, P2P_IDENTITY_MISMATCH) is thrown.
 *
 * @example
 * const stream = await node.dialProtocol(peer, HANDSHAKE_PROTOCOL);
 * const result = await runHandshake(stream, { role: 'initiator', credentials, remotePeer: peer.toString() });
 */
export async function runHandshake(stream: Stream, init: RunHandshakeInit): Promise<HandshakeResult> {
  const timeout = AbortSignal.timeout(init.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
  const signal = init.signal === undefined ? timeout : AbortSignal.any([timeout, init.signal]);
  const mismatch: { peerId?: string } = {};
  const credentials = {
    kind: 'certificate' as const,
    certificate: init.credentials.certificate,
    privateKey: init.credentials.privateKey,
    trustStore: peerBindingTrustStore(init.remotePeer, mismatch),
  };
  const suites = init.suites ?? DEFAULT_HANDSHAKE_SUITES;
  const reader = createFrameReader(stream, HANDSHAKE_MAX_FRAME_BYTES, [TYPE_HANDSHAKE, TYPE_HANDSHAKE_DONE]);
  const onAbort = (): void => stream.abort(new P2pError('P2P_HANDSHAKE', `handshake with ${init.remotePeer} timed out or was cancelled`));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = init.role === 'initiator' ? await initiate(stream, reader, credentials, suites, signal) : await respond(stream, reader, credentials, suites, signal);
    await stream.close({ signal }).catch(() => undefined);
    return result;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    if (mismatch.peerId !== undefined) {
      throw new P2pError('P2P_IDENTITY_MISMATCH', `handshake identity ${mismatch.peerId} is not the authenticated peer ${init.remotePeer}`, {
        cause: err,
        details: { remotePeer: init.remotePeer, presented: mismatch.peerId },
      });
    }
    if (signal.aborted) throw new P2pError('P2P_HANDSHAKE', `handshake with ${init.remotePeer} timed out or was cancelled`, { cause: err, details: { remotePeer: init.remotePeer } });
    const code = (err as { code?: unknown }).code;
    throw new P2pError('P2P_HANDSHAKE', `handshake with ${init.remotePeer} failed: ${(err as Error).message}`, {
      cause: err,
      details: { remotePeer: init.remotePeer, ...(typeof code === 'string' ? { cause: code } : {}) },
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.close();
  }
}

type Credentials = Parameters<typeof createHandshakeInitiator>[0]['credentials'] & { kind: 'certificate' };

async function initiate(stream: Stream, reader: FrameReader, credentials: Credentials, suites: readonly HandshakeSuite[], signal: AbortSignal): Promise<HandshakeResult> {
  const hs = createHandshakeInitiator({ credentials, suites });
  try {
    await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: hs.start() }, { signal });
    const response = await reader.next();
    expectFrame(response, TYPE_HANDSHAKE, 'the Response');
    const step = hs.receive(response.payload);
    if (step.result === undefined || step.send === undefined) throw new P2pError('P2P_HANDSHAKE', 'the responder asked for a cookie retry; p2p streams run without cookies');
    try {
      await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: step.send }, { signal });
      expectFrame(await reader.next(), TYPE_HANDSHAKE_DONE, 'HANDSHAKE_DONE');
    } catch (err) {
      step.result.destroy();
      throw err;
    }
    return step.result;
  } finally {
    hs.destroy();
  }
}

async function respond(stream: Stream, reader: FrameReader, credentials: Credentials, suites: readonly HandshakeSuite[], signal: AbortSignal): Promise<HandshakeResult> {
  // One responder per stream: its trust store knows which peer this connection authenticated.
  // Cookies are off (Noise already proved the address; the connection manager bounds pending
  // connections) and the replay cache is tiny (Noise keys differ per connection).
  const hs = createHandshakeResponder({ certificate: credentials, suites, cookie: { mode: 'never' }, maxPending: 1, replayCacheSize: 16 });
  try {
    const initMsg = await reader.next();
    expectFrame(initMsg, TYPE_HANDSHAKE, 'the Init');
    const first = hs.receive(initMsg.payload, { peerAddress: '' });
    if (first.send === undefined) throw new P2pError('P2P_HANDSHAKE', 'the Init produced no Response');
    await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: first.send }, { signal });
    const finish = await reader.next();
    expectFrame(finish, TYPE_HANDSHAKE, 'the Finish');
    const last = hs.receive(finish.payload, { peerAddress: '' });
    if (last.result === undefined) throw new P2pError('P2P_HANDSHAKE', 'the Finish produced no session');
    try {
      await writeFrame(stream, { type: TYPE_HANDSHAKE_DONE, payload: new Uint8Array(0) }, { signal });
    } catch (err) {
      last.result.destroy();
      throw err;
    }
    return last.result;
  } finally {
    hs.destroy();
  }
}
