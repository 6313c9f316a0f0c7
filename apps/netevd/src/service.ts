/**
 * The netevd Service (ARCHITECTURE.md rules 2 and 3): what the CLI and the supervisor host.
 *
 *   start(config)   bus + interface table + dispatcher → routing (table file opened) → sources
 *                   started (each publishes its startup snapshot) → the snapshot drained from
 *                   the bus → routing reconciled (ours and stale removed, missing added) → API
 *   events          every bus event: interface table, metrics, script dispatch (dispatch.ts);
 *                   a link event for a routed interface, or a foreign route change, schedules
 *                   a reconcile (one in flight, one pending)
 *   reload(config)  validated by the lifecycle first; backends, netns, dbus, dataDir, the
 *                   interface filter, table range, protocol, api listen and ops need a restart (NETEVD_RELOAD_UNSUPPORTED). The rest (scripts, filter,
 *                   debounce, routing, dry-run, token) applies as one step: dispatcher and
 *                   routing take the new config and reconcile; if that fails, both go back to
 *                   the running config, reconcile again and the reload is refused. Every
 *                   outcome, a file that does not parse included (noteReload), stays visible in
 *                   status().reload and GET /api/v1/status.
 *   stop()          API closed, sources stopped, running scripts awaited; rules stay (the next
 *                   start reconciles them)
 *   status()        interfaces, sources, scripts, dead letters, routing, last reload
 *   health()        one check per source, routing (degraded after failed commands), api
 */
import { createEventBus, createEventFactory } from '@edgebox/events';
import type { EventBus, EventFactory, EventV1, JsonObject, Listener } from '@edgebox/events';
import { createLifecycle, createLogger, createMetricsRegistry, createTypedEmitter, healthCheck, healthReport, toErrorBody, toJsonSafe } from '@edgebox/runtime';
import type { HealthCheck, HealthReport, JsonValue, Logger, ReloadResult, Service, TypedEmitter } from '@edgebox/runtime';
import { compileGlobs } from '@edgebox/events';
import { startApi } from './api.js';
import type { ApiServer } from './api.js';
import { NetevdConfigSchema } from './config.js';
import type { Backend, NetevdConfig } from './config.js';
import { HISTORY_SIZE } from './constants.js';
import { createDispatcher } from './dispatch.js';
import type { DeadLetter, Dispatcher, DispatchStats } from './dispatch.js';
import { NetevdError } from './errors.js';
import { createInterfaceTable } from './interfaces.js';
import type { InterfaceTable, InterfaceView } from './interfaces.js';
import type { IpRunner } from './ip-command.js';
import { registerNetevdMetrics } from './metrics.js';
import type { NetevdMetrics } from './metrics.js';
import { createPolicyRouting, openTableStore } from './routing.js';
import type { PolicyRouting, ReconcileResult } from './routing.js';
import type { RunScriptInit, ScriptResult } from './script-runner.js';
import { createDhclientSource } from './sources/dhclient.js';
import { createNetlinkSource } from './sources/netlink.js';

/** What every source factory receives (the DBus sources take the same, and use what they need). */
export interface SourceInit {
  bus: EventBus;
  /** The daemon's event factory: one id sequence for every source. */
  events: EventFactory;
  logger: Logger;
  netns?: string | undefined;
  /** Interface filter of the config (include / exclude globs). */
  accept: (name: string) => boolean;
  /** Publish the startup snapshot. */
  startupEvents: boolean;
  /** netevd's routing protocol (its own changes are not news). */
  ownProtocol: number;
  /** System bus address for the DBus sources (`dbus.address`), when configured. */
  busAddress?: string;
  /** The whole running config (sources read their own section). */
  config: NetevdConfig;
}

/** A running event source. */
export interface EventSourceHandle {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats?(): unknown;
  /** Connected / monitoring now (a DBus source between reconnects is not ok). */
  health?(): { ok: boolean; detail: string };
}

/** Makes one backend's source. */
export type SourceFactory = (init: SourceInit) => EventSourceHandle | Promise<EventSourceHandle>;

