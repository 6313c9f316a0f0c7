/**
 * Reads a child process's stdout as JSON lines (the e2e peers' output format) with bounded
 * buffering, and waits for a line matching a predicate with a deadline.
 */
import type { ChildProcess } from 'node:child_process';

/** One parsed output line of an e2e peer. */
export type PeerEvent = Record<string, unknown> & { event?: string; role?: string };

const MAX_LINE_BYTES = 64 * 1024;
const MAX_EVENTS = 10_000;

/** Collected events of one process plus a way to wait for the next matching one. */
export interface EventLog {
  readonly events: readonly PeerEvent[];
  /** Everything the process wrote to stderr (capped at 64 KiB), for failure messages. */
  stderr(): string;
  /** Resolves with the first event (already seen or future) matching `match`. */
  waitFor(match: (e: PeerEvent) => boolean, timeoutMs: number, what?: string): Promise<PeerEvent>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited(timeoutMs: number): Promise<number | string>;
}

/**
 * Starts collecting `child`'s JSON-line stdout (non-JSON lines become `{event:'text', text}`).
 *
 * @example
 * const log = collectEvents(lab.spawn('server', process.execPath, args));
 * const listening = await log.waitFor((e) => e.event === 'listening', 10_000);
 */
export function collectEvents(child: ChildProcess): EventLog {
  const events: PeerEvent[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  let err = '';
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    if (partial.length > MAX_LINE_BYTES && !partial.includes('\n')) partial = partial.slice(-MAX_LINE_BYTES);
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      if (line.length === 0 || events.length >= MAX_EVENTS) continue;
      try {
        events.push(JSON.parse(line) as PeerEvent);
      } catch {
        events.push({ event: 'text', text: line });
      }
    }
    notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (err.length < MAX_LINE_BYTES) err += chunk.toString('utf8');
  });
  // 'close' (not 'exit'): stdout is drained by then, so no late line is missed.
  let closed = false;
  child.once('close', () => {
    closed = true;
    notify();
  });

  const describe = (): string => `events so far: ${JSON.stringify(events)}; stderr: ${err.slice(0, 2000)}`;

  return {
    events,
    stderr: () => err,
    waitFor(match, timeoutMs, what = 'a matching event') {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = events.find(match);
          if (hit !== undefined) {
            done();
            resolve(hit);
          } else if (closed) {
            done();
            reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${what}; ${describe()}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${timeoutMs} ms; ${describe()}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited(timeoutMs) {
      return new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve(child.exitCode ?? child.signalCode!);
          return;
        }
        const timer = setTimeout(() => reject(new Error(`process still running after ${timeoutMs} ms; ${describe()}`)), timeoutMs);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve(code ?? signal ?? 'unknown');
        });
      });
    },
  };
}
