/**
 * Process signals for an app CLI:
 *
 *   SIGTERM, SIGINT  graceful stop: onStop runs with a deadline signal; exit 0 when it
 *                    resolves in time, 1 when it throws or the deadline passes first.
 *                    A second SIGINT forces exit 1 at once; a second SIGTERM is ignored.
 *   SIGHUP           onReload. Reloads are serialised: a SIGHUP during a reload queues one
 *                    more reload (several coalesce into one); SIGHUP while stopping is ignored.
 *
 * Installing handlers disables Node's default "die on signal"; `dispose()` restores it.
 */
import { STOP_DEADLINE_MS } from './constants.js';
import { RuntimeError } from './errors.js';

/** The signals handleSignals installs handlers for. */
export type HandledSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/** The part of `process` used here (tests pass an EventEmitter). */
export interface SignalTarget {
  on(event: HandledSignal, listener: (signal: HandledSignal) => void): unknown;
  off(event: HandledSignal, listener: (signal: HandledSignal) => void): unknown;
}

/** Logging used here: any pino logger fits. */
export interface SignalLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What onStop gets. */
export interface StopRequest {
  /** The signal that asked for the stop. */
  reason: HandledSignal;
  deadlineMs: number;
  /** Aborts when the deadline passes. */
  signal: AbortSignal;
}

/** Options of {@link handleSignals}. */
export interface HandleSignalsInit {
  onStop: (request: StopRequest) => void | Promise<void>;
  onReload?: () => void | Promise<void>;
  /** Stop deadline (default 10 s). */
  deadlineMs?: number;
  /** Called with the exit code (default process.exit). */
  exit?: (code: number) => void;
  logger?: SignalLogger;
  /** Default: process. */
  target?: SignalTarget;
}

/** Returned by {@link handleSignals}. */
export interface SignalHandle {
  /** Removes the handlers (a stop already under way continues). */
  dispose(): void;
  readonly stopping: boolean;
  readonly reloading: boolean;
}

/**
 * Installs SIGTERM/SIGINT/SIGHUP handlers.
 *
 * @example
 * const signals = handleSignals({
 *   deadlineMs: 5000,
 *   onStop: ({ deadlineMs }) => service.stop({ deadlineMs }),
 *   onReload: () => host.reload(),
 * });
 * // later, when hosting ends by other means:
 * signals.dispose();
 */
export function handleSignals(init: HandleSignalsInit): SignalHandle {
  const deadlineMs = init.deadlineMs ?? STOP_DEADLINE_MS;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) {
    throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `signal stop deadline ${deadlineMs} is not valid: expected a number of ms > 0`);
  }
  const target: SignalTarget = init.target ?? process;
  const exit = init.exit ?? ((code: number) => process.exit(code));
  const log = init.logger;
  let stopping = false;
  let exited = false;
  let reloading = false;
  let reloadQueued = false;
  let disposed = false;

  const finish = (code: number): void => {
    if (exited) return;
    exited = true;
    exit(code);
  };

  const onStopSignal = (signal: HandledSignal): void => {
    if (stopping) {
      if (signal === 'SIGINT') {
        log?.warn({ signal }, 'second SIGINT: exiting now without waiting for the stop');
        finish(1);
      } else {
        log?.info({ signal }, 'already stopping; signal ignored');
      }
      return;
    }
    stopping = true;
    log?.info({ signal, deadlineMs }, 'stopping');
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      const err = new RuntimeError('RUNTIME_STOP_TIMEOUT', `stop did not finish within ${deadlineMs} ms`, { details: { deadlineMs } });
      deadline.abort(err);
      log?.error({ err, deadlineMs }, 'stop deadline passed: exiting');
      finish(1);
    }, deadlineMs);
    Promise.resolve()
      .then(() => init.onStop({ reason: signal, deadlineMs, signal: deadline.signal }))
      .then(
        () => {
          clearTimeout(timer);
          log?.info({ signal }, 'stopped');
          finish(0);
        },
        (err: unknown) => {
          clearTimeout(timer);
          log?.error({ err }, 'stop failed');
          finish(1);
        },
      );
  };

  const runReloads = async (): Promise<void> => {
    reloading = true;
    try {
      do {
        reloadQueued = false;
        try {
          await init.onReload?.();
        } catch (err) {
          log?.error({ err }, 'reload failed');
        }
      } while (reloadQueued && !stopping);
    } finally {
      reloading = false;
      reloadQueued = false;
    }
  };

  const onHup = (signal: HandledSignal): void => {
    if (stopping) {
      log?.info({ signal }, 'stopping; reload ignored');
      return;
    }
    if (reloading) {
      reloadQueued = true;
      return;
    }
    void runReloads();
  };

  target.on('SIGTERM', onStopSignal);
  target.on('SIGINT', onStopSignal);
  target.on('SIGHUP', onHup);

  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      target.off('SIGTERM', onStopSignal);
      target.off('SIGINT', onStopSignal);
      target.off('SIGHUP', onHup);
    },
    get stopping() {
      return stopping;
    },
    get reloading() {
      return reloading;
    },
  };
}
