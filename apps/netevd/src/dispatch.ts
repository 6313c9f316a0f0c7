/**
 * From events to script runs: the path every state change takes after the bus.
 *
 *   1. filter     `scripts.filter` (an @edgebox/events condition); startup events only when
 *                 `scripts.startup`
 *   2. debounce   per key (backend + interface; `routes` for route changes): the first change of
 *                 a burst at once (`leading`), the settled one when the key has been quiet for
 *                 `waitMs`, at least every `maxWaitMs` while it flaps
 *   3. transition a debounced event whose state and addresses equal what last ran for its key
 *                 is not a transition: skipped (a flap storm ending where it began runs nothing
 *                 more)
 *   4. queue      per key, one run at a time, at most one waiting: a newer transition replaces
 *                 the waiting one (counted as coalesced). Keys run side by side.
 *   5. run        the folder's runnable scripts in order (scripts.ts), each with retries and
 *                 exponential backoff; what still fails goes to the bounded dead-letter list
 */
import { compileFilter, createDebouncer } from '@edgebox/events';
import type { Debouncer, EventFilter, EventV1 } from '@edgebox/events';
import type { Logger } from '@edgebox/runtime';
import type { NetevdConfig } from './config.js';
import { RETRY_MAX_DELAY_MS } from './constants.js';
import { runScript } from './script-runner.js';
import type { RunScriptInit, ScriptResult } from './script-runner.js';
import { folderOf, listScripts, scriptEnv } from './scripts.js';

/** One script that failed every attempt. */
export interface DeadLetter {
  /** NETEVD_SCRIPT_TIMEOUT or NETEVD_SCRIPT_FAILED. */
  code: 'NETEVD_SCRIPT_TIMEOUT' | 'NETEVD_SCRIPT_FAILED';
  time: string;
  script: string;
  state: string;
  interface: string | null;
  eventId: number;
  attempts: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  error: string | null;
  stderr: string;
}

/** Dispatcher counters. */
export type DispatchStats = {
  received: number;
  filtered: number;
  debounced: number;
  /** Debounced events equal to what last ran for their key. */
  unchanged: number;
  /** Waiting transitions replaced by newer ones. */
  coalesced: number;
  transitions: number;
  runs: number;
  failures: number;
  timeouts: number;
  retries: number;
  unsafe: number;
  deadLetters: number;
  running: number;
};

/** What the dispatcher reports per finished run (metrics, logs, tests). */
export interface RunReport {
  event: EventV1;
  state: string;
  attempt: number;
  result: ScriptResult;
}

/** Options of createDispatcher. */
export interface DispatcherInit {
  config: NetevdConfig;
  logger: Logger;
  /** Each finished attempt. */
  onRun?: (report: RunReport) => void;
  /** A script was about to start: event → spawn latency measurement. */
  onSpawn?: (event: EventV1, script: string) => void;
  /** Runner (tests inject one). */
  run?: (path: string, env: Record<string, string>, init: RunScriptInit) => Promise<ScriptResult>;
}

/** The dispatcher. */
export interface Dispatcher {
  push(event: EventV1): void;
  /** Apply a reloaded config (filter, scripts, debounce); pending bursts are flushed first. */
  reconfigure(config: NetevdConfig): void;
  deadLetters(): DeadLetter[];
  clearDeadLetters(): number;
  stats(): DispatchStats;
  /** Resolves when nothing is queued, debouncing or running. */
  idle(): Promise<void>;
  /** Stop taking events, cancel retries, wait for running scripts. */
  close(): Promise<void>;
}

interface KeyQueue {
  running: boolean;
  waiting: EventV1 | undefined;
  last: string | undefined;
}

const transitionOf = (e: EventV1): string => `${e.states?.new ?? ''}|${(e.addresses ?? []).join(',')}|${e.kind.startsWith('route.') ? e.id : ''}`;

/**
 * Key of an event for debounce and queueing.
 *
 * @example dispatchKey(event); // 'netlink/eth0', 'networkd/administrative/eth0', or 'routes'
 */
export function dispatchKey(e: EventV1): string {
  if (e.kind.startsWith('route.')) return 'routes';
  const backend = typeof e.data['backend'] === 'string' ? e.data['backend'] : e.source;
  // networkd moves two state axes (operational, administrative) on one link: each debounces on
  // its own, or a `configured` would swallow the `routable` right before it.
  const axis = typeof e.data['stateType'] === 'string' && e.data['stateType'] !== 'operational' ? `/${e.data['stateType']}` : '';
  return `${backend}${axis}/${e.interface ?? e.subject ?? ''}`;
}

/**
 * Create the dispatcher.
 *
 * @example
 * const d = createDispatcher({ config, logger });
 * bus.listen(({ event }) => d.push(event), { filter: 'states' });
 */
