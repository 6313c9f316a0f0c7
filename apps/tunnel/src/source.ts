/**
 * The source side: local TCP and UDP clients → streams on one session to the dest.
 *
 *   1. listen      a TCP server and/or UDP socket per forward (transparent, hybrid) and the
 *                  entry port (protocol, hybrid)
 *   2. session     dial + handshake (session.ts); heartbeat; on a recovery signal: tear down,
 *                  reconnect with decorrelated-jitter backoff behind a circuit breaker
 *   3. open        each TCP client becomes one stream (OPEN port, target), spliced both ways
 *                  (pipe.ts); each UDP client 5-tuple one datagram channel, closed after
 *                  `udp.idleMs` without traffic
 *   4. refresh     blue-green: a new session is made, new streams go to it, the old one gets
 *                  GOAWAY and drains until `refresh.drainMs`, then is closed
 *   5. stop        listeners closed, sessions drained to the deadline, the rest closed
 *
 * Tables (clients, flows, sessions) only hold live entries: every entry is removed by its
 * own close event, so they return to zero when traffic stops.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { createBackoff, createCircuitBreaker, type Backoff, type CircuitBreaker } from '@edgebox/peers';
import { adoptBorrowed, detachBorrowed, isBorrowed, readBorrowed, unreadBorrowed } from './borrowed-read.js';
import { splitHostPort, type TunnelConfig } from './config.js';
import type { TunnelCredentials } from './credentials.js';
import { EngineCounters, sessionStatus, totals, waitFor, type EngineHooks, type SessionStatus } from './engine.js';
import { TunnelError } from './errors.js';
import { splice } from './pipe.js';
import { dialSession, failureCode, type RecoverySignal, type Session, type SessionHooks } from './session.js';
import type { TunnelStream } from './stream.js';

/** One local listener in status(). */
export type ListenerStatus = { kind: 'forward' | 'entry'; protocol: 'tcp' | 'udp'; port: number; address: string };

/** status() of a source. */
export type SourceStatus = {
  role: 'source';
  dest: string;
  connected: boolean;
  connecting: boolean;
  circuit: string;
  sessions: SessionStatus[];
  openStreams: number;
  clients: number;
  udpFlows: number;
  listeners: ListenerStatus[];
  lastError: string | null;
};

/** A running source. */
export interface SourceEngine {
  readonly counters: EngineCounters;
  readonly sessions: ReadonlySet<Session>;
  readonly active: Session | null;
  status(): SourceStatus;
  /** Resolves once a session is up (immediately if one is). */
  whenConnected(timeoutMs: number): Promise<Session>;
  /** Blue-green refresh: a new session, then the old one drains. Resolves with the new session. */
  refresh(): Promise<Session>;
  /** Applies a reloaded config (same listeners and dest) and credentials. */
  applyReload(config: TunnelConfig, credentials: TunnelCredentials): void;
  stop(deadlineMs: number): Promise<void>;
}

interface Flow {
  stream: TunnelStream;
  last: number;
  address: string;
  port: number;
  /** The table of the listener it belongs to: address → client port → flow. */
  table: Map<string, Map<number, Flow>>;
}

const SERVICE_LINE_MAX_BYTES = 64;

