/**
 * The dest side: sessions from sources → the exposed services.
 *
 *   1. accept      a TCP listener; a connection from outside `allowedSources` or over
 *                  `maxSessions` is closed before any handshake work
 *   2. session     handshake (responder), mux, heartbeat (session.ts)
 *   3. authorize   each OPEN against the allow-list: transparent (target '', by protocol and
 *                  port) or protocol (target `<name>:0`, by name); mode decides which are
 *                  allowed; per-service and global stream limits → OPEN_ERR REFUSED / LIMIT
 *   4. dial        TCP: connect to the service's target and splice (pipe.ts); a failed or
 *                  slow connect resets the stream with UNREACHABLE / TIMEOUT. UDP: one socket
 *                  per datagram channel, closed after `udp.idleMs` without traffic
 *   5. stop        listener closed, GOAWAY on every session, drained to the deadline
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { lookup } from 'node:dns/promises';
import { createServer, isIP, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import type { HandshakeResponder } from '@edgebox/crypto';
import { cidrContains, parseCidr, parseIp, unmapIpv4, type Cidr } from '@edgebox/peers';
import { adoptBorrowed, connectBorrowed } from './borrowed-read.js';
import { splitHostPort, type ExposedService, type TunnelConfig } from './config.js';
import { TUNNEL_CODES, codeName } from './constants.js';
import { createResponder, type TunnelCredentials } from './credentials.js';
import { EngineCounters, sessionStatus, totals, waitFor, type EngineHooks, type SessionStatus } from './engine.js';
import { TunnelError } from './errors.js';
import type { OpenRequest } from './frames.js';
import { splice } from './pipe.js';
import { acceptSession, failureCode, type Session, type SessionHooks } from './session.js';
import type { TunnelStream } from './stream.js';

/** status() of a dest. */
export type DestStatus = {
  role: 'dest';
  listen: string;
  sessions: SessionStatus[];
  openStreams: number;
  udpFlows: number;
  services: { name: string; protocol: 'tcp' | 'udp'; port: number; target: string; open: number; maxConnections: number }[];
};

/** A running dest. */
export interface DestEngine {
  readonly counters: EngineCounters;
  readonly sessions: ReadonlySet<Session>;
  /** The bound listen address (`host:port`). */
  readonly address: string;
  status(): DestStatus;
  applyReload(config: TunnelConfig, credentials: TunnelCredentials): void;
  stop(deadlineMs: number): Promise<void>;
}

interface Policy {
  byPort: Map<string, ExposedService>;
  byName: Map<string, ExposedService>;
  networks: Cidr[];
}

interface UdpFlow {
  sock: UdpSocket;
  stream: TunnelStream;
  last: number;
  closed: boolean;
}

function policyOf(config: TunnelConfig): Policy {
  const d = config.dest!;
  const byPort = new Map<string, ExposedService>();
  const byName = new Map<string, ExposedService>();
  for (const s of d.services) {
    byPort.set(`${s.protocol}/${s.port}`, s);
    byName.set(`${s.protocol}/${s.name}`, s);
  }
  return { byPort, byName, networks: d.allowedSources.map((c) => parseCidr(c)) };
}

class Dest implements DestEngine {
  readonly counters = new EngineCounters();
  readonly sessions = new Set<Session>();
  address = '';
  private config: TunnelConfig;
  private policy: Policy;
  private responder: HandshakeResponder;
  private readonly hooks: EngineHooks;
  private readonly server: Server;
  private readonly pending = new Set<Socket>();
  private readonly targets = new Set<Socket>();
  private readonly udpFlows = new Set<UdpFlow>();
  /** Open streams per service name (protocol/name), over all sessions. */
  private readonly perService = new Map<string, number>();
  private streams = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly sessionHooks: SessionHooks;

