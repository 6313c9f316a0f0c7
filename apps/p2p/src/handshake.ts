/**
 * The application handshake (docs/protocols/p2p.md §3): the @edgebox/crypto handshake (SIGMA-I
 * over ephemeral X25519 + ML-KEM-768, so every session has fresh keys: forward secrecy) run
 * inside the libp2p stream `/edgebox/p2p/handshake/1`, one frame per message.
 *
 *   initiator                                 responder
 *   HANDSHAKE(Init)            ──────────▶
 *                              ◀──────────    HANDSHAKE(Response)     cert + signature
 *   HANDSHAKE(Finish), CAPS    ──────────▶                             cert + signature
 *                              ◀──────────    CAPS, [TICKET], HANDSHAKE_DONE (empty)
 *
 * Resumption (§3.5): the initiator holding a ticket sends RESUME(ticket) and a PSK-mode Init
 * (classical suite, fresh X25519); the responder answers with a PSK Response, or with
 * RESUME_REJECTED and then runs the full handshake on the next Init.
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
  zeroize,
  HANDSHAKE_SUITES,
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
import { decodeCapabilities, encodeCapabilities, noCapabilities, type Capabilities } from './capabilities.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  HANDSHAKE_MAX_FRAME_BYTES,
  RESUMPTION_PSK_ID,
  TYPE_CAPS,
  TYPE_HANDSHAKE,
  TYPE_HANDSHAKE_DONE,
  TYPE_RESUME,
  TYPE_RESUME_REJECTED,
  TYPE_TICKET,
} from './constants.js';
import { P2pError } from './errors.js';
import { createFrameReader, writeFrame, type FrameReader } from './frame-io.js';
import { deriveResumptionSecret, type OpenedTicket, type StoredTicket, type TicketIssuer, type TicketRejection } from './tickets.js';

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
  /** What we support, sent in CAPS (§3.4). Default: everything, DEFAULT_MAX_MESSAGE_BYTES. */
  capabilities?: Capabilities;
  /** Initiator: a ticket from this responder to resume with (§3.5); spent whatever happens. */
  ticket?: StoredTicket;
  /** Responder: checks presented tickets and issues new ones (no resumption without it). */
  tickets?: TicketIssuer;
}

