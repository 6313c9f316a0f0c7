/**
 * One tunnel session: a TCP connection after the handshake, wrapped in a sealed multiplexer,
 * with its heartbeat (tunnel.md §9: PING/PONG; the interval, timeout and max missed are
 * ours). Both roles build sessions here:
 *
 *   source  dial → handshake (initiator) → mux → heartbeat        (dialSession)
 *   dest    accept → handshake (responder) → mux → heartbeat      (acceptSession)
 *
 * A session ends once: its mux closed (peer gone, wire error, graceful drain) or the
 * heartbeat gave up; either way `onEnd` runs once with a typed RecoverySignal (or none for a
 * graceful close), and the owner decides what follows (reconnect, swap, forget).
 */
import type { Socket } from 'node:net';
import type { HandshakeResponder } from '@edgebox/crypto';
import { connectBorrowed } from './borrowed-read.js';
import type { TunnelConfig } from './config.js';
import { createInitiator, type TunnelCredentials } from './credentials.js';
import { TunnelError, isTunnelError } from './errors.js';
import { acceptStreamHandshake, initiateStreamHandshake } from './handshake.js';
import { createMux, type Mux, type MuxInit } from './mux.js';

/** Why a session went away or could not be made: what a source reacts to (reconnect). */
export type RecoveryReason =
  /** maxMissed PINGs in a row got no PONG within timeoutMs. */
  | 'heartbeat-timeout'
  /** The connection closed or failed under the session (peer gone, reset, wire error). */
  | 'connection-lost'
  /** The peer sent GOAWAY (it is stopping or refreshing): move to a new session. */
  | 'peer-going-away'
  /** A dial or handshake failed. */
  | 'connect-failed'
  /** The circuit breaker is open: no dial until it half-opens. */
  | 'circuit-open'
  /** The peer's certificate reached its notAfter: a session never outlives it. */
  | 'peer-certificate-expired';

/** A typed recovery signal (event `recovery`). */
export type RecoverySignal = {
  reason: RecoveryReason;
  /** The session it concerns (null for a failed connect). */
  session: number | null;
  /** Error code (TUNNEL_*, CRYPTO_* from details.cause) when there is one. */
  code: string | null;
  detail: string;
  /** Delay before the next connect attempt (source), null when none is scheduled. */
  retryInMs: number | null;
};

/** Heartbeat settings (config `heartbeat`). */
export type HeartbeatInit = TunnelConfig['heartbeat'];

/** What a session reports to its owner. */
export interface SessionHooks {
  /** The session ended; `signal` is null for a graceful close (drained, stopped). */
  onEnd(session: Session, signal: RecoverySignal | null): void;
  /** The peer sent GOAWAY: the session takes no new streams (seen at the next heartbeat tick). */
  onGoAway?(session: Session): void;
  /** A heartbeat PONG came back. */
  onRtt?(session: Session, rttMs: number): void;
}

/** A live session. */
export interface Session {
  readonly id: number;
  readonly mux: Mux;
  /** Common name of the peer's certificate. */
  readonly peer: string;
  /** `address:port` of the peer. */
  readonly remote: string;
  readonly suite: string;
  /** Wall-clock ms of the handshake's end. */
  readonly establishedAt: number;
  /** PINGs unanswered in a row. */
  readonly missed: number;
  /** Active (takes new streams) or draining (old side of a blue-green swap, or stopping). */
  state: 'active' | 'draining';
  /** Sends GOAWAY and lets streams finish; closes them all after `deadlineMs`. */
  drain(deadlineMs: number): void;
  /** Closes now with a recovery signal (or none). */
  close(signal: RecoverySignal | null): void;
}

let nextSessionId = 1;

class TunnelSession implements Session {
  readonly id = nextSessionId++;
  readonly mux: Mux;
  readonly peer: string;
  readonly remote: string;
  readonly suite: string;
  readonly establishedAt = Date.now();
  missed = 0;
  state: 'active' | 'draining' = 'active';
  private readonly hooks: SessionHooks;
  private readonly heartbeat: HeartbeatInit;
  private timer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private ended = false;
  private signal: RecoverySignal | null = null;

