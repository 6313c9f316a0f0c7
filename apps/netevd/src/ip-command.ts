/**
 * Runs iproute2's `ip` for netevd's reads (`ip -j ... show`) and routing changes. No shell:
 * argument vectors only. Bounded by a timeout and an output cap; a failure is
 * NETEVD_COMMAND_FAILED naming the command line and ip's stderr. `netns` prefixes `-n NAME`.
 */
import { execFile, spawn } from 'node:child_process';
import { IP_COMMAND_TIMEOUT_MS } from './constants.js';
import { NetevdError } from './errors.js';

const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Where and how long: options of runIp. */
export interface IpOptions {
  netns?: string | undefined;
  timeoutMs?: number;
}

/** A function running `ip ARGS` (injectable: tests record commands, dry-run logs them). */
export type IpRunner = (args: readonly string[], options?: IpOptions) => Promise<string>;

/**
 * Runs `ip [-n NETNS] ARGS`; resolves with stdout, rejects with NETEVD_COMMAND_FAILED.
 *
 * @example await runIp(['rule', 'add', 'from', '10.0.0.2', 'table', '1000', 'priority', '30000', 'protocol', '236']);
 */
export const runIp: IpRunner = (args, options = {}) => {
  const argv = options.netns === undefined ? [...args] : ['-n', options.netns, ...args];
  return new Promise((resolve, reject) => {
    execFile('ip', argv, { timeout: options.timeoutMs ?? IP_COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) {
        resolve(stdout);
        return;
      }
      const reason = stderr.trim() || error.message;
      reject(new NetevdError('NETEVD_COMMAND_FAILED', `ip ${argv.join(' ')} failed: ${reason}`, { cause: error, details: { argv, stderr: stderr.slice(0, 2000) } }));
    });
  });
};

/**
 * Runs `ip -j ARGS` and parses the JSON; empty output is `[]`.
 *
 * @example const links = await ipJson<IpLinkJson[]>(runIp, ['link', 'show']);
 */
export async function ipJson<T>(run: IpRunner, args: readonly string[], options: IpOptions = {}): Promise<T> {
  const text = (await run(['-j', ...args], options)).trim();
  if (text === '') return [] as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new NetevdError('NETEVD_COMMAND_FAILED', `ip -j ${args.join(' ')} printed output that is not JSON: ${text.slice(0, 120)}`, { cause: err });
  }
}

/** `ip -j link show` entries (fields netevd reads). */
export interface IpLinkJson {
  ifindex: number;
  ifname: string;
  flags?: string[];
  operstate?: string;
  link_type?: string;
  mtu?: number;
  address?: string;
  addr_info?: IpAddrInfo[];
}

/** One address of `ip -j addr show`. */
export interface IpAddrInfo {
  family: 'inet' | 'inet6' | string;
  local: string;
  prefixlen: number;
  scope?: string;
  tentative?: boolean;
  dadfailed?: boolean;
}

/** `ip -j route show` entries. */
export interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  protocol?: string;
  metric?: number;
  scope?: string;
  nexthops?: { gateway?: string; dev?: string; weight?: number }[];
}

/** `ip -j rule show` entries. */
export interface IpRuleJson {
  priority: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  table?: string;
  protocol?: string;
}

/** A long-lived `ip -j -batch -` for repeated reads (see createBatchIp). */
export interface BatchIp {
  /** Same contract as IpRunner for `-j` reads: `['-j', 'addr', 'show']`. */
  run: IpRunner;
  close(): void;
  /** Reads answered by the batch process, and reads that fell back to a fresh `ip`. */
  readonly stats: { batched: number; fallbacks: number; restarts: number };
}

const BATCH_READ_TIMEOUT_MS = 2000;

/**
 * Reads through one long-lived `ip [-n NETNS] -j -batch -`: a command line in, one JSON line
 * out (ip flushes after each command), so a read costs a pipe round trip instead of a process
 * spawn (~0.3 ms against 3-5 ms on a busy host: the netlink source's event latency). The
 * process is started on first use and again after it exits; a read it does not answer within
 * 2 s falls back to `runIp`.
 *
 * One command only (`command`, default `addr show`): iproute2 6.1 keeps filter state between
 * batch commands, so `addr show` after a `link show` in the same batch answers without
 * addresses. Anything else goes to a fresh `ip`.
 *
 * @example
 * const batch = createBatchIp('lab-ns');
 * const links = await ipJson<IpLinkJson[]>(batch.run, ['addr', 'show']);
 * batch.close();
 */
export function createBatchIp(netns: string | undefined, command: readonly string[] = ['addr', 'show']): BatchIp {
  const line = command.join(' ');
  let child: ReturnType<typeof spawn> | undefined;
  let buffer = '';
  const pending: { resolve: (s: string) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }[] = [];
  const stats = { batched: 0, fallbacks: 0, restarts: 0 };
  let closed = false;

  function fail(err: Error): void {
    for (const p of pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  function ensure(): ReturnType<typeof spawn> {
    if (child !== undefined) return child;
    const args = ['-j', '-batch', '-'];
    const c = spawn('ip', netns === undefined ? args : ['-n', netns, ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
    child = c;
    buffer = '';
    c.stdout!.setEncoding('utf8');
    c.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const p = pending.shift();
        if (p === undefined) continue;
        clearTimeout(p.timer);
        stats.batched++;
        p.resolve(line);
      }
    });
    const gone = (): void => {
      if (child === c) child = undefined;
      fail(new NetevdError('NETEVD_COMMAND_FAILED', 'ip -batch exited'));
    };
    c.once('exit', gone);
    c.once('error', gone);
    c.stdin!.on('error', () => undefined);
    return c;
  }

  const run: IpRunner = (args, options = {}) => {
    if (closed || args[0] !== '-j' || args.slice(1).join(' ') !== line || options.netns !== netns) {
      stats.fallbacks++;
      return runIp(args, options);
    }
    return new Promise<string>((resolve, reject) => {
      const c = ensure();
      const timer = setTimeout(() => {
        // No answer: this process is stuck or out of step. Kill it; its reads fall back.
        c.kill('SIGKILL');
      }, BATCH_READ_TIMEOUT_MS);
      pending.push({ resolve, reject, timer });
      c.stdin!.write(`${line}\n`);
    }).catch(() => {
      stats.fallbacks++;
      stats.restarts++;
      return runIp(args, options);
    });
  };

  return {
    run,
    close() {
      closed = true;
      const c = child;
      child = undefined;
      c?.stdin?.end();
      c?.kill('SIGTERM');
    },
    get stats() {
      return { ...stats };
    },
  };
}
