/**
 * The health model every app reports and the ops server serves.
 *
 * - Liveness: `status` is `ok`, `degraded` (working, something is off) or `failing`
 *   (restart me). `/health` answers 200 unless `failing`.
 * - Readiness: `ready` says whether the app should get work now (listening, peers loaded).
 *   `/ready` answers 200 only when `ready`.
 *
 * `createHealthChecks()` is a registry of named async checks run concurrently, each under its
 * own timeout; a check that throws or times out is `failing` with the reason as its message.
 */
import { RuntimeError } from './errors.js';

/** Liveness: ok, degraded (working, something is off) or failing (restart me). */
export type HealthStatus = 'ok' | 'degraded' | 'failing';

/** Health statuses from best to worst. */
export const HEALTH_STATUSES: readonly HealthStatus[] = ['ok', 'degraded', 'failing'];

/** One named check as observed at `observedAt` (ISO 8601). */
export interface HealthCheck {
  name: string;
  status: HealthStatus;
  message?: string;
  observedAt: string;
  /** False when this check only speaks to liveness and must not hold readiness back. */
  readiness?: boolean;
  durationMs?: number;
}

/** What `health()` returns and `/health` serves: liveness `status`, readiness `ready`, named checks. */
export interface HealthReport {
  /** Worst status of the liveness checks. */
  status: HealthStatus;
  /** True when every readiness check passes (not `failing`) and status is not `failing`. */
  ready: boolean;
  checks: HealthCheck[];
}

/** Default per-check timeout of {@link createHealthChecks}. */
export const HEALTH_CHECK_TIMEOUT_MS = 2000;

const rank: Record<HealthStatus, number> = { ok: 0, degraded: 1, failing: 2 };

/**
 * The worse of two statuses.
 *
 * @example
 * worstStatus('ok', 'degraded'); // 'degraded'
 */
export function worstStatus(a: HealthStatus, b: HealthStatus): HealthStatus {
  return rank[b] > rank[a] ? b : a;
}

/**
 * Builds one check result stamped with the current time.
 *
 * @example
 * healthCheck('ticker', 'degraded', 'no tick for 3.2 s');
 */
export function healthCheck(name: string, status: HealthStatus, message?: string, init: { readiness?: boolean; now?: Date } = {}): HealthCheck {
  const check: HealthCheck = { name, status, observedAt: (init.now ?? new Date()).toISOString() };
  if (message !== undefined) check.message = message;
  if (init.readiness === false) check.readiness = false;
  return check;
}

/**
 * A report from checks: status = worst check, ready = no readiness check failing (and, with
 * `ready` given, that too). No checks = ok and ready.
 *
 * @example
 * healthReport([healthCheck('listener', 'ok')]); // { status: 'ok', ready: true, checks: [...] }
 */
export function healthReport(checks: HealthCheck[], ready = true): HealthReport {
  let status: HealthStatus = 'ok';
  let isReady = ready;
  for (const c of checks) {
    status = worstStatus(status, c.status);
    if (c.status === 'failing' && c.readiness !== false) isReady = false;
  }
  return { status, ready: isReady && status !== 'failing', checks };
}

/**
 * Merges reports (e.g. the host's lifecycle check and the service's own): worst status, ready
 * only when every report is ready, checks concatenated.
 *
 * @example
 * combineHealth(lifecycleReport, await service.health());
 */
export function combineHealth(...reports: HealthReport[]): HealthReport {
  let status: HealthStatus = 'ok';
  let ready = true;
  const checks: HealthCheck[] = [];
  for (const r of reports) {
    status = worstStatus(status, r.status);
    ready &&= r.ready;
    checks.push(...r.checks);
  }
  return { status, ready: ready && status !== 'failing', checks };
}

/** What a check function may return: a status, `{status, message}`, or true/false (ok/failing). */
export type HealthCheckOutcome = HealthStatus | boolean | { status: HealthStatus; message?: string };

