/**
 * The peer half of a VPN benchmark, per shared/BENCH.md: start OpenVPN and wireguard-go
 * tunnels over one lab link, then measure them and the bare link alternately, `runs` times,
 * with iperf3 (TCP Mbit/s, median of runs) and ping (RTT the tunnel adds over the bare link).
 *
 * | name                     | unit   | what                                                  |
 * |--------------------------|--------|-------------------------------------------------------|
 * | `link-tcp`               | Mbit/s | iperf3 over the bare link (the ceiling)               |
 * | `openvpn-tcp`            | Mbit/s | iperf3 through the OpenVPN tunnel                     |
 * | `wireguard-go-tcp`       | Mbit/s | iperf3 through the wireguard-go tunnel                |
 * | `link-rtt`               | ms     | median ping RTT over the bare link                    |
 * | `openvpn-rtt-added`      | ms     | median ping RTT through OpenVPN minus the bare link's |
 * | `wireguard-go-rtt-added` | ms     | likewise for wireguard-go                             |
 *
 * A peer that cannot start is still a row: value null and the error. {@link preparePeers}
 * hands out the contenders so a project's own bench (the bond) can run them in the same
 * runAlternating call as its own.
 */
import { runAlternating } from '@edgebox/bench';
import type { AlternatingResult, Contender } from '@edgebox/bench';
import type { Lab } from '@edgebox/netlab';
import { PING_COUNT } from './constants.js';
import { VpnPeersError, errorMessage } from './errors.js';
import { runIperf } from './iperf.js';
import { startOpenVpnTunnel } from './openvpn.js';
import type { OpenVpnTunnelOptions } from './openvpn.js';
import { runPing } from './ping.js';
import type { PeerName, PeerTunnel } from './tunnel.js';
import { startWireGuardGoTunnel } from './wireguard-go.js';
import type { WireGuardGoTunnelOptions } from './wireguard-go.js';

/** Result names this module produces. */
export const PEER_RESULT_NAMES = {
  linkTcp: 'link-tcp',
  linkRtt: 'link-rtt',
  openvpnTcp: 'openvpn-tcp',
  openvpnRttAdded: 'openvpn-rtt-added',
  wireguardGoTcp: 'wireguard-go-tcp',
  wireguardGoRttAdded: 'wireguard-go-rtt-added',
} as const;

/** Every peer this package can run, in measuring order. */
export const PEERS: readonly PeerName[] = ['openvpn', 'wireguard-go'];

/** Options of {@link preparePeers} and {@link measurePeers}. */
export interface MeasurePeersOptions {
  /** Rounds of alternating measurements; default 3. */
  runs?: number;
  /** iperf3 seconds per measurement; default 5. */
  seconds?: number;
  /** Lab link the tunnels run over; default the spec's first link. */
  link?: string;
  /** Client node (iperf3 -c, tunnel client); default the link's `a` node. */
  client?: string;
  /** Server node; default the link's `b` node. */
  server?: string;
  /** iperf3 parallel streams; default 1. */
  parallel?: number;
  /** iperf3 -R (server to client); default false. */
  reverse?: boolean;
  /** Pings per RTT measurement; default 10 (0.2 s apart). */
  pingCount?: number;
  /** Which peers; default both. */
  peers?: readonly PeerName[];
  /** Also measure the bare link (`link-tcp`, `link-rtt`); default true. */
  baseline?: boolean;
  /** Overrides for the OpenVPN tunnel (port, tunnelNet, extraArgs ...). */
  openvpn?: Partial<OpenVpnTunnelOptions>;
  /** Overrides for the wireguard-go tunnel. */
  wireguardGo?: Partial<WireGuardGoTunnelOptions>;
  signal?: AbortSignal;
}

/** Tunnels started and the contenders that measure them. */
export interface PreparedPeers {
  /** Rows in table order; hand them to `runAlternating` (with your own, if any). */
  contenders: Contender[];
  /** Tunnels that came up. */
  tunnels: PeerTunnel[];
  /** Why a peer did not come up (full message, with log tails). */
  errors: Partial<Record<PeerName, Error>>;
  /** Stops every tunnel (by PID). */
  stop(): Promise<void>;
}

/** Row names of a peer. */
export function peerResultNames(peer: PeerName): { tcp: string; rttAdded: string } {
  return peer === 'openvpn'
    ? { tcp: PEER_RESULT_NAMES.openvpnTcp, rttAdded: PEER_RESULT_NAMES.openvpnRttAdded }
    : { tcp: PEER_RESULT_NAMES.wireguardGoTcp, rttAdded: PEER_RESULT_NAMES.wireguardGoRttAdded };
}

