/**
 * The tunnel Service (ARCHITECTURE.md rules 2 and 3), for both roles: what the CLI, the
 * supervisor, the netlab e2e and the bench host.
 *
 *   start(config)   validate → load the PKI files → startSource / startDest
 *   reload(config)  validate → load the PKI files again (a bad file refuses the reload) →
 *                   the engine takes the new allow-list, networks, limits, heartbeat, rekey,
 *                   udp settings and credentials; role, mode, listeners, dest address, refresh
 *                   period and ops need a restart (TUNNEL_RELOAD_UNSUPPORTED, running config kept)
 *   stop()          listeners closed, GOAWAY, streams drain until the deadline, then closed
 *   status()        role, sessions (streams, bytes, rekeys, RTT), open streams, clients, flows
 *   health()        source: ready with an active session; dest: listening
 *   events          session, recovery, handshake, circuit; each also as an @edgebox/events
 *                   v1 event (`event`) published on `bus` (events.ts)
 *   registry        edgebox_tunnel_* read at scrape time (metrics.ts)
 */
import { createLifecycle, createLogger, createMetricsRegistry, createTypedEmitter, healthCheck, healthReport, lifecycleHealth } from '@edgebox/runtime';
import type { HealthReport, Logger, Service, TypedEmitter } from '@edgebox/runtime';
import type { EventBus, EventV1 } from '@edgebox/events';
import { TunnelConfigSchema, type TunnelConfig, type TunnelConfigInput } from './config.js';
import { loadCredentials } from './credentials.js';
import { startDest, type DestEngine, type DestStatus } from './dest.js';
import type { EngineHooks } from './engine.js';
import { TunnelError } from './errors.js';
import { createTunnelEventPublisher } from './events.js';
import { registerTunnelMetrics } from './metrics.js';
import type { RecoverySignal, Session } from './session.js';
import { startSource, type SourceEngine, type SourceStatus } from './source.js';

/** Events of the tunnel service. */
export interface TunnelEvents {
  /** A session was established, started draining, or closed. */
  session: { role: 'source' | 'dest'; event: 'established' | 'draining' | 'closed'; session: number; peer: string; remote: string; detail: string };
  /** A typed recovery signal (heartbeat-timeout, connection-lost, peer-going-away, connect-failed, circuit-open, peer-certificate-expired). */
  recovery: RecoverySignal & { role: 'source' | 'dest' };
  /** A handshake ended (`result` ok, or the failure code). */
  handshake: { role: 'source' | 'dest'; result: string; remote: string; detail: string };
  /** The source's circuit breaker changed state. */
  circuit: { from: string; to: string; reason: string };
  /** Each of the above (but successful handshakes) as an @edgebox/events v1 event, as published on `bus`. */
  event: EventV1;
}

/** status(): JSON for the ops endpoint, the CLI and the supervisor. */
export type TunnelStatus = {
  role: 'source' | 'dest' | null;
  mode: 'transparent' | 'protocol' | 'hybrid' | null;
  running: boolean;
  /** Streams open over all sessions (0 when idle: the e2e leak check reads it). */
  openStreams: number;
  counters: { handshakesOk: number; handshakesFailed: number; reconnects: number; refreshes: number; rekeys: number; streamsOpened: number; clientsRefused: number };
  source: SourceStatus | null;
  dest: DestStatus | null;
};

/** The tunnel Service with its event bus and blue-green refresh. */
export type TunnelService = Service<TunnelConfig, TunnelStatus, TunnelEvents> & {
  readonly bus: EventBus;
  /** The running engine (source or dest), null when stopped: for tests, the e2e and the bench. */
  readonly engine: SourceEngine | DestEngine | null;
  /** Source: blue-green refresh now (new session, old one drains). Resolves with the new session id. */
  refresh(): Promise<number>;
};

/** Options of createTunnelService(). */
export interface TunnelServiceInit {
  /** Default: a pino logger for app "tunnel". */
  logger?: Logger;
  /** The bus to publish tunnel events on (default: one of the service's own, last 256 kept). */
  bus?: EventBus;
}

/** Fields only a restart can change. */
function restartShape(c: TunnelConfig): string {
  return JSON.stringify({
    role: c.role,
    mode: c.mode,
    source: c.source === undefined ? null : { dest: c.source.dest, listenHost: c.source.listenHost, forwards: c.source.forwards, entry: c.source.entry ?? null },
    dest: c.dest === undefined ? null : c.dest.listen,
    refresh: c.refresh.intervalMs,
    ops: c.ops,
  });
}

/**
 * Create the tunnel service (not started).
 *
 * @example
 * const tunnel = createTunnelService();
 * tunnel.events.on('recovery', (s) => console.log(s.reason, s.retryInMs));
 * await tunnel.start({ role: 'source', pki: { ca: 'ca.pem', cert: 'src.pem', key: 'src.key' },
 *   source: { dest: '203.0.113.1:7443', forwards: [{ port: 5201 }] } });
 * console.log(tunnel.status().openStreams);
 * await tunnel.stop({ deadlineMs: 5000 });
 */