  constructor(mux: Mux, peer: string, remote: string, suite: string, heartbeat: HeartbeatInit, hooks: SessionHooks, peerNotAfterMs: number | null) {
    this.mux = mux;
    this.peer = peer;
    this.remote = remote;
    this.suite = suite;
    this.heartbeat = heartbeat;
    this.hooks = hooks;
    this.timer = setInterval(() => this.tick(), heartbeat.intervalMs);
    this.timer.unref();
    if (peerNotAfterMs !== null) {
      // Timers hold at most 2^31 - 1 ms (~24.8 days): a longer certificate is checked again then.
      const armExpiry = (): void => {
        const left = peerNotAfterMs - Date.now();
        if (left <= 0) {
          this.close({ reason: 'peer-certificate-expired', session: this.id, code: 'CRYPTO_CERT_EXPIRED', detail: `${peer}'s certificate expired at ${new Date(peerNotAfterMs).toISOString()}`, retryInMs: null });
          return;
        }
        this.expiryTimer = setTimeout(armExpiry, Math.min(left, 0x7fff_ffff));
        this.expiryTimer.unref();
      };
      armExpiry();
    }
    void mux.done.then((err) => this.end(err));
  }

  /** One heartbeat: a PING with its own timeout; misses in a row past the max end the session. */
  private tick(): void {
    if (this.ended) return;
    if (this.mux.draining && this.state === 'active') {
      // The peer sent GOAWAY and the owner has not noticed yet: this session takes no new streams.
      this.state = 'draining';
      this.hooks.onGoAway?.(this);
    }
    this.mux.ping({ signal: AbortSignal.timeout(this.heartbeat.timeoutMs) }).then(
      (rtt) => {
        this.missed = 0;
        this.hooks.onRtt?.(this, rtt);
      },
      (err: unknown) => {
        if (this.ended || this.mux.closed) return;
        this.missed++;
        if (this.missed >= this.heartbeat.maxMissed) {
          this.close({
            reason: 'heartbeat-timeout',
            session: this.id,
            code: isTunnelError(err) ? err.code : 'TIMEOUT',
            detail: `${this.missed} PINGs without PONG within ${this.heartbeat.timeoutMs} ms`,
            retryInMs: null,
          });
        }
      },
    );
  }

  drain(deadlineMs: number): void {
    if (this.ended) return;
    this.state = 'draining';
    this.mux.goAway();
    if (this.drainTimer === null && !this.mux.closed) {
      this.drainTimer = setTimeout(() => this.close(null), deadlineMs);
      this.drainTimer.unref();
    }
  }

  close(signal: RecoverySignal | null): void {
    if (this.ended) return;
    this.signal = signal;
    this.mux.destroy(signal === null ? undefined : new TunnelError('TUNNEL_CLOSED', `session ${this.id}: ${signal.reason}: ${signal.detail}`));
    // mux.done resolves on a later tick and ends the session there.
  }

  private end(err: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    const signal =
      this.signal ??
      (err === undefined ? null : { reason: 'connection-lost' as const, session: this.id, code: isTunnelError(err) ? err.code : failureCode(err), detail: err.message, retryInMs: null });
    this.hooks.onEnd(this, signal);
  }
}

/**
 * Mux options from the config (rekey limits, stream cap, receive windows).
 *
 * @example const mux = createMux({ transport, keys }, muxInit(config, 'source'));
 */
export function muxInit(config: TunnelConfig, role: 'source' | 'dest'): MuxInit {
  return {
    role,
    maxStreams: config.limits.maxStreamsPerSession,
    receiveWindowBytes: config.limits.streamWindowBytes,
    maxReceiveWindowBytes: Math.max(config.limits.streamWindowBytes, config.limits.streamWindowMaxBytes),
    windowGrowthBudgetBytes: config.limits.windowGrowthBudgetBytes,
    receiveConnectionWindowBytes: config.limits.connectionWindowBytes,
    rekeyAfterBytes: config.rekey.afterBytes,
    rekeyAfterMessages: config.rekey.afterMessages,
    rekeyAfterMs: config.rekey.afterMs,
  };
}

