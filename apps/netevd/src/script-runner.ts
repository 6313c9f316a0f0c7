/**
 * Runs one script: no shell, a cleared environment, its own process group, a timeout.
 *
 *   spawn     execve(path) with no arguments (`spawn` without `shell`: a name with `$(...)` in
 *             it is just a path), env from scripts.ts only, cwd `/`, stdin closed,
 *             `detached` so the script leads a new process group
 *   capture   stdout and stderr kept up to a cap each (the rest counted, dropped); the caller
 *             logs them
 *   timeout   SIGTERM to the whole group (`kill(-pgid)`), SIGKILL after the grace period:
 *             children a script left behind go too
 *   result    exit code or signal, timed out or not, duration; never throws
 */
import { spawn } from 'node:child_process';
import { SCRIPT_KILL_GRACE_MS, SCRIPT_OUTPUT_MAX_BYTES, SCRIPT_TIMEOUT_MS } from './constants.js';

/** Options of runScript. */
export interface RunScriptInit {
  timeoutMs?: number;
  killGraceMs?: number;
  outputMaxBytes?: number;
  /** Called once the process exists (latency measurement, tests). */
  onSpawn?: (pid: number) => void;
}

/** How one run ended. */
export interface ScriptResult {
  path: string;
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Spawn failure (ENOENT, EACCES, ENOEXEC), if any. */
  error: string | null;
  startedAt: string;
  durationMs: number;
  pid: number | null;
  stdout: string;
  stderr: string;
  /** Output bytes dropped past the cap. */
  truncatedBytes: number;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Run `path` with exactly `env`; resolves when it ended (killed at the timeout if need be).
 *
 * @example
 * const r = await runScript('/etc/netevd/routable.d/10-notify', { PATH: '/usr/bin:/bin', LINK: 'eth0' }, { timeoutMs: 5000 });
 * if (!r.ok) console.error(r.exitCode, r.signal, r.stderr);
 */
export function runScript(path: string, env: Record<string, string>, init: RunScriptInit = {}): Promise<ScriptResult> {
  const timeoutMs = init.timeoutMs ?? SCRIPT_TIMEOUT_MS;
  const graceMs = init.killGraceMs ?? SCRIPT_KILL_GRACE_MS;
  const cap = init.outputMaxBytes ?? SCRIPT_OUTPUT_MAX_BYTES;
  const startedAt = new Date();
  const t0 = performance.now();
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = 0;
    let timedOut = false;
    let spawnError: string | null = null;
    let settled = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    let closeTimer: ReturnType<typeof setTimeout> | undefined;

    const child = spawn(path, [], { env, cwd: '/', detached: true, stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true });
    const pid = child.pid ?? null;
    if (pid !== null) init.onSpawn?.(pid);

    const take = (chunks: Buffer[], which: 'out' | 'err') => (chunk: Buffer) => {
      const have = which === 'out' ? outBytes : errBytes;
      const room = cap - have;
      if (room <= 0) {
        truncated += chunk.length;
        return;
      }
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      truncated += chunk.length - part.length;
      chunks.push(part);
      if (which === 'out') outBytes += part.length;
      else errBytes += part.length;
    };
    child.stdout?.on('data', take(out, 'out'));
    child.stderr?.on('data', take(err, 'err'));

    const finish = (exitCode: number | null, signal: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      clearTimeout(graceTimer);
      clearTimeout(closeTimer);
      // A timed-out run leaves no process of its group behind, whatever ignored SIGTERM.
      if (timedOut && pid !== null) killGroup(pid, 'SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        path,
        ok: spawnError === null && !timedOut && exitCode === 0,
        exitCode,
        signal,
        timedOut,
        error: spawnError,
        startedAt: startedAt.toISOString(),
        durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
        pid,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        truncatedBytes: truncated,
      });
    };

    child.once('error', (e: NodeJS.ErrnoException) => {
      spawnError = `${e.code ?? 'error'}: ${e.message}`;
      finish(null, null);
    });
    // 'exit' carries the status; 'close' follows once the pipes end. A background child that
    // inherited the pipes can hold them open: wait a moment for output, then stop waiting.
    child.once('exit', (code, signal) => {
      closeTimer = setTimeout(() => finish(code, signal), 200);
      child.once('close', () => finish(code, signal));
    });

    if (pid !== null) {
      killTimer = setTimeout(() => {
        timedOut = true;
        killGroup(pid, 'SIGTERM');
        graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      }, timeoutMs);
    }
  });
}
