/**
 * TCP port forwarders as benchmark peers of the tunnel app (issue 4): what a running
 * forwarder (stunnel, `ssh -L`) hands back, the options both take, and the iperf3 measurement
 * through one.
 *
 *   client node                                   server node
 *   iperf3 -c 127.0.0.1:P -> forwarder client ==(TLS / SSH over the lab link)==>
 *                                              forwarder server -> 127.0.0.1:P iperf3 -s -p P
 *
 * The client end listens on the same port number the target has, in the client's own
 * namespace, so runIperf (one port for -s and -c) measures through the forward unchanged.
 */
import type { Contender } from '@edgebox/bench';
import type { Lab } from '@edgebox/netlab';
import { rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Daemon } from './daemon.js';
import { VpnPeersError } from './errors.js';
import { runIperf } from './iperf.js';
import { checkPort } from './tunnel-net.js';

/** The port forwarders this package runs. */
export type ForwardPeerName = 'stunnel' | 'ssh';

/** A running forward: TCP to `listenAddress:port` in `client` arrives at `targetAddress:port` in `server`. */
export interface TcpForward {
  readonly peer: ForwardPeerName;
  readonly client: string;
  readonly server: string;
  /** Where clients in the client node connect (loopback of the client's namespace). */
  readonly listenAddress: string;
  /** The forwarded port: listened on in the client node, connected to in the server node. */
  readonly port: number;
  /** Where the server end connects to, in the server's namespace. */
  readonly targetAddress: string;
  /** The server end's own listening port on the lab link (TLS or SSH). */
  readonly serverPort: number;
  /** What the peers negotiated: a TLS 1.3 suite (stunnel) or an SSH cipher (ssh). */
  readonly cipher: string;
  /** PIDs of the two programs (their own: `ip netns exec` execs them). */
  readonly pids: { client: number; server: number };
  /** The 0700 temp dir holding the throwaway keys and configs (removed by stop()). */
  readonly dir: string;
  logTail(lines?: number): { client: string; server: string };
  /** Kills the client end, then the server end, by PID; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options both forwarders take. */
export interface TcpForwardOptions {
  /** Lab node of the client end (where the forwarded port is listened on). */
  client: string;
  /** Lab node of the server end (where the target is). */
  server: string;
  /** The server's address on the lab link; the server end binds to it. */
  serverAddress: string;
  /** The forwarded TCP port; default 5211 (stunnel) or 5212 (ssh), apart from iperf3's 5201. */
  port?: number;
  /** Address the server end connects to in its namespace; default 127.0.0.1. */
  targetAddress?: string;
  /** Spawn to ready; default 15 000 ms. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** Checked common options. */
export interface ForwardPlan {
  client: string;
  server: string;
  serverAddress: string;
  port: number;
  targetAddress: string;
  listenAddress: string;
}

/** Loopback of the client's namespace: nothing outside the client node reaches the plain side. */
const LISTEN_ADDRESS = '127.0.0.1';

/**
 * Checks the options every forwarder takes (addresses, port, distinct nodes).
 *
 * @example const plan = checkForwardOptions(options, 'stunnel', STUNNEL_FORWARD_PORT);
 */
export function checkForwardOptions(options: TcpForwardOptions, what: string, defaultPort: number): ForwardPlan {
  const bad = (field: string, value: unknown, expected: string): never => {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `${what} ${field} ${JSON.stringify(value)} ${expected}`, { details: { [field]: value } });
  };
  if (isIP(options.serverAddress) !== 4) bad('serverAddress', options.serverAddress, 'is not an IPv4 address');
  const targetAddress = options.targetAddress ?? '127.0.0.1';
  if (isIP(targetAddress) !== 4) bad('targetAddress', targetAddress, 'is not an IPv4 address');
  // The forwarded port is listened on in the client node and served in the server node: the
  // same node would have both on one port.
  if (options.client === options.server) bad('client', options.client, 'must differ from server (the forwarded port is used at both ends)');
  return {
    client: options.client,
    server: options.server,
    serverAddress: options.serverAddress,
    port: checkPort(options.port ?? defaultPort, `${what} port`),
    targetAddress,
    listenAddress: LISTEN_ADDRESS,
  };
}

/**
 * The TcpForward object of two started daemons; stop() kills the client end first (so the
 * server's per-connection processes see EOF and exit), then the server end, then removes `dir`.
 */
export function forwardHandle(
  peer: ForwardPeerName,
  plan: ForwardPlan,
  fields: { serverPort: number; cipher: string; dir: string; client: Daemon; server: Daemon },
): TcpForward {
  let stopping: Promise<void> | undefined;
  const { client, server, dir } = fields;
  return {
    peer,
    client: plan.client,
    server: plan.server,
    listenAddress: plan.listenAddress,
    port: plan.port,
    targetAddress: plan.targetAddress,
    serverPort: fields.serverPort,
    cipher: fields.cipher,
    pids: { client: client.pid, server: server.pid },
    dir,
    logTail: (lines?: number) => ({ client: client.logTail(lines), server: server.logTail(lines) }),
    stop: () => (stopping ??= stopForward([client, server], dir)),
  };
}

/**
 * Stops daemons in order and removes `dir`, running every step even when one fails and
 * rethrowing the first failure.
 *
 * @example await stopForward([client, server], dir);
 */
export async function stopForward(daemons: readonly (Daemon | undefined)[], dir: string | undefined): Promise<void> {
  const failures: unknown[] = [];
  for (const d of daemons) await d?.stop().catch((err: unknown) => failures.push(err));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch((err: unknown) => failures.push(err));
  if (failures.length > 0) throw failures[0];
}

/**
 * What measureTcpForward needs of a forward: a TcpForward, or any other forwarder described
 * the same way (the tunnel's own source/dest: `{client: 'src', server: 'dst', listenAddress:
 * '127.0.0.1', port: 5201}` when its source listens on 5201 and its dest delivers to 5201).
 */
export type ForwardedPort = Pick<TcpForward, 'client' | 'server' | 'listenAddress' | 'port'>;

/** Options of {@link measureTcpForward}. */
export interface MeasureTcpForwardOptions {
  /** iperf3 seconds; default 5. */
  seconds?: number;
  /** Parallel TCP streams (iperf3 -P), each its own forwarded connection; default 1. */
  parallel?: number;
  /** Server to client (iperf3 -R); default false. */
  reverse?: boolean;
  signal?: AbortSignal;
}

/**
 * iperf3 through a running forward: a one-off `iperf3 -s -p port` in the server node (all
 * addresses, so the forward's target 127.0.0.1:port reaches it), `iperf3 -c listenAddress -p
 * port` in the client node, N parallel streams. Returns the receiver's Mbit/s.
 *
 * @example
 * const fwd = await startStunnelForward(lab, { client: 'client', server: 'server', serverAddress });
 * try { console.log(await measureTcpForward(lab, fwd, { seconds: 5, parallel: 1 })); } finally { await fwd.stop(); }
 */
export async function measureTcpForward(lab: Lab, forward: ForwardedPort, options: MeasureTcpForwardOptions = {}): Promise<number> {
  const r = await runIperf(lab, {
    client: forward.client,
    server: forward.server,
    address: forward.listenAddress,
    port: forward.port,
    seconds: options.seconds ?? 5,
    parallel: options.parallel ?? 1,
    reverse: options.reverse ?? false,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return r.receiverMbps;
}

/**
 * BENCH.md row name of a forwarder at `parallel` streams: `stunnel-tcp-1`, `ssh-tcp-8`.
 *
 * @example forwardResultName('ssh', 1) // 'ssh-tcp-1'
 */
export function forwardResultName(peer: ForwardPeerName, parallel: number): string {
  return `${peer}-tcp-${parallel}`;
}

/**
 * A Contender for `runAlternating` measuring a forward that may have failed to start (then
 * it is reported as value null with the reason, never dropped).
 *
 * @example
 * const rows = await runAlternating([tunnelContender, forwardContender(lab, 'stunnel', fwd, undefined, { seconds: 5 })], 3);
 */
export function forwardContender(lab: Lab, peer: ForwardPeerName, forward: TcpForward | undefined, error: unknown, options: MeasureTcpForwardOptions = {}): Contender {
  const name = forwardResultName(peer, options.parallel ?? 1);
  if (forward === undefined) {
    const text = error instanceof Error ? error.message : String(error ?? 'not started');
    const nl = text.indexOf('\n');
    return { name, unit: 'Mbit/s', kind: 'peer', unavailable: `${peer} did not start: ${nl < 0 ? text : text.slice(0, nl)}`, run: () => Number.NaN };
  }
  return { name, unit: 'Mbit/s', kind: 'peer', run: () => measureTcpForward(lab, forward, options) };
}
