/**
 * The forwarder half of the tunnel benchmark (shared/BENCH.md names `stunnel-tcp-1`,
 * `ssh-tcp-1`): start stunnel and `ssh -L` forwards over one lab link and hand out
 * contenders that the tunnel's bench runs in the same runAlternating call as its own. A
 * forwarder that cannot start is still a contender, reported as value null with the reason.
 */
import { runAlternating, type AlternatingResult, type Contender } from '@edgebox/bench';
import type { Lab } from '@edgebox/netlab';
import { forwardContender, type ForwardPeerName, type MeasureTcpForwardOptions, type TcpForward } from './forward.js';
import { where } from './measure.js';
import { startSshForward, type SshForwardOptions } from './ssh-forward.js';
import { startStunnelForward, type StunnelForwardOptions } from './stunnel.js';

/** Every forwarder this package runs, in measuring order. */
export const FORWARD_PEERS: readonly ForwardPeerName[] = ['stunnel', 'ssh'];

/** Options of {@link prepareForwardPeers} and {@link measureForwardPeers}. */
export interface ForwardPeersOptions {
  /** Lab link the forwards run over; default the spec's first link. */
  link?: string;
  /** Client node (iperf3 -c, forward client end); default the link's `a` node. */
  client?: string;
  /** Server node (iperf3 -s, forward server end); default the link's `b` node. */
  server?: string;
  /** iperf3 seconds per measurement; default 5. */
  seconds?: number;
  /** One contender per stream count: `stunnel-tcp-1`, `stunnel-tcp-8` ...; default [1]. */
  parallel?: readonly number[];
  /** iperf3 -R; default false. */
  reverse?: boolean;
  /** Which forwarders; default both. */
  peers?: readonly ForwardPeerName[];
  /** Overrides for stunnel (serverPort, cipherSuite ...). */
  stunnel?: Partial<StunnelForwardOptions>;
  /** Overrides for ssh (serverPort, cipher ...). */
  ssh?: Partial<SshForwardOptions>;
  signal?: AbortSignal;
}

/** Started forwards and the contenders that measure them. */
export interface PreparedForwardPeers {
  contenders: Contender[];
  forwards: TcpForward[];
  /** Why a forwarder did not start (full message, with log tails). */
  errors: Partial<Record<ForwardPeerName, Error>>;
  /** Stops every forward (by PID). */
  stop(): Promise<void>;
}

/**
 * Starts the forwarders over one link and returns the contenders measuring them. The caller
 * runs them and must call `stop()`.
 *
 * @example
 * const fwd = await prepareForwardPeers(lab, { link: 'wan', seconds: 5 });
 * try {
 *   const rows = await runAlternating([tunnel1, tunnel8, ...fwd.contenders], 3); // stunnel-tcp-1, ssh-tcp-1
 * } finally {
 *   await fwd.stop();
 * }
 */
export async function prepareForwardPeers(lab: Lab, options: ForwardPeersOptions = {}): Promise<PreparedForwardPeers> {
  const { client, server, serverAddress } = where(lab, options);
  const { signal } = options;
  const common = { client, server, serverAddress, ...(signal === undefined ? {} : { signal }) };
  const forwards: TcpForward[] = [];
  const errors: Partial<Record<ForwardPeerName, Error>> = {};
  const contenders: Contender[] = [];
  for (const peer of options.peers ?? FORWARD_PEERS) {
    let forward: TcpForward | undefined;
    try {
      forward = peer === 'stunnel' ? await startStunnelForward(lab, { ...options.stunnel, ...common }) : await startSshForward(lab, { ...options.ssh, ...common });
      forwards.push(forward);
    } catch (err) {
      errors[peer] = err instanceof Error ? err : new Error(String(err));
    }
    for (const parallel of options.parallel ?? [1]) {
      const measure: MeasureTcpForwardOptions = { seconds: options.seconds ?? 5, parallel, reverse: options.reverse ?? false, ...(signal === undefined ? {} : { signal }) };
      contenders.push(forwardContender(lab, peer, forward, errors[peer], measure));
    }
  }
  return {
    contenders,
    forwards,
    errors,
    stop: async () => {
      const results = await Promise.allSettled(forwards.map((f) => f.stop()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
  };
}

/**
 * Starts the forwarders, measures them alternately `runs` times and stops them; one
 * BENCH.md row per forwarder and stream count.
 *
 * @example
 * const rows = await measureForwardPeers(lab, { runs: 3, seconds: 5 }); // stunnel-tcp-1, ssh-tcp-1
 */
export async function measureForwardPeers(lab: Lab, options: ForwardPeersOptions & { runs?: number } = {}): Promise<AlternatingResult[]> {
  const prepared = await prepareForwardPeers(lab, options);
  try {
    return await runAlternating(prepared.contenders, options.runs ?? 3);
  } finally {
    await prepared.stop();
  }
}
