/**
 * Waiting for a tunnel to come up: poll a condition (a file appears, a ping passes) until a
 * deadline, and fail fast, with the daemons' log tails, when one of them exits first.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '@edgebox/netlab';
import { POLL_INTERVAL_MS } from './constants.js';
import { describeExit, likelyCause } from './daemon.js';
import type { Daemon } from './daemon.js';
import { VpnPeersError } from './errors.js';

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** What is being waited for, for messages: `openvpn tunnel`. */
  what: string;
  /** Absolute deadline (performance.now() clock). */
  deadline: number;
  /** The whole budget in ms, for the timeout message. */
  budgetMs: number;
  /** Daemons that must stay alive meanwhile. */
  daemons: readonly Daemon[];
  signal?: AbortSignal;
}

/**
 * The daemons' log tails as one block for an error message.
 *
 * @example console.error(formatLogs([server, client]));
 */
export function formatLogs(daemons: readonly Daemon[]): string {
  return daemons.map((d) => `--- ${d.name} (node ${d.node}, pid ${d.pid}) ---\n${d.logTail() || '(no output)'}`).join('\n');
}

function logsOf(daemons: readonly Daemon[]): Record<string, string> {
  return Object.fromEntries(daemons.map((d) => [d.name, d.logTail()]));
}

/** VPN_PEERS_START_FAILED naming the daemon that exited and the likely cause from its log. */
export function exitedError(what: string, d: Daemon, daemons: readonly Daemon[]): VpnPeersError {
  const exit = d.exit ?? { code: null, signal: null };
  return new VpnPeersError('VPN_PEERS_START_FAILED', `${what}: ${d.name} exited (${describeExit(exit)}) before the tunnel came up: ${likelyCause(d.logTail())}\n${formatLogs(daemons)}`, {
    details: { daemon: d.name, node: d.node, pid: d.pid, exit, logs: logsOf(daemons) },
  });
}

/** Throws VPN_PEERS_ABORTED when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new VpnPeersError('VPN_PEERS_ABORTED', `${what}: aborted`, { cause: signal.reason });
}

/**
 * Polls `check` every POLL_INTERVAL_MS until it returns true. Throws VPN_PEERS_START_FAILED
 * as soon as a daemon has exited, VPN_PEERS_START_TIMEOUT at the deadline (both with the
 * daemons' log tails), VPN_PEERS_ABORTED when `signal` fires.
 *
 * @example
 * await waitUntil(() => pingOnce(lab, 'client', '10.201.0.1'), { what: 'openvpn tunnel', deadline, budgetMs: 15_000, daemons });
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, options: WaitUntilOptions): Promise<void> {
  const { what, deadline, budgetMs, daemons, signal } = options;
  for (;;) {
    throwIfAborted(signal, what);
    const dead = daemons.find((d) => d.exit !== undefined);
    if (dead !== undefined) throw exitedError(what, dead, daemons);
    if (await check()) return;
    // A daemon that died while we checked explains the failed check better than a timeout.
    const died = daemons.find((d) => d.exit !== undefined);
    if (died !== undefined) throw exitedError(what, died, daemons);
    const left = deadline - performance.now();
    if (left <= 0) {
      const causes = daemons.map((d) => `${d.name}: ${likelyCause(d.logTail())}`).join('; ');
      throw new VpnPeersError('VPN_PEERS_START_TIMEOUT', `${what} did not come up within ${budgetMs} ms (${causes})\n${formatLogs(daemons)}`, {
        details: { budgetMs, logs: logsOf(daemons) },
      });
    }
    await sleep(Math.min(POLL_INTERVAL_MS, left), undefined, signal === undefined ? undefined : { signal }).catch(() => undefined);
  }
}

/**
 * One ping (1 s reply wait) from `node` to `address`; true when it was answered.
 *
 * @example if (await pingOnce(lab, 'client', '10.201.0.1')) console.log('up');
 */
export async function pingOnce(lab: Lab, node: string, address: string): Promise<boolean> {
  const res = await lab.exec(node, 'ping', ['-n', '-q', '-c', '1', '-W', '1', address], { check: false, timeoutMs: 3_000 });
  return res.code === 0;
}
