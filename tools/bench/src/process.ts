/**
 * The two things a benchmark does with the processes it measures: wait until one prints that
 * it is ready, and stop it (SIGTERM, SIGKILL after a grace period).
 */
import type { ChildProcess } from 'node:child_process';

/**
 * Resolves when `child` prints a stdout line for which `match` is true; rejects when the
 * process exits first or after `timeoutMs`, naming `what` was awaited.
 *
 * @example
 * await waitForLine(server, (line) => line.includes('server running'), 30_000, 'server start');
 */
export function waitForLine(child: ChildProcess, match: (line: string) => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const done = (err?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (match(line)) return done();
      }
      if (buffered.length > 1 << 20) buffered = buffered.slice(-4096); // a line that never ends
    };
    const onExit = (): void => done(new Error(`process exited before ${what}`));
    const timer = setTimeout(() => done(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * The line as a JSON object, or undefined (for matching pino log lines in waitForLine).
 *
 * @example await waitForLine(child, (l) => jsonLine(l)?.msg === 'link state', 30_000, 'a link');
 */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Safe on an exited
 * or undefined child.
 *
 * @example await stopProcess(server);
 */
export async function stopProcess(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