/** What a handshake gives the caller. */
export interface P2pHandshake {
  /** The session keys (destroy() when installed). */
  result: HandshakeResult;
  /** What the peer advertised (noCapabilities() when it sent no CAPS). */
  capabilities: Capabilities;
  /** True when this session was resumed from a ticket (PSK + fresh X25519). */
  resumed: boolean;
  /** Initiator: why the responder refused our ticket (then a full handshake ran). */
  resumeRejected?: TicketRejection | 'refused';
  /** Initiator: the ticket the responder issued for next time. */
  ticket?: StoredTicket;
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
 * Run one handshake on `stream` (full, or resumed from a ticket) and exchange capabilities. The
 * stream is closed when done; on failure it is aborted and a P2pError (P2P_HANDSHAKE,
 * P2P_IDENTITY_MISMATCH) is thrown.
 *
 * @example
 * const stream = await node.dialProtocol(peer, HANDSHAKE_PROTOCOL);
 * const { result, capabilities } = await runHandshake(stream, { role: 'initiator', credentials, remotePeer: peer.toString() });
 */
export async function runHandshake(stream: Stream, init: RunHandshakeInit): Promise<P2pHandshake> {
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
  const reader = createFrameReader(stream, HANDSHAKE_MAX_FRAME_BYTES, HANDSHAKE_FRAME_TYPES);
  const onAbort = (): void => stream.abort(new P2pError('P2P_HANDSHAKE', `handshake with ${init.remotePeer} timed out or was cancelled`));
  signal.addEventListener('abort', onAbort, { once: true });
  const ctx: Ctx = { stream, reader, credentials, suites, signal, init, caps: init.capabilities ?? DEFAULT_CAPABILITIES };
  try {
    const outcome = init.role === 'initiator' ? await initiate(ctx) : await respond(ctx);
    await stream.close({ signal }).catch(() => undefined);
    return outcome;
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
    if (init.ticket !== undefined) zeroize(init.ticket.secret);
  }
}

const HANDSHAKE_FRAME_TYPES = [TYPE_HANDSHAKE, TYPE_HANDSHAKE_DONE, TYPE_CAPS, TYPE_RESUME, TYPE_RESUME_REJECTED, TYPE_TICKET];

const DEFAULT_CAPABILITIES: Capabilities = { version: 1, acks: true, priorities: true, resumption: true, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES };

/** The classical suites of a resumed handshake: the PSK carries the hybrid session's secret. */
function resumptionSuites(suites: readonly HandshakeSuite[]): HandshakeSuite[] {
  const out = new Set<HandshakeSuite>();
  for (const s of suites) out.add(HANDSHAKE_SUITES[s].aead === 'aes-256-gcm' ? 'x25519-aes256gcm' : 'x25519-chacha20poly1305');
  return [...out];
}

type Credentials = Parameters<typeof createHandshakeInitiator>[0]['credentials'] & { kind: 'certificate' };

interface Ctx {
  stream: Stream;
  reader: FrameReader;
  credentials: Credentials;
  suites: readonly HandshakeSuite[];
  signal: AbortSignal;
  init: RunHandshakeInit;
  caps: Capabilities;
}

async function initiate(ctx: Ctx): Promise<P2pHandshake> {
  const { stream, reader, signal } = ctx;
  const ticket = ctx.init.ticket;
  let resumeRejected: P2pHandshake['resumeRejected'];
  let hs = ticket === undefined
    ? createHandshakeInitiator({ credentials: ctx.credentials, suites: ctx.suites })
    : createHandshakeInitiator({ credentials: { kind: 'psk', pskId: RESUMPTION_PSK_ID, psk: ticket.secret }, suites: resumptionSuites(ctx.suites) });
  try {
    if (ticket !== undefined) {
      // §3.5: RESUME and the PSK Init leave together (no extra round trip when accepted).
      await writeFrame(stream, { type: TYPE_RESUME, payload: ticket.ticket }, { signal });
    }
    await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: hs.start() }, { signal });
    let response = await reader.next();
    if (ticket !== undefined && response?.type === TYPE_RESUME_REJECTED) {
      resumeRejected = REJECTION_NAMES[response.payload[0] ?? 0] ?? 'refused';
      hs.destroy();
      hs = createHandshakeInitiator({ credentials: ctx.credentials, suites: ctx.suites });
      await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: hs.start() }, { signal });
      response = await reader.next();
    }
    expectFrame(response, TYPE_HANDSHAKE, 'the Response');
    const step = hs.receive(response.payload);
    if (step.result === undefined || step.send === undefined) throw new P2pError('P2P_HANDSHAKE', 'the responder asked for a cookie retry; p2p streams run without cookies');
    try {
      await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: step.send }, { signal });
      await writeFrame(stream, { type: TYPE_CAPS, payload: encodeCapabilities(ctx.caps) }, { signal });
      let frame = await reader.next();
      let capabilities = noCapabilities(DEFAULT_MAX_MESSAGE_BYTES);
      if (frame?.type === TYPE_CAPS) {
        capabilities = decodeCapabilities(frame.payload);
        frame = await reader.next();
      }
      let newTicket: StoredTicket | undefined;
      if (frame?.type === TYPE_TICKET) {
        newTicket = decodeTicketFrame(frame.payload, step.result);
        frame = await reader.next();
      }
      expectFrame(frame, TYPE_HANDSHAKE_DONE, 'HANDSHAKE_DONE');
      const resumed = ticket !== undefined && resumeRejected === undefined;
      return { result: step.result, capabilities, resumed, ...(resumeRejected !== undefined ? { resumeRejected } : {}), ...(newTicket !== undefined ? { ticket: newTicket } : {}) };
    } catch (err) {
      step.result.destroy();
      throw err;
    }
  } finally {
    hs.destroy();
  }
}

const REJECTION_NAMES: Array<TicketRejection | 'refused'> = ['refused', 'malformed', 'unknown-key', 'bad-auth', 'expired', 'foreign', 'replayed', 'overloaded'];