/** A check: gets an AbortSignal that fires at its timeout. */
export type HealthCheckFn = (signal: AbortSignal) => HealthCheckOutcome | Promise<HealthCheckOutcome>;

export interface HealthCheckOptions {
  /** Per-check timeout (default: the registry's, {@link HEALTH_CHECK_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** False: the check counts for liveness only (default true: it also gates readiness). */
  readiness?: boolean;
}

/** A registry of named checks (see {@link createHealthChecks}). */
export interface HealthChecks {
  /** Registers a named check; a second check with the same name is RUNTIME_INVALID_ARGUMENT. */
  add(name: string, check: HealthCheckFn, options?: HealthCheckOptions): void;
  remove(name: string): boolean;
  readonly names: string[];
  /** Runs every check concurrently; never throws. */
  run(): Promise<HealthReport>;
}

export interface HealthChecksInit {
  timeoutMs?: number;
  /** Clock for observedAt (tests). */
  now?: () => Date;
}

interface Registered {
  fn: HealthCheckFn;
  timeoutMs: number;
  readiness: boolean;
}

/**
 * A registry of named async checks, each with its own timeout.
 *
 * @example
 * const checks = createHealthChecks({ timeoutMs: 1000 });
 * checks.add('socket', () => (socket.listening ? 'ok' : { status: 'failing', message: 'not bound' }));
 * checks.add('disk', async (signal) => (await freeBytes(signal)) > 1e9, { readiness: false });
 * const report = await checks.run();
 */
export function createHealthChecks(init: HealthChecksInit = {}): HealthChecks {
  const defaultTimeout = init.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS;
  assertTimeout(defaultTimeout);
  const now = init.now ?? (() => new Date());
  const checks = new Map<string, Registered>();

  const runOne = async (name: string, reg: Registered): Promise<HealthCheck> => {
    const started = performance.now();
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new RuntimeError('RUNTIME_HEALTH_TIMEOUT', `check "${name}" timed out after ${reg.timeoutMs} ms`);
        controller.abort(err);
        reject(err);
      }, reg.timeoutMs);
    });
    let status: HealthStatus;
    let message: string | undefined;
    try {
      const outcome = await Promise.race([Promise.resolve().then(() => reg.fn(controller.signal)), timeout]);
      ({ status, message } = normalise(outcome));
    } catch (err) {
      status = 'failing';
      message = err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
    const check = healthCheck(name, status, message, { readiness: reg.readiness, now: now() });
    check.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    return check;
  };

  return {
    add(name, check, options = {}) {
      if (typeof name !== 'string' || name.length === 0) throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', 'health check name must be a non-empty string');
      if (checks.has(name)) throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `health check "${name}" is already registered`);
      const timeoutMs = options.timeoutMs ?? defaultTimeout;
      assertTimeout(timeoutMs);
      checks.set(name, { fn: check, timeoutMs, readiness: options.readiness ?? true });
    },
    remove: (name) => checks.delete(name),
    get names() {
      return [...checks.keys()];
    },
    async run() {
      const results = await Promise.all([...checks].map(([name, reg]) => runOne(name, reg)));
      return healthReport(results);
    },
  };
}

function normalise(outcome: HealthCheckOutcome): { status: HealthStatus; message: string | undefined } {
  if (outcome === true) return { status: 'ok', message: undefined };
  if (outcome === false) return { status: 'failing', message: undefined };
  if (typeof outcome === 'string' && Object.hasOwn(rank, outcome)) return { status: outcome, message: undefined };
  if (typeof outcome === 'object' && outcome !== null && typeof outcome.status === 'string' && Object.hasOwn(rank, outcome.status)) {
    return { status: outcome.status, message: typeof outcome.message === 'string' ? outcome.message : undefined };
  }
  return { status: 'failing', message: `check returned ${JSON.stringify(outcome) ?? String(outcome)}: expected ok, degraded, failing or a boolean` };
}

function assertTimeout(ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `health check timeout ${ms} is not valid: expected a number of ms > 0`);
  }
}