class Source implements SourceEngine {
  readonly counters = new EngineCounters();
  readonly sessions = new Set<Session>();
  active: Session | null = null;
  private config: TunnelConfig;
  private credentials: TunnelCredentials;
  private readonly hooks: EngineHooks;
  private readonly dest: { host: string; port: number };
  private readonly backoff: Backoff;
  private readonly breaker: CircuitBreaker;
  private readonly servers: Server[] = [];
  private readonly udpSockets: UdpSocket[] = [];
  private readonly listeners: ListenerStatus[] = [];
  private readonly clients = new Set<Socket>();
  /**
   * UDP flows: one table per listener, keyed by the client's address then port (both given
   * by node per datagram: no key to build on the hot path). `flowCount` is their total.
   */
  private readonly flowTables: Map<string, Map<number, Flow>>[] = [];
  private flowCount = 0;
  private waiters: { resolve: (s: Session) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private connecting: Promise<Session> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private everConnected = false;
  private lastError: string | null = null;
  private readonly sessionHooks: SessionHooks;

  constructor(config: TunnelConfig, credentials: TunnelCredentials, hooks: EngineHooks) {
    this.config = config;
    this.credentials = credentials;
    this.hooks = hooks;
    this.dest = splitHostPort(config.source!.dest);
    this.backoff = createBackoff({ strategy: 'decorrelated', minMs: config.reconnect.minMs, maxMs: config.reconnect.maxMs });
    this.breaker = createCircuitBreaker(config.circuitBreaker);
    this.breaker.onStateChange((c) => hooks.circuit(c.from, c.to, c.reason));
    this.sessionHooks = {
      onEnd: (s, signal) => this.onSessionEnd(s, signal),
      onGoAway: (s) => this.onPeerGoAway(s),
      onRtt: (s, rtt) => {
        this.counters.lastRttMs = rtt;
        // The backoff starts over once a session proved itself with a PONG, not at the
        // handshake: a dest that accepts and dies at once must not be redialled at minMs forever.
        if (s === this.active) this.backoff.reset();
      },
    };
  }

  // ---- 1. listen -----------------------------------------------------------------------------

  async listen(): Promise<void> {
    const src = this.config.source!;
    const host = src.listenHost;
    if (this.config.mode !== 'protocol') {
      for (const f of src.forwards) {
        const port = f.listenPort ?? f.port;
        if (f.protocol === 'tcp') await this.listenTcp('forward', host, port, f.port, (c) => this.openTcp(c, f.port, ''));
        else await this.listenUdp(host, port, f.port);
      }
    }
    if (this.config.mode !== 'transparent' && src.entry !== undefined) {
      const entry = src.entry;
      // OPEN carries the entry's bound port (informational: a named service is found by name).
      let bound = entry.port;
      await this.listenTcp('entry', host, entry.port, entry.port, (c) => this.onEntryClient(c, bound, entry.service));
      bound = Number(this.listeners.at(-1)!.address.split(':').pop());
      this.listeners.at(-1)!.port = bound;
    }
    const sweepMs = Math.max(25, Math.min(1000, this.config.udp.idleMs >>> 2));
    this.sweepTimer = setInterval(() => this.sweepFlows(), sweepMs);
    this.sweepTimer.unref();
    if (this.config.refresh.intervalMs > 0) {
      this.refreshTimer = setInterval(() => {
        void this.refresh().catch((err: unknown) => this.hooks.warn('scheduled refresh failed', err));
      }, this.config.refresh.intervalMs);
      this.refreshTimer.unref();
    }
  }

  private async listenTcp(kind: 'forward' | 'entry', host: string, port: number, exposed: number, onClient: (c: Socket) => void): Promise<void> {
    // Clients read into the shared buffer (borrowed-read.ts): the accepted socket moves to one made for it.
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (c) => this.onClient(adoptBorrowed(c, true), onClient));
    server.listen(port, host);
    await listening(server, `${host}:${port}`);
    this.servers.push(server);
    const a = server.address() as AddressInfo;
    this.listeners.push({ kind, protocol: 'tcp', port: exposed, address: fmt(a.address, a.port) });
  }

  private async listenUdp(host: string, port: number, exposed: number): Promise<void> {
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    const table = new Map<string, Map<number, Flow>>();
    this.flowTables.push(table);
    sock.on('message', (msg, rinfo) => this.onDatagram(sock, table, exposed, msg, rinfo));
    sock.on('error', (err) => this.hooks.warn(`udp listener ${host}:${port}`, err));
    sock.bind(port, host);
    await listening(sock, `udp ${host}:${port}`);
    this.udpSockets.push(sock);
    const a = sock.address();
    this.listeners.push({ kind: 'forward', protocol: 'udp', port: exposed, address: fmt(a.address, a.port) });
  }

  // ---- 2. session ------------------------------------------------------------------------------

  /** Starts a connect unless one runs; schedules a retry on failure. */
  connect(): Promise<Session> {
    if (this.connecting !== null) return this.connecting;
    const p = this.dial().finally(() => {
      if (this.connecting === p) this.connecting = null;
    });
    this.connecting = p;
    p.catch(() => {}); // reported through hooks; callers that care await it
    return p;
  }