/** TICKET payload = expiresIn u32 BE (seconds) ‖ ticket; the secret is ours to derive. */
function decodeTicketFrame(payload: Uint8Array, result: HandshakeResult): StoredTicket | undefined {
  if (payload.length < 5) return undefined;
  const expiresInS = new DataView(payload.buffer, payload.byteOffset, payload.length).getUint32(0);
  return { ticket: payload.slice(4), secret: deriveResumptionSecret(result), expiresAt: Date.now() + expiresInS * 1000 };
}

function encodeTicketFrame(ticket: Uint8Array, expiresAt: number): Uint8Array {
  const out = new Uint8Array(4 + ticket.length);
  new DataView(out.buffer).setUint32(0, Math.max(0, Math.floor((expiresAt - Date.now()) / 1000)));
  out.set(ticket, 4);
  return out;
}

async function respond(ctx: Ctx): Promise<P2pHandshake> {
  const { stream, reader, signal, init } = ctx;
  let initMsg = await reader.next();
  let resumedWith: OpenedTicket | undefined;
  if (initMsg?.type === TYPE_RESUME) {
    const opened: OpenedTicket | TicketRejection = init.tickets === undefined ? 'unknown-key' : init.tickets.open(initMsg.payload, init.remotePeer);
    initMsg = await reader.next(); // the PSK Init sent with it
    if (typeof opened === 'string') {
      await writeFrame(stream, { type: TYPE_RESUME_REJECTED, payload: Uint8Array.of(Math.max(0, REJECTION_NAMES.indexOf(opened))) }, { signal });
      initMsg = await reader.next(); // the full Init
    } else {
      resumedWith = opened;
    }
  }
  // One responder per stream: its trust store knows which peer this connection authenticated.
  // Cookies are off (Noise already proved the address; the connection manager bounds pending
  // connections) and the replay cache is tiny (Noise keys differ per connection).
  const secret = resumedWith?.secret;
  const hs =
    secret === undefined
      ? createHandshakeResponder({ certificate: ctx.credentials, suites: ctx.suites, cookie: { mode: 'never' }, maxPending: 1, replayCacheSize: 16 })
      : createHandshakeResponder({
          psk: { lookup: (id) => (id === RESUMPTION_PSK_ID ? secret : undefined) },
          suites: resumptionSuites(ctx.suites),
          cookie: { mode: 'never' },
          maxPending: 1,
          replayCacheSize: 16,
        });
  try {
    expectFrame(initMsg, TYPE_HANDSHAKE, 'the Init');
    const first = hs.receive(initMsg.payload, { peerAddress: '' });
    if (first.send === undefined) throw new P2pError('P2P_HANDSHAKE', 'the Init produced no Response');
    await writeFrame(stream, { type: TYPE_HANDSHAKE, payload: first.send }, { signal });
    const finish = await reader.next();
    expectFrame(finish, TYPE_HANDSHAKE, 'the Finish');
    const last = hs.receive(finish.payload, { peerAddress: '' });
    if (last.result === undefined) throw new P2pError('P2P_HANDSHAKE', 'the Finish produced no session');
    try {
      const capsFrame = await reader.next();
      expectFrame(capsFrame, TYPE_CAPS, 'CAPS');
      const capabilities = decodeCapabilities(capsFrame.payload);
      await writeFrame(stream, { type: TYPE_CAPS, payload: encodeCapabilities(ctx.caps) }, { signal });
      if (init.tickets !== undefined && ctx.caps.resumption && capabilities.resumption) {
        const rs = deriveResumptionSecret(last.result);
        const issued = init.tickets.issue(init.remotePeer, rs);
        zeroize(rs);
        await writeFrame(stream, { type: TYPE_TICKET, payload: encodeTicketFrame(issued.ticket, issued.expiresAt) }, { signal });
      }
      await writeFrame(stream, { type: TYPE_HANDSHAKE_DONE, payload: new Uint8Array(0) }, { signal });
      return { result: last.result, capabilities, resumed: resumedWith !== undefined };
    } catch (err) {
      last.result.destroy();
      throw err;
    }
  } finally {
    hs.destroy();
    if (secret !== undefined) zeroize(secret);
  }
}