/** Events of the netevd service (typed emitter; the bus carries the v1 events). */
export interface NetevdEvents {
  /** Every event the daemon handled. */
  event: EventV1;
  /** A script attempt finished. */
  script: { script: string; state: string; interface: string | null; ok: boolean; exitCode: number | null; timedOut: boolean; durationMs: number };
  /** A reconcile finished. */
  routing: { added: number; removed: number; errors: number };
}

/** One source in status(). */
export type SourceStatus = { backend: string; state: 'starting' | 'running' | 'failed' | 'stopped'; error: string | null; healthy: boolean; detail: string | null; stats: JsonValue };

/** status(). */
export type NetevdStatus = {
  running: boolean;
  backends: string[];
  sources: SourceStatus[];
  interfaces: InterfaceView[];
  scripts: DispatchStats & { dir: string };
  deadLetters: number;
  routing: {
    dryRun: boolean;
    tables: Record<string, number>;
    stats: ReturnType<PolicyRouting['stats']>;
    last: ReconcileResult | null;
  } | null;
  events: { published: number; history: number };
  reload: { at: string; applied: boolean; error: { code: string; message: string; details?: JsonValue } | null } | null;
  api: { url: string | null };
};

/** The netevd Service with its bus and the views the API and CLI use. */
export type NetevdService = Service<NetevdConfig, NetevdStatus, NetevdEvents> & {
  readonly bus: EventBus;
  interfaces(): InterfaceView[];
  deadLetters(): DeadLetter[];
  clearDeadLetters(): number;
  /** Our rules and routes as the kernel has them now. */
  routingState(): Promise<{ tables: Record<string, number>; rules: unknown[]; routes: unknown[] }>;
  /** Re-read the config source and reload (POST /api/v1/reload, SIGHUP); set by the host. */
  reloadFromSource(): Promise<ReloadResult>;
  /** Record a reload outcome decided outside reload() (a file that does not parse). */
  noteReload(result: ReloadResult): void;
  /** Resolves when the bus is drained and no script is queued or running (tests, bench). */
  idle(): Promise<void>;
  /** The API's base URL once listening. */
  readonly apiUrl: string | null;
  /**
   * Publish made-up events (`simulate`, `replay`): they run scripts like real ones
   * (`data.simulated: true`), but change neither the interface table nor the routing.
   */
  simulate(inits: readonly SimulateInit[]): EventV1[];
};

/** What `simulate` (POST /api/v1/events) takes: an event without id, time or source. */
export interface SimulateInit {
  kind?: string;
  interface?: string;
  states: { old?: string; new: string };
  addresses?: string[];
  data?: JsonObject;
}

/** Options of createNetevdService(). */
export interface NetevdServiceInit {
  logger?: Logger;
  /** The bus (default: the service's own, HISTORY_SIZE events kept). */
  bus?: EventBus;
  /** Source factories by backend; netlink is built in, networkd / networkmanager load from sources/. */
  sources?: Partial<Record<Backend, SourceFactory>>;
  /** `ip` runner for routing (tests record commands). */
  ip?: IpRunner;
  /** Script runner (tests). */
  runScript?: (path: string, env: Record<string, string>, init: RunScriptInit) => Promise<ScriptResult>;
  /** Re-reads the config source; the CLI sets it to runService's host.reload. */
  reloadSource?: () => Promise<ReloadResult>;
}

const BUILTIN_SOURCES: Partial<Record<Backend, SourceFactory>> = {
  netlink: (i) =>
    createNetlinkSource({ bus: i.bus, events: i.events, netns: i.netns, accept: i.accept, startupEvents: i.startupEvents, ownProtocol: i.ownProtocol, onError: (err) => i.logger.warn({ err }, 'netlink source') }),
  dhclient: (i) => createDhclientSource({ bus: i.bus, events: i.events, files: i.config.dhclient.leaseFiles, accept: i.accept, onError: (err) => i.logger.warn({ err }, 'dhclient source') }),
};