  private async dial(): Promise<Session> {
    if (this.stopped) throw new TunnelError('TUNNEL_CLOSED', 'source stopped');
    if (!this.breaker.allow()) {
      const retryInMs = Math.max(this.breaker.snapshot().retryAfterMs, this.config.reconnect.minMs);
      this.signal({ reason: 'circuit-open', session: null, code: 'PEERS_CIRCUIT_OPEN', detail: `circuit open after repeated failures to ${this.config.source!.dest}`, retryInMs });
      this.scheduleConnect(retryInMs);
      throw new TunnelError('TUNNEL_NO_SESSION', `circuit open: next attempt in ${retryInMs} ms`);
    }
    if (this.everConnected) this.counters.reconnects++;
    const remote = this.config.source!.dest;
    try {
      const s = await dialSession({ host: this.dest.host, port: this.dest.port, config: this.config, credentials: this.credentials, hooks: this.sessionHooks });
      this.breaker.recordSuccess();
      this.counters.bump(this.counters.handshakes, 'ok');
      this.hooks.handshake('ok', remote, `${s.peer} ${s.suite}`);
      if (this.stopped) {
        s.close(null);
        throw new TunnelError('TUNNEL_CLOSED', 'source stopped');
      }
      this.install(s);
      return s;
    } catch (err) {
      if (this.stopped) throw err;
      this.breaker.recordFailure();
      const code = failureCode(err);
      this.counters.bump(this.counters.handshakes, code);
      this.lastError = `${code}: ${(err as Error).message}`;
      this.hooks.handshake(code, remote, (err as Error).message);
      if (this.usable() !== null) {
        // A failed blue-green refresh: the current session keeps serving, nothing to retry.
        this.signal({ reason: 'connect-failed', session: null, code, detail: `refresh: ${(err as Error).message}`, retryInMs: null });
        throw err;
      }
      const retryInMs = this.backoff.next();
      this.signal({ reason: 'connect-failed', session: null, code, detail: (err as Error).message, retryInMs });
      this.scheduleConnect(retryInMs);
      throw err;
    }
  }

