/**
 * The Service contract (ARCHITECTURE.md rule 3): what every app implements so that its CLI
 * (`runService`), the supervisor and the tests can host it the same way. `createLifecycle`
 * (lifecycle.ts) implements the start/reload/stop half; `describeServiceContract`
 * (`@edgebox/runtime/testing`) checks an implementation.
 */
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { ErrorBody } from './errors.js';
import type { HealthReport } from './health.js';
import type { LifecycleState } from './lifecycle-states.js';
import type { TypedEmitter } from './typed-events.js';

/** Plain JSON: what `status()` returns and what crosses IPC. Use `type` aliases (not interfaces) for status shapes. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The outcome of `reload`: applied, or refused with the reason while the old config keeps running. */
export interface ReloadResult {
  applied: boolean;
  /** Why the reload was refused (`RUNTIME_CONFIG_INVALID` with issues, `RUNTIME_STATE`, the service's own code). */
  error?: ErrorBody;
}

/** Options of `Service.start`. */
export interface StartOptions {
  /** Aborts a start in progress (the start hook sees it; a start that then fails is RUNTIME_START_ABORTED). */
  signal?: AbortSignal;
}

/** Options of `Service.stop`. */
export interface StopOptions {
  /** Time allowed for the graceful stop (default 10 s); past it: RUNTIME_STOP_TIMEOUT. */
  deadlineMs?: number;
}

/**
 * One edgebox app (or component) as a library.
 *
 * - `start(config)` and `reload(config)` take the config as data (the input shape: what a file,
 *   an env override or IPC carries) and validate it with `configSchema` first.
 * - `reload` never throws: a refused reload keeps the running config and says why.
 * - `start`/`stop` are idempotent; concurrent calls share one promise.
 * - `status()` is JSON; `health()` says liveness (`status`) and readiness (`ready`).
 * - `registry` holds only this service's metrics, named `edgebox_<name>_<what>_<unit>`.
 *
 * @example
 * const service = createDemoService();
 * await service.start({ intervalMs: 500 });
 * const r = await service.reload({ intervalMs: -1 }); // { applied: false, error: { code: 'RUNTIME_CONFIG_INVALID', ... } }
 * await service.stop({ deadlineMs: 2000 });
 */
export interface Service<Config, Status extends JsonValue = JsonValue, Events extends object = Record<string, unknown>> {
  /** The app name: `demo`, `tunnel`. Also its metric prefix and config section. */
  readonly name: string;
  /** The zod schema of this service's config section. */
  readonly configSchema: z.ZodType<Config>;
  /** Typed events the service emits. */
  readonly events: TypedEmitter<Events>;
  /** This service's metrics (never the global registry). */
  readonly registry: Registry;
  /** Where the lifecycle is. */
  readonly state: LifecycleState;
  /** The running (validated) config, undefined before the first start. */
  readonly config: Config | undefined;
  start(config: unknown, options?: StartOptions): Promise<void>;
  reload(config: unknown): Promise<ReloadResult>;
  stop(options?: StopOptions): Promise<void>;
  status(): Status;
  health(): HealthReport | Promise<HealthReport>;
}

/** Any service, for hosts that do not care about its config or event types. */
export type AnyService = Service<unknown, JsonValue, object>;