// The DBus sources live in their own modules (sources/networkd.ts, sources/network-manager.ts)
// and load only when configured: a netlink-only daemon never loads dbus-next.
const DBUS_MODULES: Partial<Record<Backend, { module: string; factory: string }>> = {
  networkd: { module: './sources/networkd.js', factory: 'createNetworkdSource' },
  networkmanager: { module: './sources/network-manager.js', factory: 'createNetworkManagerSource' },
};

async function loadSourceFactory(backend: Backend, injected: Partial<Record<Backend, SourceFactory>> | undefined): Promise<SourceFactory> {
  const given = injected?.[backend] ?? BUILTIN_SOURCES[backend];
  if (given !== undefined) return given;
  const spec = DBUS_MODULES[backend];
  if (spec === undefined) throw new NetevdError('NETEVD_SOURCE', `no source for backend ${backend}`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(new URL(spec.module, import.meta.url).href)) as Record<string, unknown>;
  } catch (err) {
    throw new NetevdError('NETEVD_SOURCE', `backend ${backend}: ${spec.module} cannot be loaded: ${(err as Error).message}`, { cause: err });
  }
  const f = mod[spec.factory];
  if (typeof f !== 'function') throw new NetevdError('NETEVD_SOURCE', `backend ${backend}: ${spec.module} exports no ${spec.factory}()`);
  return (i) => (f as (init: SourceInit) => EventSourceHandle | Promise<EventSourceHandle>)(i);
}

/** Fields only a restart can change. */
function restartShape(c: NetevdConfig): string {
  return JSON.stringify({ backends: c.backends, netns: c.netns ?? null, dbus: c.dbus, dhclient: c.dhclient, dataDir: c.dataDir, api: { enabled: c.api.enabled, host: c.api.host, port: c.api.port }, ops: c.ops, tables: c.routing.tables, protocol: c.routing.protocol, interfaces: c.interfaces });
}

function acceptOf(c: NetevdConfig): (name: string) => boolean {
  const inc = compileGlobs(c.interfaces.include);
  const exc = compileGlobs(c.interfaces.exclude);
  return (name) => inc(name) && !exc(name);
}

/**
 * Create the netevd service (not started).
 *
 * @example
 * const netevd = createNetevdService();
 * await netevd.start({ backends: ['netlink'], routing: { interfaces: [{ name: 'wan0' }] } });
 * console.log(netevd.status().interfaces);
 * await netevd.stop();
 */