function peerName(peer: { kind: string; commonName?: string; pskId?: string }): string {
  return peer.kind === 'certificate' ? (peer.commonName ?? '') : (peer.pskId ?? '');
}

function peerNotAfter(peer: { kind: string; notAfter?: Date }): number | null {
  return peer.kind === 'certificate' && peer.notAfter !== undefined ? peer.notAfter.getTime() : null;
}

/**
 * Crypto code behind a failed handshake (details.cause), else the error's own code.
 *
 * @example failureCode(err) // 'CRYPTO_CERT_REVOKED' for a TUNNEL_HANDSHAKE caused by it
 */
export function failureCode(err: unknown): string {
  const details = (err as { details?: { cause?: unknown } }).details;
  if (typeof details?.cause === 'string') return details.cause;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** Options of dialSession. */
export interface DialInit {
  host: string;
  port: number;
  config: TunnelConfig;
  credentials: TunnelCredentials;
  hooks: SessionHooks;
  signal?: AbortSignal;
}

/**
 * Source side: dials the dest, runs the handshake and returns the session.
 * Rejects with TUNNEL_HANDSHAKE (details.cause: the crypto code) or the socket's error.
 *
 * @example const s = await dialSession({ host: '203.0.113.1', port: 7443, config, credentials, hooks });
 */
export async function dialSession(init: DialInit): Promise<Session> {
  const { config } = init;
  const timeoutMs = config.reconnect.handshakeTimeoutMs;
  // Reads into the shared buffer (borrowed-read.ts): the handshake copies, the multiplexer opens in place.
  const sock = connectBorrowed({ host: init.host, port: init.port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new TunnelError('TUNNEL_HANDSHAKE', `connect to ${init.host}:${init.port} not done after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      sock.off('connect', ok);
      sock.destroy();
      reject(err);
    };
    const ok = (): void => {
      clearTimeout(timer);
      sock.off('error', fail);
      resolve();
    };
    sock.once('connect', ok);
    sock.once('error', fail);
  });
  const { result, leftover } = await initiateStreamHandshake(sock, createInitiator(init.credentials), { timeoutMs, ...(init.signal === undefined ? {} : { signal: init.signal }) });
  const mux = createMux({ transport: sock, keys: result, leftover }, muxInit(config, 'source'));
  const session = new TunnelSession(mux, peerName(result.peer), `${init.host}:${init.port}`, result.suite, config.heartbeat, init.hooks, peerNotAfter(result.peer));
  result.destroy(); // the sealer holds its own copies of the keys
  return session;
}

/**
 * Dest side: runs the responder on an accepted socket and returns the session; `mux` adds
 * the dest's OPEN policy (authorizeOpen, onStream).
 *
 * @example const s = await acceptSession(socket, responder, { config, hooks, mux: { authorizeOpen, onStream } });
 */
export async function acceptSession(
  sock: Socket,
  responder: HandshakeResponder,
  init: { config: TunnelConfig; hooks: SessionHooks; mux: Pick<MuxInit, 'authorizeOpen' | 'onStream'> },
): Promise<Session> {
  const remote = `${sock.remoteAddress}:${sock.remotePort}`;
  const { result, leftover } = await acceptStreamHandshake(sock, responder, { peerAddress: remote, timeoutMs: init.config.reconnect.handshakeTimeoutMs });
  sock.setNoDelay(true);
  const mux = createMux({ transport: sock, keys: result, leftover }, { ...muxInit(init.config, 'dest'), ...init.mux });
  const session = new TunnelSession(mux, peerName(result.peer), remote, result.suite, init.config.heartbeat, init.hooks, peerNotAfter(result.peer));
  result.destroy();
  return session;
}
