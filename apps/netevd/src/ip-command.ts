/**
 * Runs iproute2's `ip` for netevd's reads (`ip -j ... show`) and routing changes. No shell:
 * argument vectors only. Bounded by a timeout and an output cap; a failure is
 * NETEVD_COMMAND_FAILED naming the command line and ip's stderr. `netns` prefixes `-n NAME`.
 */
import { execFile } from 'node:child_process';
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
