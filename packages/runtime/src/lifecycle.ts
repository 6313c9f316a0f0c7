/**
 * createLifecycle: the start/reload/stop half of a Service, so each app writes only its three
 * hooks. It validates configs, enforces the transitions of lifecycle-states.ts, makes
 * start/stop idempotent (concurrent calls share one promise), serialises reloads, keeps the
 * running config when a reload is refused, and holds stop to a deadline through an AbortSignal.
 */
import type { z } from 'zod';
import { validateConfig } from './config.js';
import { STOP_DEADLINE_MS } from './constants.js';
import { RuntimeError, toErrorBody } from './errors.js';
import type { ErrorBody } from './errors.js';
import { healthCheck, healthReport } from './health.js';
import type { HealthReport } from './health.js';
import { canTransition } from './lifecycle-states.js';
import type { LifecycleState } from './lifecycle-states.js';
import type { ReloadResult, StartOptions, StopOptions } from './service.js';
import { createTypedEmitter } from './typed-events.js';
import type { TypedEmitter } from './typed-events.js';

/** The three hooks an app writes; the lifecycle does validation, states and deadlines. */
export interface LifecycleHooks<Config> {
  /** Service name, used in messages. */
  name: string;
  /** Every config passed to start/reload is validated with it first. */
  schema: z.ZodType<Config>;
  /** Acquire resources and begin work. Honour `signal`: a stop during start aborts it. */
  start(config: Config, ctx: { signal: AbortSignal }): void | Promise<void>;
  /**
   * Switch to `next` while running. Throw to refuse: the lifecycle keeps `current` as the
   * running config, so undo anything half-applied before throwing.
   */
  reload(next: Config, current: Config): void | Promise<void>;
  /** Drain and release. `signal` aborts at the deadline; stop what you can then. */
  stop(ctx: { signal: AbortSignal; deadlineMs: number }): void | Promise<void>;
  /** May start() follow a completed stop()? (default true) */
  restartable?: boolean;
  /** Stop deadline when stop() is called without one (default 10 s). */
  stopDeadlineMs?: number;
}

/** Events of a lifecycle: every state change, every reload outcome. */
export interface LifecycleEvents {
  state: { from: LifecycleState; to: LifecycleState; error?: ErrorBody };
  reload: ReloadResult;
}

/** JSON view of a lifecycle for status pages. */
export type LifecycleSnapshot = {
  name: string;
  state: LifecycleState;
  startedAt: string | null;
  stoppedAt: string | null;
  reloads: { applied: number; refused: number };
  lastError: { code: string; message: string } | null;
};

/** The start/reload/stop half of a Service (see {@link createLifecycle}). */
export interface Lifecycle<Config> {
  readonly name: string;
  readonly state: LifecycleState;
  /** The running config (kept after stop; undefined before the first start). */
  readonly config: Config | undefined;
  readonly events: TypedEmitter<LifecycleEvents>;
  start(config: unknown, options?: StartOptions): Promise<void>;
  reload(config: unknown): Promise<ReloadResult>;
  stop(options?: StopOptions): Promise<void>;
  /** Reports a fault while running (→ failed). False when not running/reloading. */
  fail(error: unknown): boolean;
  snapshot(): LifecycleSnapshot;
}

/**
 * Creates a lifecycle from three hooks.
 *
 * @example
 * const life = createLifecycle({
 *   name: 'demo',
 *   schema: DemoConfigSchema,
 *   start: (config) => { timer = setInterval(tick, config.intervalMs) },
 *   reload: (next) => { clearInterval(timer); timer = setInterval(tick, next.intervalMs) },
 *   stop: () => clearInterval(timer),
 * });
 * await life.start({ intervalMs: 1000 });
 * await life.reload({ intervalMs: 0 }); // { applied: false, error: { code: 'RUNTIME_CONFIG_INVALID', ... } }
 * await Promise.all([life.stop(), life.stop()]); // one stop
 */
