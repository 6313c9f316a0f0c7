/**
 * One app in its own child process: fork, start, IPC requests with ids and timeouts, crash
 * detection, restart with backoff, the crash-loop limit and graceful stop.
 *
 *   disabled                      never forked (not configured, switched off, needs root)
 *   stopped ──start──▶ starting ──start ok──▶ running ──stop──▶ stopping ──exit──▶ stopped
 *                        │                       │
 *                        └──────crash / start failed──▶ backoff ──delay──▶ starting
 *                                                  └─ > crashLoopMax crashes in the window ─▶ crash-loop
 *
 * Backoff doubles from restart.minMs to restart.maxMs and resets after STABLE_AFTER_MS of
 * running. `start` after a crash-loop (an operator's decision) clears the crash history.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { ErrorBody, JsonValue } from '@edgebox/runtime';
import { APP_NODE_FLAGS, IPC_START_TIMEOUT_MS, IPC_TIMEOUT_MS, KILL_GRACE_MS, STABLE_AFTER_MS } from '../constants.js';
import type { AppName } from '../constants.js';
import { SupervisorError } from '../errors.js';
import { isChildMessage } from './ipc-protocol.js';
import type { ChildMessage, IpcOp, IpcRequest } from './ipc-protocol.js';

/** Where an app is. */
export type AppState = 'disabled' | 'stopped' | 'starting' | 'running' | 'stopping' | 'backoff' | 'crash-loop';

/** Per-app status (the API's `apps` rows). */
export type AppStatus = {
  name: string;
  state: AppState;
  enabled: boolean;
  /** Why the app is disabled or down (`disabled: needs root ...`), else null. */
  reason: string | null;
  pid: number | null;
  /** Seconds since the current child started running, null when not running. */
  uptimeSeconds: number | null;
  /** Restarts after a crash since the supervisor started. */
  restarts: number;
  lastError: { code: string; message: string; at: string } | null;
  /** When the next restart is due (state backoff). */
  nextRestartAt: string | null;
};

/** How the child is forked (the entry and Node flags: built JS, or TypeScript via tsx in tests). */
export interface ChildSpawnSpec {
  entry: string;
  execArgv: string[];
  /** 'inherit' shows the app's log lines on the supervisor's stdout/stderr; 'ignore' drops them. */
  stdio: 'inherit' | 'ignore';
  env?: NodeJS.ProcessEnv;
}

/** Restart policy. */
export interface RestartPolicy {
  minMs: number;
  maxMs: number;
  crashLoopMax: number;
  crashLoopWindowMs: number;
}

/** What an AppProcess reports to its owner. */
export interface AppProcessHooks {
  onEvent(app: AppName, event: unknown): void;
  onState(app: AppName, from: AppState, to: AppState, reason: string | null): void;
  onLog(app: AppName, level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>): void;
}

interface Pending {
  resolve: (v: JsonValue) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** An app hosted in a child process. */
export class AppProcess {
  readonly name: AppName;
  private stateValue: AppState;
  private reason: string | null;
  private child: ChildProcess | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private startedAt = 0;
  private restartsValue = 0;
  private crashes: number[] = [];
  private backoffMs = 0;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private nextRestartAt: number | null = null;
  private lastErrorValue: AppStatus['lastError'] = null;
  /** The config the next (re)start uses. */
  config: unknown;
  policy: RestartPolicy;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    name: AppName,
    init: { config: unknown; policy: RestartPolicy; spawn: ChildSpawnSpec; hooks: AppProcessHooks; disabledReason: string | null },
  ) {
    this.name = name;
    this.config = init.config;
    this.policy = init.policy;
    this.spawn = init.spawn;
    this.hooks = init.hooks;
    this.stateValue = init.disabledReason === null ? 'stopped' : 'disabled';
    this.reason = init.disabledReason;
  }

  private readonly spawn: ChildSpawnSpec;
  private readonly hooks: AppProcessHooks;

