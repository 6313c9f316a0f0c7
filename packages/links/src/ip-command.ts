/**
 * Runs iproute2's `ip` for the cold paths of this package (TUN configuration, policy routing,
 * discovery re-reads). Bounded: a timeout and an output cap; a failure becomes
 * LINKS_COMMAND_FAILED naming the command line and its stderr. `netns` runs the command in a
 * named namespace (`ip -n NAME ...`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { LinksError } from './errors.js';

/** Default timeout of one `ip` command. */
export const IP_COMMAND_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const NETNS_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Options of {@link runIp}. */
export interface RunIpOptions {
  /** Named network namespace (`ip netns`) to run in. */
  netns?: string | undefined;
  timeoutMs?: number;
}

/** Throws LINKS_INVALID_ARGUMENT unless `netns` is a plausible `ip netns` name. */
export function checkNetns(netns: string | undefined): void {
  if (netns === undefined || NETNS_PATTERN.test(netns)) return;
  throw new LinksError('LINKS_INVALID_ARGUMENT', `netns ${JSON.stringify(netns)} is not valid: expected 1-64 of [A-Za-z0-9_.-]`, { details: { field: 'netns', value: netns } });
}

/** The argument vector with `-n NETNS` in front when a namespace is given. */
export function ipArgs(args: readonly string[], netns: string | undefined): string[] {
  return netns === undefined ? [...args] : ['-n', netns, ...args];
}

/**
 * Runs `ip ARGS` and resolves with its stdout; rejects with LINKS_COMMAND_FAILED.
 *
 * @example
 * await runIp(['link', 'set', 'dev', 'tun0', 'up']);
 */
export function runIp(args: readonly string[], options: RunIpOptions = {}): Promise<string> {
  const argv = ipArgs(args, options.netns);
  return new Promise((resolve, reject) => {
    execFile('ip', argv, { timeout: options.timeoutMs ?? IP_COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(commandFailed(argv, stderr, error));
    });
  });
}

/**
 * Runs `ip ARGS` synchronously (only where a sync path is required: close() and exit hooks).
 * Returns false instead of throwing.
 */
export function runIpSync(args: readonly string[], netns: string | undefined, timeoutMs = 2000): boolean {
  try {
    execFileSync('ip', ipArgs(args, netns), { timeout: timeoutMs, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `ip -j ARGS` and parses the JSON (an empty output is an empty array).
 *
 * @example
 * const links = await runIpJson<{ ifname: string }[]>(['link', 'show']);
 */
export async function runIpJson<T>(args: readonly string[], options: RunIpOptions = {}): Promise<T> {
  const stdout = await runIp(['-j', ...args], options);
  const text = stdout.trim();
  if (text === '') return [] as T;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new LinksError('LINKS_COMMAND_FAILED', `ip -j ${args.join(' ')} printed output that is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
}

function commandFailed(argv: readonly string[], stderr: string, error: Error): LinksError {
  const killed = (error as { killed?: boolean }).killed === true;
  const why = killed ? 'timed out' : stderr.trim() || error.message;
  return new LinksError('LINKS_COMMAND_FAILED', `ip ${argv.join(' ')} failed: ${why}`, { cause: error, details: { command: ['ip', ...argv], stderr: stderr.trim() } });
}
