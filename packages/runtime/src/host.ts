/**
 * runService: what every app CLI calls to host its Service as a process.
 *
 *   1. load + validate the config (file or embedded default, env overrides, the app's section)
 *   2. start the ops server (/metrics /health /ready /status): up before the service so a
 *      port clash fails early and /ready says "not yet" while starting
 *   3. start the service
 *   4. install signals: SIGHUP re-reads the config and reloads (a bad file keeps the running
 *      config and logs why), SIGTERM/SIGINT stop within the deadline and exit
 *
 * The returned host has `reload()` and `stop()` for callers that drive it themselves.
 */
import type { Counter } from 'prom-client';
import { formatConfigError, loadConfig } from './config.js';
import type { LoadedConfig } from './config.js';
import { OPS_HOST, OPS_PORT, STOP_DEADLINE_MS } from './constants.js';
import { toErrorBody, toJsonSafe } from './errors.js';
import { combineHealth, healthCheck, healthReport } from './health.js';
import type { HealthReport } from './health.js';
import { lifecycleHealth } from './lifecycle.js';
import { createLogger, newCorrelationId } from './logger.js';
import type { Logger } from './logger.js';
import { createCounter, createMetricsRegistry } from './metrics.js';
import { createOpsServer } from './ops-server.js';
import type { OpsServer } from './ops-server.js';
import { redactConfig } from './redact.js';
import type { AnyService, JsonValue, ReloadResult, StopOptions } from './service.js';
import { handleSignals } from './signals.js';
import type { SignalHandle, SignalTarget } from './signals.js';

/** Options of {@link runService}. */
export interface RunServiceInit {
  service: AnyService;
  /** Config file (`--config`); without it `defaultConfig` (or `{}`) is used. */
  configFile?: string;
  /** The embedded default config document. */
  defaultConfig?: unknown;
  /** Default: `createLogger({ app: service.name })`. */
  logger?: Logger;
  /** Ops server port (default 9464; 0 = any free port). */
  opsPort?: number;
  /** Ops server address (default 127.0.0.1). */
  opsHost?: string;
  /** Environment for overrides (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Config section the file stands for (default: the service name); false: no section. */
  section?: string | false;
  /** Stop deadline (default 10 s). */
  deadlineMs?: number;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (default true). */
  signals?: boolean;
  /** Exit function for the signal handlers (default process.exit). */
  exit?: (code: number) => void;
  /** Signal source (default process; tests pass an EventEmitter). */
  signalTarget?: SignalTarget;
  /** Serve prom-client's default process metrics too (default true). */
  defaultMetrics?: boolean;
}

/** A hosted service with its ops server and signal handlers. */
export interface ServiceHost {
  readonly service: AnyService;
  readonly logger: Logger;
  readonly ops: OpsServer;
  /** Ops base URL: `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly configFile: string | undefined;
  /** Re-reads the config source and reloads the service; never throws. */
  reload(): Promise<ReloadResult>;
  /** Stops the service within the deadline, then the ops server and signal handlers. Idempotent. */
  stop(options?: StopOptions): Promise<void>;
}

/**
 * Hosts a service: config, ops server, start, signals.
 *
 * @example
 * import '@edgebox/runtime/polyfill';
 * const host = await runService({ service: createTunnelService(), configFile: args.config, opsPort: 9465 });
 * console.log(`metrics: ${host.url}/metrics`);
 * // SIGTERM → host.stop() → exit 0
 */
export async function runService(init: RunServiceInit): Promise<ServiceHost> {
  const { service } = init;
  const log = init.logger ?? createLogger({ app: service.name, env: init.env });
  const deadlineMs = init.deadlineMs ?? STOP_DEADLINE_MS;
  const section = init.section === false ? undefined : (init.section ?? service.name);

  const load = (): Promise<LoadedConfig<unknown>> =>
    loadConfig({
      schema: service.configSchema,
      ...(init.configFile !== undefined ? { file: init.configFile } : { value: init.defaultConfig ?? {} }),
      env: init.env ?? process.env,
      section,
    });

  const loaded = await load();
  if (loaded.overrides.length > 0) {
    log.info({ overrides: loaded.overrides.map((o) => `${o.name} -> ${o.path}`) }, 'config overridden from the environment');
  }

  const hostRegistry = createMetricsRegistry({ app: service.name, defaultMetrics: init.defaultMetrics ?? true });
  const reloads: Counter<'result'> = createCounter(hostRegistry, {
    name: `edgebox_${service.name}_config_reloads_total`,
    help: 'Config reloads by result (applied, refused)',
    labelNames: ['result'],
  });
  const health = async (): Promise<HealthReport> => {
    let own: HealthReport;
    try {
      own = await service.health();
    } catch (err) {
      own = healthReport([healthCheck('service', 'failing', err instanceof Error ? err.message : String(err))]);
    }
    return combineHealth(lifecycleHealth(service.state), own);
  };

  const ops = await createOpsServer({
    host: init.opsHost ?? OPS_HOST,
    port: init.opsPort ?? OPS_PORT,
    registries: [service.registry, hostRegistry],
    health,
    status: () =>
      toJsonSafe({
        app: service.name,
        pid: process.pid,
        state: service.state,
        configFile: init.configFile ?? null,
        config: redactConfig(service.config) ?? null,
        service: service.status(),
      }) as JsonValue,
    onError: (err, path) => log.error({ err, path }, 'ops endpoint failed'),
  });

  try {
    await service.start(loaded.document);
  } catch (err) {
    log.error({ err }, `${service.name} failed to start`);
    await service.stop({ deadlineMs }).catch(() => undefined);
    await ops.close();
    throw err;
  }

  let signals: SignalHandle | undefined;
  let stopping: Promise<void> | undefined;

  const host: ServiceHost = {
    service,
    logger: log,
    ops,
    url: ops.url,
    configFile: init.configFile,
    async reload() {
      const rlog = log.child({ correlationId: newCorrelationId() });
      rlog.info({ configFile: init.configFile ?? null }, 'reloading config');
      let next: LoadedConfig<unknown>;
      try {
        next = await load();
      } catch (err) {
        reloads.inc({ result: 'refused' });
        rlog.error({ reason: formatConfigError(err) }, 'reload refused: keeping the running config');
        return { applied: false, error: toErrorBody(err) };
      }
      const result = await service.reload(next.document);
      reloads.inc({ result: result.applied ? 'applied' : 'refused' });
      if (result.applied) rlog.info('reload applied');
      else rlog.error({ reason: result.error === undefined ? 'unknown' : formatConfigError(result.error) }, 'reload refused: keeping the running config');
      return result;
    },
    stop(options = {}) {
      stopping ??= (async () => {
        let failure: unknown;
        try {
          await service.stop({ deadlineMs: options.deadlineMs ?? deadlineMs });
        } catch (err) {
          failure = err;
          log.error({ err }, `${service.name} did not stop cleanly`);
        }
        await ops.close();
        signals?.dispose();
        if (failure !== undefined) throw failure;
        log.info(`${service.name} stopped`);
      })();
      return stopping;
    },
  };

  if (init.signals ?? true) {
    signals = handleSignals({
      deadlineMs,
      onStop: ({ deadlineMs: ms }) => host.stop({ deadlineMs: ms }),
      onReload: async () => {
        await host.reload();
      },
      exit: init.exit,
      logger: log,
      target: init.signalTarget,
    });
  }

  log.info({ ops: ops.url, configFile: init.configFile ?? null }, `${service.name} started`);
  return host;
}
