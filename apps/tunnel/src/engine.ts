/**
 * What the source and dest engines share: the hooks they report through (the service turns
 * them into events, logs and metrics), plain-number counters read at scrape time, and the
 * JSON status of a session. Counters of a closed session are folded into the totals when it
 * ends, so totals never go backwards.
 */
import type { Session, RecoverySignal } from './session.js';

/** What an engine reports (service.ts wires these to events, logs and metrics). */
export interface EngineHooks {
  session(event: 'established' | 'draining' | 'closed', session: Session, detail: string): void;
  recovery(signal: RecoverySignal): void;
  /** A handshake ended: `result` is `ok` or the failure code (CRYPTO_*, TUNNEL_HANDSHAKE, refused-network, limit). */
  handshake(result: string, remote: string, detail: string): void;
  circuit(from: string, to: string, reason: string): void;
  warn(message: string, err?: unknown): void;
}

/**
 * Plain counters; the metrics copy them at scrape time.
 *
 * @example counters.bump(counters.handshakes, 'CRYPTO_CERT_EXPIRED');
 */
export class EngineCounters {
  handshakes = new Map<string, number>();
  recoveries = new Map<string, number>();
  streamsRefused = new Map<string, number>();
  sessionsEstablished = 0;
  reconnects = 0;
  refreshes = 0;
  streamsOpened = 0;
  clientsRefused = 0;
  udpFlows = 0;
  udpDropped = 0;
  /** Of sessions that ended (live ones are added at read time). */
  closedBytesIn = 0;
  closedBytesOut = 0;
  closedRekeys = 0;
  lastRttMs = -1;

  bump(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  /** Folds an ended session's mux counters into the totals. */
  retire(session: Session): void {
    this.closedBytesIn += session.mux.stats.bytesReceived;
    this.closedBytesOut += session.mux.stats.bytesSent;
    this.closedRekeys += session.mux.stats.rekeys;
  }
}

/** One session in status(). */
export type SessionStatus = {
  id: number;
  peer: string;
  remote: string;
  suite: string;
  state: 'active' | 'draining';
  openStreams: number;
  bytesIn: number;
  bytesOut: number;
  /** Sealed frames received / sent (bytes per frame says how well the data path batches). */
  framesIn: number;
  framesOut: number;
  rekeys: number;
  rttMs: number | null;
  missedPings: number;
  establishedAt: string;
};

/**
 * JSON row of a session.
 *
 * @example const rows = [...engine.sessions].map(sessionStatus);
 */
export function sessionStatus(s: Session): SessionStatus {
  const st = s.mux.stats;
  return {
    id: s.id,
    peer: s.peer,
    remote: s.remote,
    suite: s.suite,
    state: s.state,
    openStreams: s.mux.openStreams,
    bytesIn: st.bytesReceived,
    bytesOut: st.bytesSent,
    framesIn: st.framesReceived,
    framesOut: st.framesSent,
    rekeys: st.rekeys,
    rttMs: st.lastRttMs > 0 ? Math.round(st.lastRttMs * 1000) / 1000 : null,
    missedPings: s.missed,
    establishedAt: new Date(s.establishedAt).toISOString(),
  };
}

/**
 * Totals over closed and live sessions.
 *
 * @example const { bytesIn, openStreams } = totals(engine.counters, engine.sessions);
 */
export function totals(counters: EngineCounters, sessions: Iterable<Session>): { bytesIn: number; bytesOut: number; rekeys: number; openStreams: number } {
  let bytesIn = counters.closedBytesIn;
  let bytesOut = counters.closedBytesOut;
  let rekeys = counters.closedRekeys;
  let openStreams = 0;
  for (const s of sessions) {
    bytesIn += s.mux.stats.bytesReceived;
    bytesOut += s.mux.stats.bytesSent;
    rekeys += s.mux.stats.rekeys;
    openStreams += s.mux.openStreams;
  }
  return { bytesIn, bytesOut, rekeys, openStreams };
}

/**
 * Waits until `cond()` or the deadline (polling on a coarse timer; cold path: stop/drain).
 * Resolves false when the deadline passed first.
 *
 * @example await waitFor(() => sessions.size === 0, deadlineMs);
 */
export async function waitFor(cond: () => boolean, deadlineMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return true;
}
