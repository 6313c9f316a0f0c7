/**
 * Runs one external command (ip, tc, nft, sysctl, a test program) with a timeout, an optional
 * stdin payload and bounded output capture, and turns failures into NetlabErrors that name
 * the command and its stderr. Every netlab side effect goes through here, so this is also
 * the one place that maps ENOENT to NETLAB_TOOL_MISSING.
 */
import { spawn } from 'node:child_process';
import { NetlabError } from './errors.js';

/** Debian package that provides each tool netlab or its tests call (for error messages). */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  tc: 'iproute2',
  nft: 'nftables',
  sysctl: 'procps',
  ping: 'iputils-ping',
  iperf3: 'iperf3',
  tcpdump: 'tcpdump',
};

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** Options of {@link runCommand} and `lab.exec`. */
export interface ExecOptions {
  /** Kill the command (SIGKILL) after this many ms; default 30 000. */
  timeoutMs?: number;
  /** Keep at most this many bytes of stdout and of stderr each; default 1 MiB. */
  maxOutputBytes?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer;
  /** Throw NETLAB_COMMAND_FAILED on a non-zero exit (default true). */
  check?: boolean;
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** What a finished command produced. */
export interface ExecResult {
  /** Exit code, or null when it was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went over `maxOutputBytes` and was cut. */
  truncated: boolean;
}

/** Renders a command line for messages: `ip -n ebx-1-a link add ...`. */
export function describeCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/**
 * Runs `cmd args` and resolves with its output; rejects with NETLAB_COMMAND_FAILED (non-zero
 * exit, when `check` is on), NETLAB_COMMAND_TIMEOUT, NETLAB_TOOL_MISSING or NETLAB_ABORTED.
 *
 * @example
 * const { stdout } = await runCommand('ip', ['netns', 'list']);
 */
export function runCommand(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const check = options.check ?? true;
  const line = describeCommand(cmd, args);
  if (options.signal?.aborted) {
    return Promise.reject(new NetlabError('NETLAB_ABORTED', `aborted before running ${line}`, { cause: options.signal.reason }));
  }
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    let timedOut = false;
    let aborted = false;
    let settled = false;

    // Keep at most maxBytes per stream; a chatty command must not grow our memory.
    const keep = (chunks: Buffer[], have: number, chunk: Buffer): number => {
      const room = maxBytes - have;
      if (room <= 0) {
        truncated = true;
        return have;
      }
      if (chunk.length > room) {
        truncated = true;
        chunks.push(chunk.subarray(0, room));
        return maxBytes;
      }
      chunks.push(chunk);
      return have + chunk.length;
    };
    child.stdout.on('data', (c: Buffer) => (outBytes = keep(out, outBytes, c)));
    child.stderr.on('data', (c: Buffer) => (errBytes = keep(err, errBytes, c)));

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      done();
      if (e.code === 'ENOENT') {
        const pkg = TOOL_PACKAGES[cmd];
        reject(new NetlabError('NETLAB_TOOL_MISSING', `command not found: ${cmd}` + (pkg === undefined ? '' : ` (install the Debian package ${pkg})`), { cause: e, details: { command: cmd } }));
      } else {
        reject(new NetlabError('NETLAB_COMMAND_FAILED', `${line}: ${e.message}`, { cause: e, details: { command: line } }));
      }
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      done();
      const result: ExecResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        truncated,
      };
      if (aborted) {
        reject(new NetlabError('NETLAB_ABORTED', `aborted while running ${line}`, { cause: options.signal?.reason, details: { command: line } }));
      } else if (timedOut) {
        reject(new NetlabError('NETLAB_COMMAND_TIMEOUT', `${line}: still running after ${timeoutMs} ms, killed`, { details: { command: line, timeoutMs, stdout: result.stdout, stderr: result.stderr } }));
      } else if (check && code !== 0) {
        const why = result.stderr.trim() || result.stdout.trim() || '(no output)';
        reject(new NetlabError('NETLAB_COMMAND_FAILED', `${line}: exit ${code ?? signal}: ${why}`, { details: { command: line, code, signal, stderr: result.stderr } }));
      } else {
        resolve(result);
      }
    });
    // A command that exits before reading stdin gives EPIPE here; its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