export function createTunnelService(init: TunnelServiceInit = {}): TunnelService {
  const log = init.logger ?? createLogger({ app: 'tunnel' });
  const events: TypedEmitter<TunnelEvents> = createTypedEmitter<TunnelEvents>();
  const publisher = createTunnelEventPublisher(init.bus === undefined ? {} : { bus: init.bus });
  const forward = (event: EventV1): void => {
    events.emit('event', event);
  };
  const registry = createMetricsRegistry({ app: 'tunnel' });
  let source: SourceEngine | null = null;
  let dest: DestEngine | null = null;
  let role: 'source' | 'dest' = 'source';
  registerTunnelMetrics(registry, () => {
    const e = source ?? dest;
    return e === null ? null : { role, counters: e.counters, sessions: e.sessions };
  });

  const hooksFor = (r: 'source' | 'dest'): EngineHooks => ({
    session(event, s: Session, detail) {
      const data = { session: s.id, peer: s.peer, remote: s.remote, detail };
      log.info({ role: r, event, ...data }, `session ${event}`);
      events.emit('session', { role: r, event, ...data });
      forward(publisher.session(r, event, data));
    },
    recovery(signal) {
      log.warn({ role: r, ...signal }, `recovery: ${signal.reason}`);
      events.emit('recovery', { role: r, ...signal });
      forward(publisher.recovery(r, signal));
    },
    handshake(result, remote, detail) {
      events.emit('handshake', { role: r, result, remote, detail });
      if (result === 'ok') return;
      log.warn({ role: r, remote, code: result, reason: detail }, 'handshake refused');
      forward(publisher.handshakeFailed(r, remote, result, detail));
    },
    circuit(from, to, reason) {
      log.warn({ from, to, reason }, 'circuit breaker');
      events.emit('circuit', { from, to, reason });
      forward(publisher.circuit(from, to, reason));
    },
    warn(message, err) {
      log.warn({ err }, message);
    },
  });

  const life = createLifecycle<TunnelConfig>({
    name: 'tunnel',
    schema: TunnelConfigSchema,
    async start(config) {
      const credentials = await loadCredentials(config);
      role = config.role;
      if (config.role === 'source') {
        source = await startSource(config, credentials, hooksFor('source'));
        log.info({ dest: config.source!.dest, mode: config.mode, listeners: source.status().listeners }, 'tunnel source started');
      } else {
        dest = await startDest(config, credentials, hooksFor('dest'));
        log.info({ listen: dest.address, mode: config.mode, services: config.dest!.services.length }, 'tunnel dest started');
      }
    },
    async reload(next, current) {
      if (restartShape(next) !== restartShape(current)) {
        throw new TunnelError('TUNNEL_RELOAD_UNSUPPORTED', 'this reload changes role, mode, listeners, the dest address, the refresh period or ops: restart the service to apply it');
      }
      const credentials = await loadCredentials(next); // a bad PKI file refuses the reload here
      source?.applyReload(next, credentials);
      dest?.applyReload(next, credentials);
    },
    async stop({ deadlineMs }) {
      const s = source;
      const d = dest;
      await s?.stop(deadlineMs);
      await d?.stop(deadlineMs);
      source = null;
      dest = null;
    },
  });

  const status = (): TunnelStatus => {
    const s = source?.status() ?? null;
    const d = dest?.status() ?? null;
    const e = source ?? dest;
    let ok = 0;
    let failed = 0;
    for (const [k, v] of e?.counters.handshakes ?? []) {
      if (k === 'ok') ok += v;
      else failed += v;
    }
    let rekeys = e?.counters.closedRekeys ?? 0;
    for (const x of e?.sessions ?? []) rekeys += x.mux.stats.rekeys;
    return {
      role: life.config?.role ?? null,
      mode: life.config?.mode ?? null,
      running: e !== null,
      openStreams: s?.openStreams ?? d?.openStreams ?? 0,
      counters: {
        handshakesOk: ok,
        handshakesFailed: failed,
        reconnects: e?.counters.reconnects ?? 0,
        refreshes: e?.counters.refreshes ?? 0,
        rekeys,
        streamsOpened: e?.counters.streamsOpened ?? 0,
        clientsRefused: e?.counters.clientsRefused ?? 0,
      },
      source: s,
      dest: d,
    };
  };

  const health = (): HealthReport => {
    if (life.state !== 'running' && life.state !== 'reloading') return lifecycleHealth(life.state, 'tunnel');
    if (source !== null) {
      const st = source.status();
      const session = st.connected
        ? healthCheck('session', 'ok', `session to ${st.dest} up, ${st.openStreams} streams`)
        : healthCheck('session', 'degraded', st.lastError ?? `connecting to ${st.dest} (circuit ${st.circuit})`);
      return healthReport([healthCheck('listeners', 'ok', `${st.listeners.length} listening`), session], st.connected);
    }
    if (dest !== null) return healthReport([healthCheck('listener', 'ok', `listening on ${dest.address}, ${dest.sessions.size} sessions`)]);
    return healthReport([healthCheck('engine', 'failing', 'not running')], false);
  };

  return {
    name: 'tunnel',
    configSchema: TunnelConfigSchema,
    events,
    bus: publisher.bus,
    registry,
    get state() {
      return life.state;
    },
    get config() {
      return life.config;
    },
    get engine() {
      return source ?? dest;
    },
    start: life.start,
    reload: life.reload,
    stop: life.stop,
    status,
    health,
    async refresh() {
      if (source === null) throw new TunnelError('TUNNEL_INVALID_ARGUMENT', 'refresh is a source operation; this service is not a running source');
      return (await source.refresh()).id;
    },
  };
}

/**
 * Creates and starts a tunnel (source or dest) from a config object: the entry point of the
 * e2e scenarios and the bench.
 *
 * @example
 * const dest = await startTunnel({ role: 'dest', pki, dest: { listen: { port: 0 }, services: [{ name: 'iperf', port: 5201 }] } });
 * const port = Number((dest.status().dest!.listen).split(':').pop());
 */
export async function startTunnel(config: TunnelConfigInput, init: TunnelServiceInit = {}): Promise<TunnelService> {
  const service = createTunnelService(init);
  await service.start(config);
  return service;
}