  constructor(config: TunnelConfig, credentials: TunnelCredentials, hooks: EngineHooks) {
    this.config = config;
    this.policy = policyOf(config);
    this.responder = createResponder(credentials);
    this.hooks = hooks;
    // Sessions read into the shared buffer (borrowed-read.ts): the accepted socket moves to one made for it.
    this.server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (sock) => this.onConnection(adoptBorrowed(sock, true)));
    this.sessionHooks = {
      onEnd: (s, signal) => {
        this.sessions.delete(s);
        this.counters.retire(s);
        if (signal !== null) {
          this.counters.bump(this.counters.recoveries, signal.reason);
          this.hooks.recovery(signal);
        }
        this.hooks.session('closed', s, signal === null ? 'closed' : `${signal.reason}: ${signal.detail}`);
      },
      onGoAway: (s) => this.hooks.session('draining', s, 'GOAWAY from the source'),
      onRtt: (_s, rtt) => {
        this.counters.lastRttMs = rtt;
      },
    };
  }

  async listen(): Promise<void> {
    const { host, port } = this.config.dest!.listen;
    this.server.listen(port, host);
    try {
      await once(this.server, 'listening');
    } catch (cause) {
      throw new TunnelError('TUNNEL_CONFIG', `cannot listen on ${host}:${port}: ${(cause as Error).message}`, { cause });
    }
    const a = this.server.address() as AddressInfo;
    this.address = isIPv6(a.address) ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    const sweepMs = Math.max(25, Math.min(1000, this.config.udp.idleMs >>> 2));
    this.sweepTimer = setInterval(() => this.sweepFlows(), sweepMs);
    this.sweepTimer.unref();
  }

  // ---- 1. accept, 2. session -------------------------------------------------------------

  private allowedNetwork(address: string | undefined): boolean {
    const ip0 = address === undefined ? undefined : parseIp(address);
    if (ip0 === undefined) return false;
    const ip = unmapIpv4(ip0) ?? ip0;
    for (const n of this.policy.networks) if (cidrContains(n, ip)) return true;
    return false;
  }

  private onConnection(sock: Socket): void {
    sock.on('error', () => {});
    const remote = `${sock.remoteAddress}:${sock.remotePort}`;
    if (this.stopped) {
      sock.destroy();
      return;
    }
    if (!this.allowedNetwork(sock.remoteAddress)) {
      this.counters.bump(this.counters.handshakes, 'refused-network');
      this.hooks.handshake('refused-network', remote, `${sock.remoteAddress} is not in dest.allowedSources`);
      sock.destroy();
      return;
    }
    if (this.sessions.size + this.pending.size >= this.config.dest!.maxSessions) {
      this.counters.bump(this.counters.handshakes, 'limit');
      this.hooks.handshake('limit', remote, `${this.sessions.size} sessions (max ${this.config.dest!.maxSessions})`);
      sock.destroy();
      return;
    }
    this.pending.add(sock);
    acceptSession(sock, this.responder, {
      config: this.config,
      hooks: this.sessionHooks,
      mux: { authorizeOpen: (req) => this.authorize(req), onStream: (s) => this.onStream(s) },
    }).then(
      (s) => {
        this.pending.delete(sock);
        this.sessions.add(s);
        this.counters.sessionsEstablished++;
        this.counters.bump(this.counters.handshakes, 'ok');
        this.hooks.handshake('ok', remote, `${s.peer} ${s.suite}`);
        this.hooks.session('established', s, `${s.peer} from ${remote} (${s.suite})`);
        if (this.stopped) s.drain(0);
      },
      (err: unknown) => {
        this.pending.delete(sock);
        const code = failureCode(err);
        this.counters.bump(this.counters.handshakes, code);
        this.hooks.handshake(code, remote, (err as Error).message);
      },
    );
  }

  // ---- 3. authorize --------------------------------------------------------------------------

  private serviceFor(req: OpenRequest): ExposedService | undefined {
    const mode = this.config.mode;
    if (req.target === '') return mode === 'protocol' ? undefined : this.policy.byPort.get(`${req.protocol}/${req.port}`);
    if (mode === 'transparent') return undefined;
    const name = req.target.slice(0, req.target.lastIndexOf(':'));
    return this.policy.byName.get(`${req.protocol}/${name}`);
  }

  /** OPEN policy: 0 accepts; the mux answers anything else with OPEN_ERR. */
  private authorize(req: OpenRequest): number {
    const svc = this.serviceFor(req);
    let code: number = TUNNEL_CODES.NO_ERROR;
    if (svc === undefined) code = TUNNEL_CODES.REFUSED;
    else if (this.streams >= this.config.limits.maxStreams) code = TUNNEL_CODES.LIMIT;
    else if (svc.maxConnections > 0 && (this.perService.get(`${svc.protocol}/${svc.name}`) ?? 0) >= svc.maxConnections) code = TUNNEL_CODES.LIMIT;
    if (code !== TUNNEL_CODES.NO_ERROR) this.counters.bump(this.counters.streamsRefused, codeName(code));
    return code;
  }

  // ---- 4. dial -------------------------------------------------------------------------------

  private onStream(stream: TunnelStream): void {
    const svc = this.serviceFor(stream.request)!;
    const key = `${svc.protocol}/${svc.name}`;
    this.streams++;
    this.counters.streamsOpened++;
    this.perService.set(key, (this.perService.get(key) ?? 0) + 1);
    stream.once('close', () => {
      this.streams--;
      this.perService.set(key, (this.perService.get(key) ?? 1) - 1);
    });
    stream.on('error', () => {});
    const { host, port } = splitHostPort(svc.target ?? `127.0.0.1:${svc.port}`);
    if (svc.protocol === 'udp') this.dialUdp(stream, host, port);
    else this.dialTcp(stream, host, port);
  }

  private dialTcp(stream: TunnelStream, host: string, port: number): void {
    const sock = connectBorrowed({ host, port, allowHalfOpen: true, noDelay: true });
    this.targets.add(sock);
    sock.once('close', () => this.targets.delete(sock));
    const timer = setTimeout(() => {
      stream.resetCode = TUNNEL_CODES.TIMEOUT;
      sock.destroy();
      stream.destroy();
    }, this.config.dest!.connectTimeoutMs);
    const onError = (): void => {
      clearTimeout(timer);
      stream.resetCode = TUNNEL_CODES.UNREACHABLE;
      stream.destroy();
    };
    sock.once('error', onError);
    // Data the source sent before the connect waits in the stream (bounded by its window).
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      splice(sock, stream);
    });
    stream.once('close', () => {
      clearTimeout(timer);
      if (sock.connecting) sock.destroy();
    });
  }

  /** A UDP target by name is resolved once per flow: `send(host)` would look it up per datagram. */
  private dialUdp(stream: TunnelStream, host: string, port: number): void {
    if (isIP(host) !== 0) {
      this.openUdp(stream, host, port);
      return;
    }
    lookup(host).then(
      ({ address }) => {
        if (!stream.destroyed) this.openUdp(stream, address, port);
      },
      () => {
        stream.resetCode = TUNNEL_CODES.UNREACHABLE;
        stream.destroy();
      },
    );
  }

  private openUdp(stream: TunnelStream, host: string, port: number): void {
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    const flow: UdpFlow = { sock, stream, last: performance.now(), closed: false };
    this.udpFlows.add(flow);
    this.counters.udpFlows++;
    sock.on('error', () => {
      this.counters.udpDropped++;
    });
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== port || rinfo.address !== host) return; // only the target answers into this channel
      flow.last = performance.now();
      stream.write(msg);
    });
    stream.on('data', (d: Buffer) => {
      if (flow.closed) return;
      flow.last = performance.now();
      sock.send(d, port, host);
    });
    stream.on('end', () => {
      this.closeFlow(flow);
      stream.end();
    });
    stream.on('close', () => this.closeFlow(flow));
  }

  private closeFlow(f: UdpFlow): void {
    if (f.closed) return;
    f.closed = true;
    this.udpFlows.delete(f);
    f.sock.close();
  }

  private sweepFlows(): void {
    const cutoff = performance.now() - this.config.udp.idleMs;
    for (const f of this.udpFlows) {
      if (f.last < cutoff) {
        this.closeFlow(f);
        f.stream.end(); // FIN: the source forgets the client's flow too
      }
    }
  }

  // ---- status, reload, stop --------------------------------------------------------------

  status(): DestStatus {
    const t = totals(this.counters, this.sessions);
    return {
      role: 'dest',
      listen: this.address,
      sessions: [...this.sessions].map(sessionStatus),
      openStreams: t.openStreams,
      udpFlows: this.udpFlows.size,
      services: this.config.dest!.services.map((s) => ({
        name: s.name,
        protocol: s.protocol,
        port: s.port,
        target: s.target ?? `127.0.0.1:${s.port}`,
        open: this.perService.get(`${s.protocol}/${s.name}`) ?? 0,
        maxConnections: s.maxConnections,
      })),
    };
  }

  applyReload(config: TunnelConfig, credentials: TunnelCredentials): void {
    // The allow-list, networks and limits apply to the next OPEN / connection at once;
    // credentials to the next handshake. Running streams are left alone.
    this.config = config;
    this.policy = policyOf(config);
    const old = this.responder;
    this.responder = createResponder(credentials);
    old.destroy();
  }

  async stop(deadlineMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    const closing = new Promise((r) => this.server.close(r));
    for (const p of this.pending) p.destroy();
    for (const s of this.sessions) s.drain(deadlineMs);
    await waitFor(() => this.sessions.size === 0, deadlineMs);
    for (const s of [...this.sessions]) s.close(null);
    for (const f of [...this.udpFlows]) this.closeFlow(f);
    for (const t of this.targets) t.destroy();
    this.responder.destroy();
    await closing;
  }
}

/**
 * Starts a dest: binds the listener and serves sessions.
 *
 * @example
 * const dest = await startDest(config, await loadCredentials(config), hooks);
 * console.log(dest.address, dest.status().openStreams);
 */
export async function startDest(config: TunnelConfig, credentials: TunnelCredentials, hooks: EngineHooks): Promise<DestEngine> {
  const d = new Dest(config, credentials, hooks);
  try {
    await d.listen();
  } catch (err) {
    await d.stop(0);
    throw err;
  }
  return d;
}
