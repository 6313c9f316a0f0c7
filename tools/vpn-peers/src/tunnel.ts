/**
 * What every peer tunnel (OpenVPN, wireguard-go) hands back, and the teardown they share:
 * stop the daemons by PID, delete an interface a killed daemon left behind, remove temp files.
 */
import type { Lab } from '@edgebox/netlab';
import { isNetlabError } from '@edgebox/netlab';
import type { Daemon } from './daemon.js';
import { stopAll } from './daemon.js';

/** The peer systems this package runs. */
export type PeerName = 'openvpn' | 'wireguard-go';

/** A running two-ended tunnel between two lab nodes. */
export interface PeerTunnel {
  readonly peer: PeerName;
  /** Lab node names of the two ends. */
  readonly client: string;
  readonly server: string;
  /** Inner addresses: ping or iperf3 the server end at `serverTunAddress` from the client. */
  readonly clientTunAddress: string;
  readonly serverTunAddress: string;
  /** Tunnel interface names in the client's and the server's namespace. */
  readonly clientIfname: string;
  readonly serverIfname: string;
  /** PIDs of the daemons (the program's own PID: `ip netns exec` execs it). */
  readonly pids: { client: number; server: number };
  /** Tails of the daemons' output. */
  logTail(lines?: number): { client: string; server: string };
  /** Kills both daemons by PID (SIGTERM, then SIGKILL), removes leftovers. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Deletes `ifname` in `node` if it still exists (a SIGKILLed daemon may not have closed it
 * yet). A lab already destroyed has no namespaces and so no interfaces: nothing to do.
 */
export async function removeInterface(lab: Lab, node: string, ifname: string): Promise<void> {
  try {
    const show = await lab.exec(node, 'ip', ['link', 'show', 'dev', ifname], { check: false, timeoutMs: 5_000 });
    if (show.code === 0) await lab.exec(node, 'ip', ['link', 'del', 'dev', ifname], { check: false, timeoutMs: 5_000 });
  } catch (err) {
    if (!isNetlabError(err, 'NETLAB_DESTROYED')) throw err;
  }
}

/** True when `ifname` exists in `node` (false too when the lab is gone). */
export async function interfaceExists(lab: Lab, node: string, ifname: string): Promise<boolean> {
  try {
    return (await lab.exec(node, 'ip', ['link', 'show', 'dev', ifname], { check: false, timeoutMs: 5_000 })).code === 0;
  } catch (err) {
    if (isNetlabError(err, 'NETLAB_DESTROYED')) return false;
    throw err;
  }
}

/** Everything a tunnel's stop() must undo. */
export interface TeardownParts {
  lab: Lab;
  daemons: readonly (Daemon | undefined)[];
  interfaces: readonly { node: string; ifname: string }[];
  /** Temp dirs, sockets: removed last. */
  cleanup?: () => Promise<void>;
}

/**
 * Tears down in order: daemons (by PID), leftover interfaces, files. Runs every step even
 * when one fails and rethrows the first failure.
 */
export async function teardown(parts: TeardownParts): Promise<void> {
  const failures: unknown[] = [];
  const step = async (fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      failures.push(err);
    }
  };
  await step(() => stopAll(parts.daemons));
  for (const { node, ifname } of parts.interfaces) await step(() => removeInterface(parts.lab, node, ifname));
  if (parts.cleanup !== undefined) await step(parts.cleanup);
  if (failures.length > 0) throw failures[0];
}
