/**
 * The appliance core: one AppProcess per app, one event bus merging every app's events (plus
 * the supervisor's own `app.state` events) with history for resume, one metrics endpoint
 * (AggregatorRegistry over the children's registries + the supervisor's own), health per app,
 * and the appliance config: validate, apply (invalid → refused, nothing changes), reload.
 *
 * The admin API (api/) and the CLI are thin layers over this object; tests drive it directly.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEventBus, createEventFactory, tryParseEvent } from '@edgebox/events';
import type { EventBus } from '@edgebox/events';
import { createLogger, createMetricsRegistry, healthCheck, healthReport, redactConfig, toErrorBody } from '@edgebox/runtime';
import type { HealthCheck, HealthReport, HealthStatus, JsonValue, Logger } from '@edgebox/runtime';
import { AggregatorRegistry, Gauge, Registry } from 'prom-client';
import { stringify } from 'yaml';
import { loadAppliance, planApps, validateAppliance } from '../config/appliance-config.js';
import type { ApplianceConfig, AppPlan } from '../config/appliance-config.js';
import { ensureTunnelPki } from '../config/tunnel-pki.js';
import { APP_NAMES, EVENT_HISTORY_SIZE } from '../constants.js';
import type { AppName } from '../constants.js';
import { SupervisorError } from '../errors.js';
import { APP_RESOURCES } from './app-catalog.js';
import { AppProcess } from './app-process.js';
import type { AppState, AppStatus, ChildSpawnSpec, RestartPolicy } from './app-process.js';

/** Options of createSupervisor. */
export interface SupervisorInit {
  config: ApplianceConfig;
  /** The file the config came from: reload re-reads it, apply writes it. Without one, apply writes `<dataDir>/edgebox.yaml`. */
  configFile?: string;
  /** Default: effective uid 0. */
  isRoot?: boolean;
  /** How children are forked (default: built child.js, or child.ts through tsx when running from source). */
  spawn?: Partial<ChildSpawnSpec>;
  logger?: Logger;
  env?: Readonly<Record<string, string | undefined>>;
}

/** The appliance status (`GET /api/v1/status`, `edgebox status`). */
export type ApplianceStatus = {
  pid: number;
  uptimeSeconds: number;
  root: boolean;
  configFile: string | null;
  dataDir: string;
  api: { url: string | null; auth: 'keys' | 'local-open' };
  apps: AppStatus[];
  events: { published: number; subscribers: number };
};

/** What apply did to each app. */
export type ApplyOutcome = 'unchanged' | 'reloaded' | 'restarted' | 'started' | 'stopped' | 'disabled' | 'refused';

export type ApplyResult = {
  applied: true;
  configFile: string;
  apps: Record<string, { outcome: ApplyOutcome; error?: JsonValue; reason?: string | null }>;
  /** Supervisor settings that take effect at the next start (api address, dataDir, auth). */
  restartRequired: string[];
};

/** The appliance core (see the file comment). */
export interface Supervisor {
  readonly bus: EventBus;
  readonly registry: Registry;
  readonly config: ApplianceConfig;
  readonly configFile: string | null;
  readonly isRoot: boolean;
  /** Set by the API once it listens. */
  apiUrl: string | null;
  /** Set by the API: whether requests need keys. */
  authMode: 'keys' | 'local-open';
  start(): Promise<void>;
  stop(deadlineMs?: number): Promise<void>;
  status(): ApplianceStatus;
  apps(): AppStatus[];
  app(name: string): AppStatus;
  appStatus(name: string): Promise<JsonValue>;
  startApp(name: string): Promise<AppStatus>;
  stopApp(name: string): Promise<AppStatus>;
  restartApp(name: string): Promise<AppStatus>;
  /** Re-read the config source and reload one app (or all with no name). */
  reload(name?: string): Promise<ApplyResult>;
  resource(app: string, resource: string, query?: Record<string, string>): Promise<JsonValue>;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** liveness: an app that is down degrades; readiness: every enabled app running and ready. */
  health(): Promise<{ live: HealthReport; ready: HealthReport }>;
  /** The running config with secrets redacted. */
  redactedConfig(): JsonValue;
  /** Validate a whole document; throws RUNTIME_CONFIG_INVALID with every issue. */
  validate(document: unknown): Promise<ApplianceConfig>;
  /** Validate, write and apply a whole document; an invalid one changes nothing. */
  apply(document: unknown): Promise<ApplyResult>;
  /** Resolves when the app reaches one of the states (tests, the CLI). */
  waitFor(name: AppName, states: AppState[], timeoutMs?: number): Promise<AppStatus>;
}