export function createLifecycle<Config>(hooks: LifecycleHooks<Config>): Lifecycle<Config> {
  const { name } = hooks;
  const restartable = hooks.restartable ?? true;
  const defaultDeadline = hooks.stopDeadlineMs ?? STOP_DEADLINE_MS;
  assertDeadline(defaultDeadline);
  const events = createTypedEmitter<LifecycleEvents>();

  let state: LifecycleState = 'idle';
  let config: Config | undefined;
  let startedAt: Date | null = null;
  let stoppedAt: Date | null = null;
  let lastError: ErrorBody | undefined;
  const reloads = { applied: 0, refused: 0 };
  let startPromise: Promise<void> | undefined;
  let startController: AbortController | undefined;
  let stopPromise: Promise<void> | undefined;
  let reloadChain: Promise<unknown> = Promise.resolve();

  // read through a function so TypeScript does not narrow `state` across awaits (fail() may move it)
  const now = (): LifecycleState => state;
  const move = (to: LifecycleState, error?: unknown): void => {
    const from = state;
    if (!canTransition(from, to)) {
      throw new RuntimeError('RUNTIME_STATE', `${name}: illegal lifecycle transition ${from} -> ${to}`, { details: { from, to } });
    }
    state = to;
    const payload: LifecycleEvents['state'] = { from, to };
    if (error !== undefined) {
      lastError = toErrorBody(error);
      payload.error = lastError;
    }
    events.emit('state', payload);
  };

  const start = (input: unknown, options: StartOptions = {}): Promise<void> => {
    if (stopPromise !== undefined || state === 'stopping') return Promise.reject(stateError('start', 'stopping'));
    if (state === 'running' || state === 'reloading') return Promise.resolve();
    if (startPromise !== undefined) return startPromise;
    if (state === 'stopped' && !restartable) return Promise.reject(stateError('start', state, 'it cannot be restarted'));
    if (options.signal?.aborted === true) return Promise.reject(abortedError(options.signal.reason));

    const controller = new AbortController();
    const external = options.signal;
    const onExternalAbort = (): void => controller.abort(external?.reason);
    external?.addEventListener('abort', onExternalAbort, { once: true });
    startController = controller;

    const run = async (): Promise<void> => {
      const parsed = await validateConfig(hooks.schema, input, { label: `${name} config` });
      if (controller.signal.aborted) throw abortedError(controller.signal.reason);
      move('starting');
      try {
        await hooks.start(parsed, { signal: controller.signal });
      } catch (err) {
        const error = controller.signal.aborted ? abortedError(controller.signal.reason, err) : err;
        move('failed', error);
        throw error;
      }
      config = parsed;
      startedAt = new Date();
      stoppedAt = null;
      lastError = undefined;
      move('running');
    };
    const promise = run().finally(() => {
      external?.removeEventListener('abort', onExternalAbort);
      if (startPromise === promise) {
        startPromise = undefined;
        startController = undefined;
      }
    });
    startPromise = promise;
    return promise;
  };

  const doReload = async (input: unknown): Promise<ReloadResult> => {
    if (state !== 'running') return refuse(stateError('reload', state));
    let parsed: Config;
    try {
      parsed = await validateConfig(hooks.schema, input, { label: `${name} config` });
    } catch (err) {
      return refuse(err);
    }
    if (state !== 'running') return refuse(stateError('reload', state));
    const current = config as Config;
    move('reloading');
    try {
      await hooks.reload(parsed, current);
    } catch (err) {
      if (now() === 'reloading') move('running');
      return refuse(err);
    }
    if (now() !== 'reloading') return refuse(stateError('reload', state, 'it failed during the reload'));
    config = parsed;
    move('running');
    reloads.applied++;
    const result: ReloadResult = { applied: true };
    events.emit('reload', result);
    return result;
  };

  const refuse = (err: unknown): ReloadResult => {
    reloads.refused++;
    const result: ReloadResult = { applied: false, error: toErrorBody(err) };
    events.emit('reload', result);
    return result;
  };

  const reload = (input: unknown): Promise<ReloadResult> => {
    const next = reloadChain.then(() => doReload(input));
    reloadChain = next.catch(() => undefined);
    return next;
  };

  const stop = (options: StopOptions = {}): Promise<void> => {
    if (stopPromise !== undefined) return stopPromise;
    if (startPromise === undefined && (state === 'idle' || state === 'stopped')) return Promise.resolve();
    const deadlineMs = options.deadlineMs ?? defaultDeadline;
    try {
      assertDeadline(deadlineMs);
    } catch (err) {
      return Promise.reject(err);
    }

    const run = async (): Promise<void> => {
      const deadline = new AbortController();
      const timer = setTimeout(() => {
        deadline.abort(new RuntimeError('RUNTIME_STOP_TIMEOUT', `${name} did not stop within ${deadlineMs} ms`, { details: { deadlineMs, state } }));
      }, deadlineMs);
      try {
        startController?.abort(new RuntimeError('RUNTIME_START_ABORTED', `${name}: stop requested during start`));
        await settleWithin(startPromise, deadline.signal);
        await settleWithin(reloadChain, deadline.signal);
        if (state === 'idle' || state === 'stopped') return; // the start never got going
        move('stopping');
        try {
          await settleWithin(Promise.resolve().then(() => hooks.stop({ signal: deadline.signal, deadlineMs })), deadline.signal, true);
        } catch (err) {
          move('failed', err);
          throw err;
        }
        stoppedAt = new Date();
        move('stopped');
      } catch (err) {
        // the deadline passed while waiting for start/reload to settle
        if (state === 'starting' || state === 'running' || state === 'reloading') move('failed', err);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    };
    const promise = run().finally(() => {
      if (stopPromise === promise) stopPromise = undefined;
    });
    stopPromise = promise;
    return promise;
  };

  return {
    name,
    get state() {
      return state;
    },
    get config() {
      return config;
    },
    events,
    start,
    reload,
    stop,
    fail(error) {
      if (state !== 'running' && state !== 'reloading') return false;
      move('failed', error);
      return true;
    },
    snapshot() {
      return {
        name,
        state,
        startedAt: startedAt?.toISOString() ?? null,
        stoppedAt: stoppedAt?.toISOString() ?? null,
        reloads: { ...reloads },
        lastError: lastError === undefined ? null : { code: lastError.code, message: lastError.message },
      };
    },
  };

  function stateError(action: string, current: LifecycleState, why?: string): RuntimeError {
    return new RuntimeError('RUNTIME_STATE', `cannot ${action} ${name} while ${current}${why === undefined ? '' : `: ${why}`}`, {
      details: { action, state: current },
    });
  }

  function abortedError(reason: unknown, cause?: unknown): RuntimeError {
    if (reason instanceof RuntimeError && reason.code === 'RUNTIME_START_ABORTED' && cause === undefined) return reason;
    const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
    return new RuntimeError('RUNTIME_START_ABORTED', `${name}: start aborted (${why})`, { cause: cause ?? reason });
  }
}

/**
 * Waits for `promise` to settle, or rejects with the signal's reason when it aborts first.
 * `rethrow` passes the promise's own rejection on; otherwise it is ignored (start/reload
 * failures are reported by their own calls).
 */
function settleWithin(promise: Promise<unknown> | undefined, signal: AbortSignal, rethrow = false): Promise<void> {
  if (promise === undefined) return Promise.resolve();
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (rethrow) reject(err as Error);
        else resolve();
      },
    );
  });
}

function assertDeadline(ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `stop deadline ${ms} is not valid: expected a number of ms > 0`);
  }
}

/**
 * The health check a host derives from a lifecycle state: running/reloading ok; starting,
 * idle and stopping degraded and not ready; stopped and failed failing.
 *
 * @example
 * combineHealth(lifecycleHealth(service.state, service.name), await service.health());
 */
export function lifecycleHealth(state: LifecycleState, name = 'lifecycle'): HealthReport {
  switch (state) {
    case 'running':
    case 'reloading':
      return healthReport([healthCheck(name, 'ok', state)]);
    case 'idle':
    case 'starting':
    case 'stopping':
      return healthReport([healthCheck(name, 'degraded', state)], false);
    case 'stopped':
    case 'failed':
      return healthReport([healthCheck(name, 'failing', state)], false);
  }
}
