/**
 * A long-running program in a lab node (openvpn, wireguard-go, an iperf3 server): spawned
 * through `lab.spawn` (so `ip netns exec` execs the program itself and the PID we hold is the
 * program's), its stdout and stderr kept as a bounded ring of lines for error messages, and
 * stopped by PID: SIGTERM, then SIGKILL after a grace period, resolved only once it has exited.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '@edgebox/netlab';
import { KILL_GRACE_MS, LOG_KEEP_LINES, LOG_TAIL_LINES } from './constants.js';
import { VpnPeersError } from './errors.js';

/** How a daemon ended. */
export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A program running in a lab node. */
export interface Daemon {
  /** Human name for messages, e.g. `openvpn server`. */
  readonly name: string;
  readonly node: string;
  readonly pid: number;
  /** Set once the process has exited. */
  readonly exit: DaemonExit | undefined;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<DaemonExit>;
  /** The last `lines` lines of its output (stdout and stderr interleaved). */
  logTail(lines?: number): string;
  /** True once a line matching `pattern` was printed. */
  hasPrinted(pattern: RegExp): boolean;
  /** SIGTERM by PID, SIGKILL after `graceMs`; resolves after exit. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startDaemon}. */
export interface StartDaemonOptions {
  /** Name used in messages (default: the command). */
  name?: string;
  env?: Record<string, string>;
}

/** Describes an exit for messages: `exit 1` or `signal SIGKILL`. */
export function describeExit(exit: DaemonExit): string {
  return exit.code !== null ? `exit ${exit.code}` : `signal ${exit.signal ?? 'unknown'}`;
}

const CAUSE = /error|fail|cannot|can't|refused|in use|denied|invalid|not found|no such|unable|too long|unreachable/i;
/** Generic last words that follow the real cause in openvpn and wireguard-go logs. */
const GENERIC = /Exiting due to fatal error|process exiting|Shutting down|Device closed|Closing TUN|net_addr_.*_del/i;
const TIMESTAMP = /\d{4}[-/]\d\d[-/]\d\d \d\d:\d\d:\d\d(?: us=\d+)? ?/;

/**
 * The line of a log most likely to name why a program failed: the last one that says error,
 * failed, cannot, refused, in use ... and is not a generic "exiting" line; else the last
 * line. Timestamps are dropped.
 *
 * @example likelyCause('...Socket bind failed on local address ...: Address already in use (errno=98)\nExiting due to fatal error')
 */
export function likelyCause(log: string): string {
  const lines = log.split('\n').map((l) => l.replace(TIMESTAMP, '').trim()).filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i--) if (CAUSE.test(lines[i]!) && !GENERIC.test(lines[i]!)) return lines[i]!;
  return lines.at(-1) ?? '(no output)';
}

class DaemonImpl implements Daemon {
  readonly name: string;
  readonly node: string;
  readonly pid: number;
  exit: DaemonExit | undefined = undefined;
  readonly exited: Promise<DaemonExit>;
  private readonly lines: string[] = [];
  private partial = '';
  private stopping: Promise<void> | undefined = undefined;

  constructor(child: ChildProcess, name: string, node: string) {
    this.name = name;
    this.node = node;
    this.pid = child.pid!;
    this.exited = new Promise<DaemonExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const onData = (chunk: Buffer): void => this.take(chunk.toString('utf8'));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }

  /** Keeps whole lines in a ring of LOG_KEEP_LINES (cold path: daemons log little). */
  private take(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > LOG_KEEP_LINES) this.lines.shift();
    }
  }

  logTail(lines: number = LOG_TAIL_LINES): string {
    const all = this.partial === '' ? this.lines : [...this.lines, this.partial];
    return all.slice(-lines).join('\n');
  }

  hasPrinted(pattern: RegExp): boolean {
    return this.lines.some((l) => pattern.test(l)) || pattern.test(this.partial);
  }

  stop(graceMs: number = KILL_GRACE_MS): Promise<void> {
    this.stopping ??= this.kill(graceMs);
    return this.stopping;
  }

  private async kill(graceMs: number): Promise<void> {
    if (this.exit !== undefined) return;
    signalPid(this.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      signalPid(this.pid, 'SIGKILL');
      await this.exited;
    }
  }
}

/** process.kill that ignores a process already gone (ESRCH). */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Starts `cmd args` in `node` and returns at once; the caller decides what "up" means.
 *
 * @example
 * const d = startDaemon(lab, 'server', 'iperf3', ['-s', '-1'], { name: 'iperf3 server' });
 * try { ... } finally { await d.stop(); }
 */
export function startDaemon(lab: Lab, node: string, cmd: string, args: readonly string[], options: StartDaemonOptions = {}): Daemon {
  const child = lab.spawn(node, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env === undefined ? {} : { env: options.env }) });
  if (child.pid === undefined) {
    // Only when `ip` itself cannot be spawned; the 'error' event follows on the next tick.
    child.once('error', () => undefined);
    throw new VpnPeersError('VPN_PEERS_TOOL_MISSING', `could not spawn ip netns exec for ${cmd} (is iproute2 installed?)`, { details: { program: 'ip', command: cmd } });
  }
  return new DaemonImpl(child, options.name ?? cmd, node);
}

/**
 * Stops every daemon (in parallel) and waits for all of them.
 *
 * @example await stopAll([server, client]);
 */
export async function stopAll(daemons: readonly (Daemon | undefined)[]): Promise<void> {
  await Promise.all(daemons.map((d) => d?.stop()));
}