export function createDispatcher(init: DispatcherInit): Dispatcher {
  const log = init.logger;
  const run = init.run ?? runScript;
  let config = init.config;
  let filter: EventFilter = compileFilter(config.scripts.filter);
  let closed = false;
  const queues = new Map<string, KeyQueue>();
  const dead: DeadLetter[] = [];
  const stats: DispatchStats = { received: 0, filtered: 0, debounced: 0, unchanged: 0, coalesced: 0, transitions: 0, runs: 0, failures: 0, timeouts: 0, retries: 0, unsafe: 0, deadLetters: 0, running: 0 };
  const active = new Set<Promise<void>>();
  const sleeps = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  let idleWaiters: (() => void)[] = [];

  const makeDebouncer = (): Debouncer<EventV1> =>
    createDebouncer<EventV1>({
      key: dispatchKey,
      waitMs: config.debounce.waitMs,
      maxWaitMs: Math.max(config.debounce.maxWaitMs, config.debounce.waitMs, 1),
      leading: config.debounce.leading,
      onEmit: (event) => onDebounced(event),
      onError: (err) => log.error({ err }, 'dispatch failed'),
    });
  let debouncer = makeDebouncer();

  function checkIdle(): void {
    if (debouncer.size > 0 || active.size > 0) return;
    for (const q of queues.values()) if (q.running || q.waiting !== undefined) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const r of w) r();
  }

  function onDebounced(event: EventV1): void {
    stats.debounced++;
    const key = dispatchKey(event);
    let q = queues.get(key);
    if (q === undefined) {
      q = { running: false, waiting: undefined, last: undefined };
      queues.set(key, q);
    }
    const t = transitionOf(event);
    const pendingT = q.waiting === undefined ? q.last : transitionOf(q.waiting);
    if (pendingT === t) {
      stats.unchanged++;
      checkIdle();
      return;
    }
    if (q.waiting !== undefined) stats.coalesced++;
    q.waiting = event;
    pump(key, q);
  }

  function pump(key: string, q: KeyQueue): void {
    if (q.running || q.waiting === undefined || closed) {
      checkIdle();
      return;
    }
    const event = q.waiting;
    q.waiting = undefined;
    q.running = true;
    q.last = transitionOf(event);
    stats.transitions++;
    const p = runFolder(event)
      .catch((err: unknown) => log.error({ err, key }, 'script dispatch failed'))
      .finally(() => {
        active.delete(p);
        q.running = false;
        pump(key, q);
      });
    active.add(p);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          sleeps.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      sleeps.add(entry);
    });
  }

  async function runFolder(event: EventV1): Promise<void> {
    const state = folderOf(event);
    if (state === undefined) return;
    const cfg = config;
    const scripts = await listScripts(cfg.scripts.dir, state, cfg.scripts.ownerUid);
    if (scripts.length === 0) return;
    const { env, dropped } = scriptEnv(event);
    if (dropped.length > 0) log.warn({ interface: JSON.stringify(event.interface ?? null), dropped, eventId: event.id }, 'script environment: values that failed validation were dropped');
    for (const s of scripts) {
      if (closed) return;
      if (!s.runnable) {
        stats.unsafe++;
        log.warn({ script: s.path, problem: s.problem }, 'script skipped: unsafe');
        continue;
      }
      await runWithRetries(event, state, s.path, env, cfg);
    }
  }

  async function runWithRetries(event: EventV1, state: string, path: string, env: Record<string, string>, cfg: NetevdConfig): Promise<void> {
    const attempts = 1 + cfg.scripts.retries;
    let result: ScriptResult | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        stats.retries++;
        await sleep(Math.min(cfg.scripts.retryBackoffMs * 2 ** (attempt - 2), RETRY_MAX_DELAY_MS));
        if (closed) return;
      }
      init.onSpawn?.(event, path);
      stats.running++;
      result = await run(path, env, { timeoutMs: cfg.scripts.timeoutMs, killGraceMs: cfg.scripts.killGraceMs });
      stats.running--;
      stats.runs++;
      if (!result.ok) stats.failures++;
      if (result.timedOut) stats.timeouts++;
      const fields = { script: path, state, interface: event.interface ?? null, attempt, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, durationMs: result.durationMs, stdout: result.stdout.trimEnd() || undefined, stderr: result.stderr.trimEnd() || undefined };
      if (result.ok) log.info(fields, 'script ran');
      else log.warn({ ...fields, error: result.error ?? undefined }, result.timedOut ? 'script timed out: process group killed' : 'script failed');
      init.onRun?.({ event, state, attempt, result });
      if (result.ok) return;
    }
    if (result === undefined) return;
    dead.push({
      code: result.timedOut ? 'NETEVD_SCRIPT_TIMEOUT' : 'NETEVD_SCRIPT_FAILED',
      time: new Date().toISOString(),
      script: path,
      state,
      interface: event.interface ?? null,
      eventId: event.id,
      attempts,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      error: result.error,
      stderr: result.stderr.slice(0, 2000),
    });
    stats.deadLetters++;
    while (dead.length > cfg.scripts.deadLetterMax) dead.shift();
  }

  return {
    push(event) {
      if (closed) return;
      stats.received++;
      if (event.data['startup'] === true && !config.scripts.startup) {
        // Remember the state so the first real change is compared with it, run nothing.
        const key = dispatchKey(event);
        const q = queues.get(key) ?? { running: false, waiting: undefined, last: undefined };
        q.last = transitionOf(event);
        queues.set(key, q);
        stats.filtered++;
        return;
      }
      let ok: boolean;
      try {
        ok = filter(event);
      } catch {
        ok = false;
      }
      if (!ok) {
        stats.filtered++;
        return;
      }
      debouncer.push(event);
    },
    reconfigure(next) {
      debouncer.flush();
      debouncer.close();
      config = next;
      filter = compileFilter(next.scripts.filter);
      debouncer = makeDebouncer();
    },
    deadLetters: () => dead.map((d) => ({ ...d })),
    clearDeadLetters() {
      const n = dead.length;
      dead.length = 0;
      return n;
    },
    stats: () => ({ ...stats, running: stats.running }),
    async idle() {
      // A burst can end without an emission (leading only): poll as well as wait.
      for (;;) {
        const settled = new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          checkIdle();
        });
        const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), 25));
        if ((await Promise.race([settled, tick])) !== 'tick') return;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      debouncer.close();
      for (const s of sleeps) {
        clearTimeout(s.timer);
        s.resolve();
      }
      sleeps.clear();
      await Promise.allSettled([...active]);
      checkIdle();
    },
  };
}