/** The first line of an error message (the rest is log tails): short enough for a JSON row. */
export function firstLine(err: unknown): string {
  const text = errorMessage(err);
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/** The link, client and server a measurement runs over (defaults: the first link, its a and b nodes). */
export function where(lab: Lab, options: Pick<MeasurePeersOptions, 'link' | 'client' | 'server'>): { client: string; server: string; serverAddress: string } {
  const link = options.link === undefined ? lab.spec.links[0] : lab.spec.links.find((l) => l.name === options.link);
  if (link === undefined) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', options.link === undefined ? 'the lab has no link to measure' : `the lab has no link "${options.link}"`, { details: { link: options.link } });
  }
  const client = options.client ?? link.a.node;
  const server = options.server ?? link.b.node;
  return { client, server, serverAddress: lab.address(server, link.name) };
}

/**
 * Starts the requested peers' tunnels over one link and returns the contenders measuring
 * them (and the bare link). The caller runs them and must call `stop()`.
 *
 * @example
 * const peers = await preparePeers(lab, { link: 'wan1', seconds: 5 });
 * try {
 *   const rows = await runAlternating([bondContender, ...peers.contenders], 3);
 * } finally {
 *   await peers.stop();
 * }
 */
export async function preparePeers(lab: Lab, options: MeasurePeersOptions = {}): Promise<PreparedPeers> {
  const { client, server, serverAddress } = where(lab, options);
  const seconds = options.seconds ?? 5;
  const pingCount = options.pingCount ?? PING_COUNT;
  const { signal } = options;
  const iperf = (address: string) => async () =>
    (await runIperf(lab, { client, server, address, seconds, parallel: options.parallel, reverse: options.reverse, signal })).receiverMbps;
  const rtt = (address: string) => async () => (await runPing(lab, { node: client, address, count: pingCount, signal })).medianMs;

  const tunnels: PeerTunnel[] = [];
  const errors: Partial<Record<PeerName, Error>> = {};
  const tcpRows: Contender[] = [];
  const rttRows: Contender[] = [];
  const baseline = options.baseline ?? true;
  if (baseline) {
    tcpRows.push({ name: PEER_RESULT_NAMES.linkTcp, unit: 'Mbit/s', kind: 'peer', run: iperf(serverAddress) });
    rttRows.push({ name: PEER_RESULT_NAMES.linkRtt, unit: 'ms', kind: 'peer', run: rtt(serverAddress) });
  }
  for (const peer of options.peers ?? PEERS) {
    const names = peerResultNames(peer);
    let tunnel: PeerTunnel | undefined;
    try {
      tunnel =
        peer === 'openvpn'
          ? await startOpenVpnTunnel(lab, { ...options.openvpn, client, server, serverAddress, signal })
          : await startWireGuardGoTunnel(lab, { ...options.wireguardGo, client, server, serverAddress, signal });
      tunnels.push(tunnel);
    } catch (err) {
      errors[peer] = err instanceof Error ? err : new Error(String(err));
    }
    const unavailable = errors[peer] === undefined ? {} : { unavailable: `${peer} did not start: ${firstLine(errors[peer])}` };
    const tunnelAddress = tunnel?.serverTunAddress ?? '';
    tcpRows.push({ name: names.tcp, unit: 'Mbit/s', kind: 'peer', ...(baseline ? { ratioTo: PEER_RESULT_NAMES.linkTcp } : {}), ...unavailable, run: iperf(tunnelAddress) });
    rttRows.push({
      name: names.rttAdded,
      unit: 'ms',
      kind: 'peer',
      ...unavailable,
      // Bare link and tunnel pinged back to back, so both see the same machine load.
      run: async () => (await rtt(tunnelAddress)()) - (await rtt(serverAddress)()),
    });
  }
  return {
    contenders: [...tcpRows, ...rttRows],
    tunnels,
    errors,
    stop: async () => {
      const results = await Promise.allSettled(tunnels.map((t) => t.stop()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
  };
}

/**
 * Starts the peers over one link of `lab`, measures them (and the bare link) alternately
 * `runs` times and stops them; one row per result name, BENCH.md shape plus samples.
 *
 * @example
 * const rows = await measurePeers(lab, { runs: 3, seconds: 5 });
 * console.log(formatTable(rows));
 * writeBenchResults('vpn-peers', rows);
 */
export async function measurePeers(lab: Lab, options: MeasurePeersOptions = {}): Promise<AlternatingResult[]> {
  const prepared = await preparePeers(lab, options);
  try {
    return await runAlternating(prepared.contenders, options.runs ?? 3);
  } finally {
    await prepared.stop();
  }
}