/**
 * The default fork spec: dist/hosting/child.js with plain node; from TypeScript sources
 * (vitest, tsx) the .ts child through tsx with the @edgebox/source condition.
 */
export function defaultSpawnSpec(): ChildSpawnSpec {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    return { entry: join(dirname(here), 'child.ts'), execArgv: ['--conditions=@edgebox/source', '--import', 'tsx'], stdio: 'inherit' };
  }
  return { entry: join(dirname(here), 'child.js'), execArgv: [], stdio: 'inherit' };
}

function policyOf(config: ApplianceConfig): RestartPolicy {
  return { ...config.supervisor.restart };
}

/**
 * Creates the appliance core (nothing runs until start()).
 *
 * @example
 * const sup = createSupervisor({ config: await loadAppliance({ file: 'edgebox.yaml' }) });
 * await sup.start();
 * console.log(sup.apps().map((a) => `${a.name} ${a.state}`));
 * await sup.stop();
 */
export function createSupervisor(init: SupervisorInit): Supervisor {
  const log = init.logger ?? createLogger({ app: 'supervisor' });
  const isRoot = init.isRoot ?? process.geteuid?.() === 0;
  const spawn: ChildSpawnSpec = { ...defaultSpawnSpec(), ...init.spawn };
  const bus = createEventBus({ historySize: EVENT_HISTORY_SIZE });
  const ownEvents = createEventFactory({ source: 'supervisor' });
  const registry = createMetricsRegistry({ app: 'supervisor', defaultMetrics: true });
  const startedAt = Date.now();
  let config = init.config;
  let configFile = init.configFile ?? null;
  let badEvents = 0;

  const hooks = {
    onEvent(app: AppName, raw: unknown): void {
      const parsed = tryParseEvent(raw);
      if (!parsed.ok) {
        badEvents++;
        return;
      }
      bus.publish(parsed.event);
      void app;
    },
    onState(app: AppName, from: AppState, to: AppState, reason: string | null): void {
      const severity = to === 'crash-loop' ? 'error' : to === 'backoff' ? 'warning' : 'info';
      bus.publish(ownEvents.create({ kind: 'app.state', severity, subject: app, states: { old: from, new: to }, data: { app, reason } }));
    },
    onLog(app: AppName, level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>): void {
      log[level]({ child: app, ...detail }, message);
    },
  };

  const plans = (c: ApplianceConfig): Map<AppName, AppPlan> => new Map(planApps(c, { isRoot }).map((p) => [p.app, p]));
  const initialPlans = plans(config);
  const procs = new Map<AppName, AppProcess>(
    APP_NAMES.map((app) => [app, new AppProcess(app, { config: config.documents[app], policy: policyOf(config), spawn, hooks, disabledReason: initialPlans.get(app)!.reason })]),
  );

  const appsRunning = new Gauge({
    name: 'edgebox_supervisor_apps',
    help: 'Apps by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of procs.values()) this.inc({ state: p.state });
    },
  });
  const restarts = new Gauge({
    name: 'edgebox_supervisor_app_restarts',
    help: 'Restarts after a crash, per app, since the supervisor started',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      for (const p of procs.values()) this.set({ name: p.name }, p.restarts);
    },
  });
  new Gauge({
    name: 'edgebox_supervisor_events_dropped',
    help: 'Child messages that were not valid events',
    registers: [registry],
    collect() {
      this.set(badEvents);
    },
  });
  void appsRunning;
  void restarts;

  const proc = (name: string): AppProcess => {
    const p = (APP_NAMES as readonly string[]).includes(name) ? procs.get(name as AppName) : undefined;
    if (p === undefined) throw new SupervisorError('SUPERVISOR_NOT_FOUND', `no app "${name}": expected one of ${APP_NAMES.join(', ')}`, { details: { app: name } });
    return p;
  };

  /** Files an app needs before its first start (the default config's tunnel PKI). */
  const prepare = async (app: AppName, c: ApplianceConfig): Promise<void> => {
    await mkdir(c.supervisor.dataDir, { recursive: true, mode: 0o700 });
    if (app === 'tunnel') {
      const t = c.apps.tunnel as { role: 'source' | 'dest'; pki: { ca: string; cert: string; key: string } };
      if (await ensureTunnelPki(t.pki, t.role, c.supervisor.dataDir)) log.info({ dir: dirname(t.pki.ca) }, 'generated a loopback tunnel PKI (first start)');
    }
  };

  const startOne = async (p: AppProcess): Promise<void> => {
    try {
      await prepare(p.name, config);
      await p.start();
    } catch (err) {
      log.error({ app: p.name, err: toErrorBody(err) }, `${p.name} failed to start`);
    }
  };

  const writeConfig = async (document: unknown): Promise<string> => {
    const file = configFile ?? join(config.supervisor.dataDir, 'edgebox.yaml');
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, stringify(document), { mode: 0o600 });
    await rename(tmp, file);
    configFile = file;
    return file;
  };

  /** Move every app from the running config to `next` (already validated). */
  const transition = async (next: ApplianceConfig, only?: AppName): Promise<ApplyResult['apps']> => {
    const nextPlans = plans(next);
    const out: ApplyResult['apps'] = {};
    const deadline = next.supervisor.stopDeadlineMs;
    for (const app of APP_NAMES) {
      if (only !== undefined && app !== only) continue;
      const p = procs.get(app)!;
      const plan = nextPlans.get(app)!;
      const before = JSON.stringify(config.documents[app] ?? null);
      const after = JSON.stringify(next.documents[app] ?? null);
      p.policy = policyOf(next);
      if (!plan.enabled) {
        const was = p.state;
        await p.setEnabled(plan.reason, next.documents[app], deadline);
        out[app] = { outcome: was === 'disabled' ? 'unchanged' : 'disabled', reason: plan.reason };
        continue;
      }
      if (p.state === 'disabled') {
        await p.setEnabled(null, next.documents[app], deadline);
        await prepare(app, next);
        try {
          await p.start();
          out[app] = { outcome: 'started' };
        } catch (err) {
          out[app] = { outcome: 'refused', error: toErrorBody(err) as unknown as JsonValue };
        }
        continue;
      }
      if (before === after && only === undefined) {
        out[app] = { outcome: 'unchanged' };
        continue;
      }
      if (p.state !== 'running') {
        // not running (stopped by hand, backing off): the new config is used at its next start
        p.config = next.documents[app];
        out[app] = { outcome: 'unchanged', reason: `${app} is ${p.state}: the new config applies at its next start` };
        continue;
      }
      const result = (await p.request('reload', { config: next.documents[app] }).catch((err: unknown) => ({ applied: false, error: toErrorBody(err) }))) as {
        applied: boolean;
        error?: { code: string };
      };
      if (result.applied) {
        p.config = next.documents[app];
        out[app] = { outcome: 'reloaded' };
      } else if (result.error?.code.endsWith('_RELOAD_UNSUPPORTED') === true) {
        // only a restart can change this part of the app: do it with the new config
        p.config = next.documents[app];
        await p.stop(deadline);
        await prepare(app, next);
        try {
          await p.start();
          out[app] = { outcome: 'restarted' };
        } catch (err) {
          out[app] = { outcome: 'refused', error: toErrorBody(err) as unknown as JsonValue };
        }
      } else {
        out[app] = { outcome: 'refused', error: (result.error ?? null) as unknown as JsonValue };
      }
    }
    return out;
  };

  const restartRequired = (next: ApplianceConfig): string[] => {
    const keys: string[] = [];
    const a = config.supervisor;
    const b = next.supervisor;
    if (a.api.host !== b.api.host || a.api.port !== b.api.port) keys.push('supervisor.api');
    if (a.auth.requireKeys !== b.auth.requireKeys) keys.push('supervisor.auth');
    if (a.dataDir !== b.dataDir) keys.push('supervisor.dataDir');
    return keys;
  };

  const sup: Supervisor = {
    bus,
    registry,
    get config() {
      return config;
    },
    get configFile() {
      return configFile;
    },
    isRoot,
    apiUrl: null,
    authMode: 'local-open',
    async start() {
      for (const p of procs.values()) {
        if (p.state !== 'disabled') await startOne(p);
        else log.info({ app: p.name }, `${p.name} ${p.status().reason ?? 'disabled'}`);
      }
    },
    async stop(deadlineMs) {
      const ms = deadlineMs ?? config.supervisor.stopDeadlineMs;
      await Promise.all([...procs.values()].map((p) => p.stop(ms)));
      bus.close();
    },
    status() {
      const stats = bus.stats();
      return {
        pid: process.pid,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        root: isRoot,
        configFile,
        dataDir: config.supervisor.dataDir,
        api: { url: sup.apiUrl, auth: sup.authMode },
        apps: [...procs.values()].map((p) => p.status()),
        events: { published: stats.published, subscribers: stats.subscribers },
      };
    },
    apps() {
      return [...procs.values()].map((p) => p.status());
    },
    app(name) {
      return proc(name).status();
    },
    async appStatus(name) {
      const p = proc(name);
      const base = p.status() as unknown as JsonValue;
      if (p.state !== 'running') return { ...(base as object), service: null } as JsonValue;
      const svc = await p.request('status');
      return { ...(base as object), service: svc } as JsonValue;
    },
    async startApp(name) {
      const p = proc(name);
      await prepare(p.name, config);
      await p.start();
      return p.status();
    },
    async stopApp(name) {
      const p = proc(name);
      if (p.state === 'disabled') throw new SupervisorError('SUPERVISOR_APP_DISABLED', `${name} is ${p.status().reason ?? 'disabled'}`, { details: { app: name } });
      await p.stop(config.supervisor.stopDeadlineMs);
      return p.status();
    },
    async restartApp(name) {
      const p = proc(name);
      if (p.state === 'disabled') throw new SupervisorError('SUPERVISOR_APP_DISABLED', `${name} is ${p.status().reason ?? 'disabled'}`, { details: { app: name } });
      await p.stop(config.supervisor.stopDeadlineMs);
      await prepare(p.name, config);
      await p.start();
      return p.status();
    },
    async reload(name) {
      const only = name === undefined ? undefined : proc(name).name;
      // re-read the source: the file when there is one, else the running document
      const next = configFile === null ? await validateAppliance(config.document, { env: init.env }) : await loadAppliance({ file: configFile, ...(init.env === undefined ? {} : { env: init.env }) });
      const apps = await transition(next, only);
      const required = restartRequired(next);
      if (only === undefined) config = { ...next, supervisor: { ...next.supervisor, api: config.supervisor.api, auth: config.supervisor.auth, dataDir: config.supervisor.dataDir } };
      else config = { ...config, apps: { ...config.apps, [only]: next.apps[only] }, documents: { ...config.documents, [only]: next.documents[only] } };
      return { applied: true, configFile: configFile ?? '(embedded default)', apps, restartRequired: required };
    },
    async resource(app, resource, query = {}) {
      const p = proc(app);
      if (!(APP_RESOURCES[p.name] as readonly string[]).includes(resource)) {
        throw new SupervisorError('SUPERVISOR_NOT_FOUND', `${app} has no resource "${resource}": expected one of ${APP_RESOURCES[p.name].join(', ')}`);
      }
      if (p.state === 'disabled') throw new SupervisorError('SUPERVISOR_APP_DISABLED', `${app} is ${p.status().reason ?? 'disabled'}`, { details: { app } });
      if (p.state !== 'running') throw new SupervisorError('SUPERVISOR_APP_STATE', `${app} is ${p.state}: its ${resource} are not available`, { details: { app, state: p.state } });
      return p.request('resource', { name: resource, query });
    },
    async metrics() {
      const running = [...procs.values()].filter((p) => p.state === 'running');
      const parts = await Promise.all(running.map((p) => p.request('metrics').catch(() => null)));
      const children: object[] = parts.filter((x): x is JsonValue[] => Array.isArray(x));
      const merged = Registry.merge([AggregatorRegistry.aggregate(children), registry]);
      return { contentType: merged.contentType, text: await merged.metrics() };
    },
    async health() {
      const live: HealthCheck[] = [];
      const ready: HealthCheck[] = [];
      await Promise.all(
        [...procs.values()].map(async (p) => {
          const st = p.status();
          if (p.state === 'disabled') {
            live.push(healthCheck(p.name, 'ok', st.reason ?? 'disabled', { readiness: false }));
            ready.push(healthCheck(p.name, 'ok', st.reason ?? 'disabled', { readiness: false }));
            return;
          }
          if (p.state !== 'running') {
            const msg = `${p.state}${st.reason === null ? '' : `: ${st.reason}`}`;
            live.push(healthCheck(p.name, 'degraded', msg));
            ready.push(healthCheck(p.name, 'failing', msg));
            return;
          }
          try {
            const h = (await p.request('health')) as unknown as HealthReport;
            const failed = h.checks.filter((c) => c.status !== 'ok').map((c) => `${c.name}: ${c.message ?? c.status}`);
            const msg = failed.length === 0 ? `running (pid ${st.pid})` : failed.join('; ');
            live.push(healthCheck(p.name, h.status === 'failing' ? 'degraded' : h.status, msg));
            ready.push(healthCheck(p.name, h.ready ? (h.status === 'failing' ? 'failing' : h.status) : 'failing', msg));
          } catch (err) {
            live.push(healthCheck(p.name, 'degraded', toErrorBody(err).message));
            ready.push(healthCheck(p.name, 'failing', toErrorBody(err).message));
          }
        }),
      );
      const order = (a: HealthCheck, b: HealthCheck): number => APP_NAMES.indexOf(a.name as AppName) - APP_NAMES.indexOf(b.name as AppName);
      return { live: healthReport(live.sort(order)), ready: healthReport(ready.sort(order)) };
    },
    redactedConfig() {
      return redactConfig(config.document) as JsonValue;
    },
    validate(document) {
      return validateAppliance(document, { env: init.env });
    },
    async apply(document) {
      const next = await validateAppliance(document, { label: 'config apply' }); // throws: nothing changed
      const file = await writeConfig(document);
      const apps = await transition(next);
      const required = restartRequired(next);
      config = { ...next, supervisor: { ...next.supervisor, api: config.supervisor.api, auth: config.supervisor.auth, dataDir: config.supervisor.dataDir } };
      return { applied: true, configFile: file, apps, restartRequired: required };
    },
    waitFor(name, states, timeoutMs = 30_000) {
      const p = proc(name);
      return new Promise<AppStatus>((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const tick = (): void => {
          if (states.includes(p.state)) return resolve(p.status());
          if (Date.now() > deadline) return reject(new SupervisorError('SUPERVISOR_APP_STATE', `${name} did not reach ${states.join('|')} within ${timeoutMs} ms (is ${p.state})`));
          setTimeout(tick, 25);
        };
        tick();
      });
    },
  };
  return sup;
}

/** A HealthStatus as a check result for an app that is down (exported for the CLI's table). */
export const APP_DOWN_STATUS: HealthStatus = 'degraded';