  get state(): AppState {
    return this.stateValue;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get restarts(): number {
    return this.restartsValue;
  }

  status(): AppStatus {
    return {
      name: this.name,
      state: this.stateValue,
      enabled: this.stateValue !== 'disabled',
      reason: this.reason,
      pid: this.stateValue === 'running' || this.stateValue === 'starting' || this.stateValue === 'stopping' ? this.pid : null,
      uptimeSeconds: this.stateValue === 'running' ? Math.round((Date.now() - this.startedAt) / 100) / 10 : null,
      restarts: this.restartsValue,
      lastError: this.lastErrorValue,
      nextRestartAt: this.nextRestartAt === null ? null : new Date(this.nextRestartAt).toISOString(),
    };
  }

  /** Enable (with a config) or disable (with the reason) this app; a disabled app is stopped first. */
  async setEnabled(disabledReason: string | null, config: unknown, deadlineMs: number): Promise<void> {
    this.config = config;
    if (disabledReason !== null) {
      await this.stop(deadlineMs);
      this.setState('disabled', disabledReason);
    } else if (this.stateValue === 'disabled') {
      this.setState('stopped', null);
    }
  }

  /** Fork the child and start the Service; rejects with the start error (the app then backs off). */
  start(): Promise<void> {
    if (this.stateValue === 'disabled') return Promise.reject(new SupervisorError('SUPERVISOR_APP_DISABLED', `${this.name} is ${this.reason ?? 'disabled'}`, { details: { app: this.name } }));
    if (this.stateValue === 'running') return Promise.resolve();
    if (this.starting !== null) return this.starting;
    if (this.stateValue === 'crash-loop' || this.stateValue === 'backoff') {
      // an operator's start: forget the crash history
      this.crashes = [];
      this.backoffMs = 0;
    }
    this.clearRestartTimer();
    this.starting = this.launch().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async launch(): Promise<void> {
    this.setState('starting', null);
    const child = fork(this.spawn.entry, [this.name], {
      execArgv: [...this.spawn.execArgv, ...APP_NODE_FLAGS[this.name]],
      stdio: this.spawn.stdio === 'inherit' ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'ignore', 'ignore', 'ipc'],
      env: this.spawn.env ?? process.env,
      serialization: 'json',
    });
    this.child = child;
    const hello = new Promise<void>((resolve, reject) => {
      const onMessage = (m: unknown): void => {
        if (isChildMessage(m) && m.t === 'hello') {
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        child.off('message', onMessage);
        reject(new SupervisorError('SUPERVISOR_CHILD', `${this.name} process exited before it was ready (${signal ?? `code ${code}`})`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    child.on('message', (m: unknown) => this.onMessage(m));
    child.on('error', (err) => this.hooks.onLog(this.name, 'error', `${this.name} process error: ${err.message}`));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    try {
      await withTimeout(hello, IPC_START_TIMEOUT_MS, () => new SupervisorError('SUPERVISOR_IPC_TIMEOUT', `${this.name} process did not load within ${IPC_START_TIMEOUT_MS} ms`));
      await this.request('start', { config: this.config }, IPC_START_TIMEOUT_MS);
    } catch (err) {
      this.recordError(err);
      // onExit does the rest (backoff / crash-loop) once the process is gone
      if (this.child === child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw err;
    }
    this.startedAt = Date.now();
    if (this.stateValue !== 'starting') return; // a stop came in meanwhile: it owns the process now
    this.setState('running', null);
    this.hooks.onLog(this.name, 'info', `${this.name} running`, { pid: child.pid });
  }

  /** Stop the Service within the deadline, then the process (SIGKILL after a grace). Idempotent. */
  stop(deadlineMs: number): Promise<void> {
    this.clearRestartTimer();
    if (this.stateValue === 'backoff' || this.stateValue === 'crash-loop') this.setState('stopped', null);
    const child = this.child;
    if (child === null) return Promise.resolve();
    if (this.stopping !== null) return this.stopping;
    this.setState('stopping', null);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    this.stopping = (async () => {
      // a start in flight first settles (or fails), so the stop request is not lost
      await this.starting?.catch(() => undefined);
      await this.request('stop', { deadlineMs }, deadlineMs + KILL_GRACE_MS).catch(() => undefined);
      const killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(killer);
    })().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  /**
   * Send one request; rejects with the child's error body (as a SupervisorError-shaped value
   * keeping its code), SUPERVISOR_IPC_TIMEOUT or SUPERVISOR_IPC_CLOSED.
   */
  request(op: IpcOp, args?: IpcRequest['args'], timeoutMs = IPC_TIMEOUT_MS): Promise<JsonValue> {
    const child = this.child;
    if (child === null || !child.connected) {
      return Promise.reject(new SupervisorError('SUPERVISOR_APP_STATE', `${this.name} is ${this.stateValue}: no process to ask for ${op}`, { details: { app: this.name, state: this.stateValue } }));
    }
    const id = this.nextId++;
    return new Promise<JsonValue>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SupervisorError('SUPERVISOR_IPC_TIMEOUT', `${this.name} did not answer ${op} within ${timeoutMs} ms`, { details: { app: this.name, op, timeoutMs } }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const req: IpcRequest = args === undefined ? { t: 'req', id, op } : { t: 'req', id, op, args };
      child.send(req, (err) => {
        if (err === null) return;
        const p = this.pending.get(id);
        if (p === undefined) return;
        clearTimeout(p.timer);
        this.pending.delete(id);
        reject(new SupervisorError('SUPERVISOR_IPC_CLOSED', `${this.name}: ${op} could not be sent: ${err.message}`, { details: { app: this.name, op } }));
      });
    });
  }

  private onMessage(m: unknown): void {
    if (!isChildMessage(m)) return;
    const msg = m as ChildMessage;
    switch (msg.t) {
      case 'res': {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        clearTimeout(p.timer);
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(childError(msg.error));
        return;
      }
      case 'event':
        this.hooks.onEvent(this.name, msg.event);
        return;
      case 'log':
        this.hooks.onLog(this.name, msg.level, msg.message);
        return;
      default:
        return;
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SupervisorError('SUPERVISOR_IPC_CLOSED', `${this.name} process exited (${signal ?? `code ${code}`}) with a request pending`, { details: { app: this.name } }));
      this.pending.delete(id);
    }
    if (this.stateValue === 'stopping' || this.stateValue === 'disabled' || this.stateValue === 'stopped') {
      if (this.stateValue === 'stopping') this.setState('stopped', null);
      return;
    }
    // A crash: running (or starting) and nobody asked it to stop.
    const how = signal ?? `code ${code}`;
    if (this.stateValue === 'running') this.recordError(new SupervisorError('SUPERVISOR_CHILD', `${this.name} process exited unexpectedly (${how})`));
    this.hooks.onLog(this.name, 'error', `${this.name} process exited unexpectedly (${how})`, { code, signal });
    const now = Date.now();
    if (this.stateValue === 'running' && now - this.startedAt >= STABLE_AFTER_MS) this.backoffMs = 0;
    this.crashes = this.crashes.filter((t) => now - t < this.policy.crashLoopWindowMs);
    this.crashes.push(now);
    if (this.crashes.length > this.policy.crashLoopMax) {
      this.setState('crash-loop', `crash-loop: ${this.crashes.length} crashes within ${this.policy.crashLoopWindowMs} ms (last: ${this.lastErrorValue?.message ?? how}); start it again by hand`);
      return;
    }
    this.backoffMs = this.backoffMs === 0 ? this.policy.minMs : Math.min(this.backoffMs * 2, this.policy.maxMs);
    this.nextRestartAt = now + this.backoffMs;
    this.setState('backoff', `restarting in ${this.backoffMs} ms after: ${this.lastErrorValue?.message ?? how}`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.nextRestartAt = null;
      this.restartsValue++;
      this.starting = this.launch().finally(() => {
        this.starting = null;
      });
      this.starting.catch(() => undefined);
    }, this.backoffMs);
  }

  private clearRestartTimer(): void {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextRestartAt = null;
  }

  private recordError(err: unknown): void {
    const e = err as { code?: unknown; message?: unknown };
    this.lastErrorValue = { code: typeof e.code === 'string' ? e.code : 'SUPERVISOR_CHILD', message: typeof e.message === 'string' ? e.message : String(err), at: new Date().toISOString() };
  }

  private setState(to: AppState, reason: string | null): void {
    const from = this.stateValue;
    this.stateValue = to;
    this.reason = reason;
    if (from !== to) this.hooks.onState(this.name, from, to, reason);
  }
}

/** A child's error body as a throwable value that keeps its code (the API maps it to a status). */
function childError(body: ErrorBody): Error & ErrorBody {
  const err = new Error(body.message) as Error & ErrorBody;
  err.code = body.code;
  if (body.details !== undefined) err.details = body.details;
  return err;
}

async function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