  private scheduleConnect(delayMs: number): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.active === null || this.active.state !== 'active') void this.connect();
    }, delayMs);
    this.retryTimer.unref();
  }

  private signal(signal: RecoverySignal): void {
    this.counters.bump(this.counters.recoveries, signal.reason);
    this.hooks.recovery(signal);
  }

  /** A new session takes new streams; a previous one (blue-green) drains. */
  private install(s: Session): void {
    this.sessions.add(s);
    this.counters.sessionsEstablished++;
    this.everConnected = true;
    this.lastError = null;
    const old = this.active;
    this.active = s;
    this.hooks.session('established', s, `${s.peer} at ${s.remote} (${s.suite})`);
    if (old !== null && old.state === 'active') {
      this.counters.refreshes++;
      old.drain(this.config.refresh.drainMs);
      this.hooks.session('draining', old, `replaced by session ${s.id}`);
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(s);
    }
  }

  private onPeerGoAway(s: Session): void {
    this.hooks.session('draining', s, 'GOAWAY from the dest');
    if (this.active !== s) return;
    this.active = null;
    this.signal({ reason: 'peer-going-away', session: s.id, code: null, detail: 'the dest sent GOAWAY', retryInMs: 0 });
    void this.connect();
  }

  private onSessionEnd(s: Session, signal: RecoverySignal | null): void {
    this.sessions.delete(s);
    this.counters.retire(s);
    this.hooks.session('closed', s, signal === null ? 'closed' : `${signal.reason}: ${signal.detail}`);
    if (this.active !== s) return;
    this.active = null;
    if (this.stopped) return;
    const retryInMs = this.backoff.next();
    // A close without error after a GOAWAY we did not send: the dest is stopping.
    const graceful: RecoverySignal = s.mux.draining
      ? { reason: 'peer-going-away', session: s.id, code: null, detail: 'the dest sent GOAWAY and closed', retryInMs }
      : { reason: 'connection-lost', session: s.id, code: null, detail: 'session closed', retryInMs };
    this.signal(signal === null ? graceful : { ...signal, retryInMs });
    this.scheduleConnect(retryInMs);
  }

  /**
   * The session new streams go to, or null. A GOAWAY from the dest is seen here at once
   * (not only at the next heartbeat tick): the session is handed over and a new one dialled.
   */
  private usable(): Session | null {
    const s = this.active;
    if (s === null) return null;
    if (s.mux.draining && s.state === 'active') {
      s.state = 'draining';
      this.onPeerGoAway(s);
      return null;
    }
    return s.state === 'active' ? s : null;
  }

  whenConnected(timeoutMs: number): Promise<Session> {
    const s = this.usable();
    if (s !== null) return Promise.resolve(s);
    if (this.stopped) return Promise.reject(new TunnelError('TUNNEL_CLOSED', 'source stopped'));
    return new Promise((resolve, reject) => {
      const w = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new TunnelError('TUNNEL_NO_SESSION', `no session to ${this.config.source!.dest} within ${timeoutMs} ms${this.lastError === null ? '' : ` (last error ${this.lastError})`}`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  async refresh(): Promise<Session> {
    if (this.stopped) throw new TunnelError('TUNNEL_CLOSED', 'source stopped');
    if (this.connecting !== null) return this.connecting;
    // A refresh dials while the current session still serves: it is the old side once this resolves.
    return this.connect();
  }

  // ---- 3. open -----------------------------------------------------------------------------------

  private onClient(c: Socket, then: (c: Socket) => void): void {
    c.on('error', () => {});
    if (this.stopped || this.clients.size >= this.config.source!.maxConnections) {
      this.counters.clientsRefused++;
      c.resetAndDestroy();
      return;
    }
    this.clients.add(c);
    c.once('close', () => this.clients.delete(c));
    then(c);
  }

  /** The session to open on now, or after waiting for one (the client is paused meanwhile). */
  private withSession(c: Socket, open: (s: Session) => void): void {
    const s = this.usable();
    if (s !== null) {
      open(s);
      return;
    }
    c.pause();
    this.whenConnected(this.config.source!.waitForSessionMs).then(
      (x) => {
        if (!c.destroyed) open(x);
      },
      () => {
        this.counters.clientsRefused++;
        c.resetAndDestroy();
      },
    );
  }

  private openTcp(c: Socket, port: number, target: string): void {
    this.withSession(c, (s) => {
      let stream: TunnelStream;
      try {
        stream = s.mux.openStream({ protocol: 'tcp', port, target });
      } catch (err) {
        this.counters.bump(this.counters.streamsRefused, failureCode(err));
        c.resetAndDestroy();
        return;
      }
      this.counters.streamsOpened++;
      stream.once('error', (err) => this.counters.bump(this.counters.streamsRefused, streamFailure(err)));
      splice(c, stream);
    });
  }

  /** Entry port: a fixed service, or the first line `<name>\n` names it. */
  private onEntryClient(c: Socket, port: number, service: string | undefined): void {
    if (service !== undefined) {
      this.openTcp(c, port, `${service}:0`);
      return;
    }
    let buf = Buffer.alloc(0);
    const borrowed = isBorrowed(c);
    const timer = setTimeout(() => c.destroy(), this.config.source!.waitForSessionMs);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]); // cold: the first line only (a copy, so chunk may be borrowed)
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > SERVICE_LINE_MAX_BYTES) c.destroy();
        return;
      }
      clearTimeout(timer);
      const name = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '').trim();
      const rest = buf.subarray(nl + 1);
      // What followed the line goes back in front of the stream's first bytes.
      if (borrowed) {
        detachBorrowed(c);
        unreadBorrowed(c, rest);
      } else {
        c.off('data', onData);
        c.pause();
        if (rest.length > 0) c.unshift(rest);
      }
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
        this.counters.bump(this.counters.streamsRefused, 'BAD_SERVICE_LINE');
        c.destroy();
        return;
      }
      this.openTcp(c, port, `${name}:0`);
    };
    // Always true: once the line is in, detachBorrowed() has stopped reading, and a splice that
    // already took over has started it again (returning false would stop it for good).
    if (borrowed) readBorrowed(c, (chunk) => (onData(chunk), true));
    else c.on('data', onData);
  }

  private onDatagram(sock: UdpSocket, table: Map<string, Map<number, Flow>>, port: number, msg: Buffer, rinfo: RemoteInfo): void {
    const flow = table.get(rinfo.address)?.get(rinfo.port);
    if (flow !== undefined) {
      flow.last = performance.now();
      flow.stream.write(msg);
      return;
    }
    const s = this.usable();
    if (s === null || this.flowCount >= this.config.udp.maxFlows) {
      this.counters.udpDropped++;
      return;
    }
    let stream: TunnelStream;
    try {
      stream = s.mux.openStream({ protocol: 'udp', port, target: '' });
    } catch {
      this.counters.udpDropped++;
      return;
    }
    // cold: once per flow
    const f: Flow = { stream, last: performance.now(), address: rinfo.address, port: rinfo.port, table };
    let byPort = table.get(rinfo.address);
    if (byPort === undefined) table.set(rinfo.address, (byPort = new Map()));
    byPort.set(rinfo.port, f);
    this.flowCount++;
    this.counters.udpFlows++;
    this.counters.streamsOpened++;
    stream.on('data', (d: Buffer) => {
      f.last = performance.now();
      if (!this.stopped) sock.send(d, f.port, f.address);
    });
    stream.on('end', () => stream.end());
    stream.on('error', () => {});
    stream.on('close', () => this.forgetFlow(f));
    stream.write(msg);
  }

  /** Takes a flow out of its table (idempotent: only if it is still the one there). */
  private forgetFlow(f: Flow): void {
    const byPort = f.table.get(f.address);
    if (byPort?.get(f.port) !== f) return;
    byPort.delete(f.port);
    if (byPort.size === 0) f.table.delete(f.address);
    this.flowCount--;
  }

  private sweepFlows(): void {
    const cutoff = performance.now() - this.config.udp.idleMs;
    for (const table of this.flowTables) {
      for (const byPort of table.values()) {
        for (const f of byPort.values()) {
          if (f.last < cutoff) {
            this.forgetFlow(f);
            f.stream.end(); // FIN: the dest closes its socket and ends too
          }
        }
      }
    }
  }

  // ---- status, reload, stop ------------------------------------------------------------------

  status(): SourceStatus {
    const t = totals(this.counters, this.sessions);
    return {
      role: 'source',
      dest: this.config.source!.dest,
      connected: this.active !== null,
      connecting: this.connecting !== null,
      circuit: this.breaker.state,
      sessions: [...this.sessions].map(sessionStatus),
      openStreams: t.openStreams,
      clients: this.clients.size,
      udpFlows: this.flowCount,
      listeners: this.listeners,
      lastError: this.lastError,
    };
  }

  applyReload(config: TunnelConfig, credentials: TunnelCredentials): void {
    // Heartbeat, limits, rekey, udp and pki apply to the next session; a pki change makes one now.
    const pkiChanged = JSON.stringify([config.pki, config.kem, config.peerName]) !== JSON.stringify([this.config.pki, this.config.kem, this.config.peerName]);
    this.config = config;
    this.credentials = credentials;
    if (pkiChanged && this.active !== null) void this.refresh().catch((err: unknown) => this.hooks.warn('refresh after reload failed', err));
  }

  async stop(deadlineMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.retryTimer, this.refreshTimer]) if (t !== null) clearTimeout(t);
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new TunnelError('TUNNEL_CLOSED', 'source stopped'));
    }
    const closing = this.servers.map((s) => new Promise((r) => s.close(r)));
    for (const u of this.udpSockets) u.close();
    for (const table of this.flowTables) {
      for (const byPort of table.values()) for (const f of byPort.values()) f.stream.end();
      table.clear();
    }
    this.flowCount = 0;
    this.active = null;
    for (const s of this.sessions) s.drain(deadlineMs);
    await waitFor(() => this.sessions.size === 0, deadlineMs);
    for (const s of [...this.sessions]) s.close(null);
    for (const c of this.clients) c.destroy();
    await Promise.all(closing);
  }
}

function fmt(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

async function listening(emitter: Server | UdpSocket, what: string): Promise<void> {
  try {
    await once(emitter, 'listening');
  } catch (cause) {
    throw new TunnelError('TUNNEL_CONFIG', `cannot listen on ${what}: ${(cause as Error).message}`, { cause });
  }
}

function streamFailure(err: unknown): string {
  const reason = (err as { details?: { reason?: unknown } }).details?.reason;
  return typeof reason === 'string' ? reason : failureCode(err);
}

/**
 * Starts a source: binds the listeners, then connects in the background (reconnecting as
 * needed). Use `whenConnected()` to wait for the first session.
 *
 * @example
 * const src = await startSource(config, await loadCredentials(config), hooks);
 * await src.whenConnected(5000);
 */
export async function startSource(config: TunnelConfig, credentials: TunnelCredentials, hooks: EngineHooks): Promise<SourceEngine> {
  const src = new Source(config, credentials, hooks);
  try {
    await src.listen();
  } catch (err) {
    await src.stop(0);
    throw err;
  }
  void src.connect();
  return src;
}