export function createNetevdService(init: NetevdServiceInit = {}): NetevdService {
  const log = init.logger ?? createLogger({ app: 'netevd' });
  const events: TypedEmitter<NetevdEvents> = createTypedEmitter<NetevdEvents>();
  const registry = createMetricsRegistry({ app: 'netevd' });
  const bus = init.bus ?? createEventBus({ historySize: HISTORY_SIZE });
  const factory = createEventFactory({ source: 'netevd' });
  let table: InterfaceTable = createInterfaceTable();
  let dispatcher: Dispatcher | null = null;
  let routing: PolicyRouting | null = null;
  let api: ApiServer | null = null;
  let listener: Listener | null = null;
  const sources = new Map<string, { handle: EventSourceHandle | null; status: SourceStatus }>();
  let reloadState: NetevdStatus['reload'] = null;
  let reconcileRunning: Promise<void> | null = null;
  let reconcilePending = false;
  let current: NetevdConfig | null = null;
  let accept: (name: string) => boolean = () => true;
  // First router of each interface's current DHCP lease (dhclient source): a gateway hint.
  const leaseRouters = new Map<string, string>();
  // Event time (performance.now at handling) per event id, for event → script-start latency.
  const eventSeenAt = new Map<number, number>();

  const metrics: NetevdMetrics = registerNetevdMetrics(registry, {
    rules: () => routing?.last()?.rules.length ?? 0,
    routes: () => routing?.last()?.routes.length ?? 0,
    deadLetters: () => dispatcher?.deadLetters().length ?? 0,
    sources: () => [...sources.values()].map((s) => ({ backend: s.status.backend, up: sourceHealth(s).ok })),
    interfaces: () => table.size,
  });

  function sourceHealth(s: { handle: EventSourceHandle | null; status: SourceStatus }): { ok: boolean; detail: string | null } {
    if (s.status.state !== 'running') return { ok: false, detail: s.status.error ?? s.status.state };
    try {
      const h = s.handle?.health?.();
      return h === undefined ? { ok: true, detail: null } : { ok: h.ok, detail: h.detail };
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }

  function routedNames(c: NetevdConfig): Set<string> {
    return new Set(c.routing.interfaces.map((i) => i.name));
  }

  function scheduleReconcile(): void {
    if (routing === null) return;
    if (reconcileRunning !== null) {
      reconcilePending = true;
      return;
    }
    reconcileRunning = (async () => {
      do {
        reconcilePending = false;
        await reconcileNow();
      } while (reconcilePending && routing !== null);
    })().finally(() => {
      reconcileRunning = null;
    });
  }

  async function reconcileNow(): Promise<ReconcileResult | null> {
    const r = routing;
    if (r === null) return null;
    const result = await r.reconcile(table.list());
    metrics.routingChange('added', result.dryRun ? 0 : result.added.length);
    metrics.routingChange('removed', result.dryRun ? 0 : result.removed.length);
    metrics.routingError(result.errors.length);
    events.emit('routing', { added: result.added.length, removed: result.removed.length, errors: result.errors.length });
    return result;
  }

  function onEvent(event: EventV1): void {
    // interfaces.include / exclude hold for every backend, whether its source filters or not.
    if (event.interface !== undefined && event.data['simulated'] !== true && !accept(event.interface)) return;
    const backend = typeof event.data['backend'] === 'string' ? event.data['backend'] : event.source;
    metrics.event(event.kind, event.interface, backend);
    // Simulated events exercise scripts only: the table and the routing follow the real network.
    let changed = event.data['simulated'] === true ? false : table.apply(event);
    if (event.kind === 'lease.changed' && event.interface !== undefined && event.data['simulated'] !== true) {
      const routers = event.data['routers'];
      const router = Array.isArray(routers) && typeof routers[0] === 'string' ? routers[0] : undefined;
      if (event.states?.new === 'bound' && router !== undefined) leaseRouters.set(event.interface, router);
      else leaseRouters.delete(event.interface);
      changed = true;
    }
    events.emit('event', event);
    if (dispatcher !== null) {
      if (eventSeenAt.size > 10_000) eventSeenAt.clear();
      eventSeenAt.set(event.id, performance.now());
      dispatcher.push(event);
    }
    if (changed && current !== null && event.interface !== undefined && routedNames(current).has(event.interface)) scheduleReconcile();
    // Someone else changed routes (a new main-table gateway, say): our tables may follow it.
    else if (event.kind === 'route.changed' && event.data['simulated'] !== true && current !== null && current.routing.interfaces.length > 0) scheduleReconcile();
  }

  // Until our subscription has nothing queued (the handler is synchronous: a dequeued entry is
  // a handled one), bounded by 5 s.
  async function drainBus(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const st = listener?.subscription.stats;
      if (st === undefined || (st.queued === 0 && st.replayPending === 0) || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  async function startSources(config: NetevdConfig): Promise<void> {
    const accept = acceptOf(config);
    for (const backend of config.backends) {
      const entry = { handle: null as EventSourceHandle | null, status: { backend, state: 'starting', error: null, healthy: false, detail: null, stats: null } as SourceStatus };
      sources.set(backend, entry);
      try {
        const make = await loadSourceFactory(backend, init.sources);
        entry.handle = await make({ bus, events: factory, logger: log.child({ backend }), netns: config.netns, accept, startupEvents: true, ownProtocol: config.routing.protocol, config, ...(config.dbus.address === undefined ? {} : { busAddress: config.dbus.address }) });
        await entry.handle.start();
        entry.status.state = 'running';
        log.info({ backend }, 'source started');
      } catch (err) {
        entry.status.state = 'failed';
        entry.status.error = err instanceof Error ? err.message : String(err);
        log.error({ err, backend }, 'source failed to start');
        if (config.backends.length === 1) throw err instanceof NetevdError ? err : new NetevdError('NETEVD_SOURCE', `backend ${backend} failed to start: ${entry.status.error}`, { cause: err });
      }
    }
  }

  async function stopAll(): Promise<void> {
    await api?.close();
    api = null;
    for (const [, s] of sources) {
      try {
        await s.handle?.stop();
      } catch (err) {
        log.warn({ err, backend: s.status.backend }, 'source did not stop cleanly');
      }
      s.status.state = 'stopped';
    }
    listener?.close();
    listener = null;
    await dispatcher?.close();
    await reconcileRunning;
    dispatcher = null;
    routing = null;
  }

  const life = createLifecycle<NetevdConfig>({
    name: 'netevd',
    schema: NetevdConfigSchema,
    async start(config) {
      current = config;
      accept = acceptOf(config);
      table = createInterfaceTable();
      sources.clear();
      dispatcher = createDispatcher({
        config,
        logger: log,
        ...(init.runScript === undefined ? {} : { run: init.runScript }),
        onSpawn: (event) => {
          const t = eventSeenAt.get(event.id);
          if (t !== undefined) {
            metrics.scriptLatency((performance.now() - t) / 1000);
            eventSeenAt.delete(event.id);
          }
        },
        onRun: ({ event, state, result }) => {
          metrics.scriptRun(state, result.timedOut ? 'timeout' : result.ok ? 'ok' : 'failed', result.durationMs / 1000);
          events.emit('script', { script: result.path, state, interface: event.interface ?? null, ok: result.ok, exitCode: result.exitCode, timedOut: result.timedOut, durationMs: result.durationMs });
        },
      });
      // Only netevd's own events: on a bus shared with other apps (the supervisor's), bonding's
      // `link.state` for its tunnel links must not run netevd's scripts.
      listener = bus.listen(({ event }) => onEvent(event), { name: 'netevd-daemon', filter: { source: 'netevd' }, bufferSize: 16_384, overflow: 'drop-oldest', onError: (err) => log.error({ err }, 'event handling failed') });
      try {
        const store = await openTableStore(config.dataDir, config.routing.tables);
        leaseRouters.clear();
        routing = createPolicyRouting({ config, logger: log, store, gatewayHint: (name, family) => (family === 4 ? (leaseRouters.get(name) ?? null) : null), ...(init.ip === undefined ? {} : { ip: init.ip }) });
        await startSources(config);
        await drainBus();
        const result = await reconcileNow();
        if (result !== null && result.errors.length > 0) log.warn({ errors: result.errors }, 'routing reconcile at start had errors');
        if (config.api.enabled) {
          api = await startApi({ service: svc, config, logger: log });
          log.info({ url: api.url }, 'netevd API listening');
        }
      } catch (err) {
        await stopAll();
        throw err;
      }
    },
    async reload(next, running) {
      if (restartShape(next) !== restartShape(running)) {
        throw new NetevdError('NETEVD_RELOAD_UNSUPPORTED', 'this reload changes backends, netns, dbus, dataDir, interfaces, routing.tables, routing.protocol, api listen or ops: restart netevd to apply it');
      }
      const applyConfig = (c: NetevdConfig): void => {
        current = c;
        dispatcher?.reconfigure(c);
        routing?.reconfigure(c);
        api?.reconfigure(c);
      };
      applyConfig(next);
      const result = await reconcileNow();
      if (result !== null && result.errors.length > 0) {
        applyConfig(running);
        await reconcileNow();
        throw new NetevdError('NETEVD_COMMAND_FAILED', `reload rolled back: routing could not be applied: ${result.errors[0]}${result.errors.length > 1 ? ` (+${result.errors.length - 1} more)` : ''}`, { details: { errors: result.errors } });
      }
    },
    async stop() {
      await stopAll();
    },
  });

  const noteReload = (result: ReloadResult): void => {
    reloadState = { at: new Date().toISOString(), applied: result.applied, error: result.error === undefined ? null : { code: result.error.code, message: result.error.message, ...(result.error.details === undefined ? {} : { details: toJsonSafe(result.error.details) as JsonValue }) } };
  };

  const svc: NetevdService = {
    name: 'netevd',
    configSchema: NetevdConfigSchema,
    events,
    registry,
    bus,
    get state() {
      return life.state;
    },
    get config() {
      return life.config;
    },
    get apiUrl() {
      return api?.url ?? null;
    },
    start: life.start,
    async reload(config) {
      const result = await life.reload(config);
      noteReload(result);
      return result;
    },
    stop: life.stop,
    noteReload,
    async reloadFromSource() {
      if (init.reloadSource !== undefined) {
        const result = await init.reloadSource();
        noteReload(result);
        return result;
      }
      const error = toErrorBody(new NetevdError('NETEVD_RELOAD_UNSUPPORTED', 'this service has no config source to re-read (hosted without a config file)'));
      const result: ReloadResult = { applied: false, error };
      noteReload(result);
      return result;
    },
    interfaces: () => table.list(),
    simulate(inits) {
      if (life.state !== 'running') throw new NetevdError('NETEVD_INVALID_ARGUMENT', `simulate: netevd is ${life.state}, not running`);
      // Validate all first: a bad line publishes nothing (createEvent throws EVENTS_INVALID_EVENT).
      const made = inits.map((i) => {
        const iface = i.interface;
        return factory.create({
          kind: i.kind ?? 'link.state',
          ...(iface === undefined ? {} : { interface: iface, subject: iface }),
          states: i.states,
          ...(i.addresses === undefined ? {} : { addresses: i.addresses }),
          data: { backend: 'netlink', ...(i.data ?? {}), simulated: true, startup: false },
        });
      });
      for (const e of made) bus.publish(e);
      return made;
    },
    deadLetters: () => dispatcher?.deadLetters() ?? [],
    clearDeadLetters: () => dispatcher?.clearDeadLetters() ?? 0,
    async routingState() {
      if (routing === null) return { tables: {}, rules: [], routes: [] };
      const cur = await routing.current();
      return { tables: routing.tables(), rules: cur.rules, routes: cur.routes };
    },
    async idle() {
      await drainBus();
      await dispatcher?.idle();
      await reconcileRunning;
    },
    status(): NetevdStatus {
      const c = current;
      return {
        running: life.state === 'running' || life.state === 'reloading',
        backends: c?.backends ?? [],
        sources: [...sources.values()].map((s) => {
          const h = sourceHealth(s);
          return { ...s.status, healthy: h.ok, detail: h.detail, stats: (toJsonSafe(s.handle?.stats?.() ?? null) ?? null) as JsonValue };
        }),
        interfaces: table.list(),
        scripts: { ...(dispatcher?.stats() ?? { received: 0, filtered: 0, debounced: 0, unchanged: 0, coalesced: 0, transitions: 0, runs: 0, failures: 0, timeouts: 0, retries: 0, unsafe: 0, deadLetters: 0, running: 0 }), dir: c?.scripts.dir ?? '' },
        deadLetters: dispatcher?.deadLetters().length ?? 0,
        routing: routing === null ? null : { dryRun: c?.dryRun ?? false, tables: routing.tables(), stats: routing.stats(), last: routing.last() },
        events: { published: bus.stats().published, history: bus.stats().history.size },
        reload: reloadState,
        api: { url: api?.url ?? null },
      } as NetevdStatus;
    },
    health(): HealthReport {
      const checks: HealthCheck[] = [];
      for (const s of sources.values()) {
        const h = sourceHealth(s);
        // A source that failed to start is failing; one between reconnects is degraded.
        checks.push(healthCheck(`source:${s.status.backend}`, h.ok ? 'ok' : s.status.state === 'failed' ? 'failing' : 'degraded', h.detail ?? undefined));
      }
      const last = routing?.last();
      if (last !== null && last !== undefined) checks.push(healthCheck('routing', last.errors.length === 0 ? 'ok' : 'degraded', last.errors[0]));
      if (reloadState !== null && !reloadState.applied) checks.push(healthCheck('reload', 'degraded', `last reload refused: ${reloadState.error?.message ?? 'unknown'}`));
      return healthReport(checks);
    },
  };
  return svc;
}
