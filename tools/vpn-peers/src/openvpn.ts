/**
 * OpenVPN 2.6 as a benchmark peer: a userspace (no DCO) UDP tun tunnel between two lab nodes,
 * AES-256-GCM data channel, no compression.
 *
 * Mode: TLS point-to-point (`--tls-server` / `--tls-client` with `--ifconfig`), keyed by a
 * throwaway CA made with openssl (./pki.ts). Static-key p2p (`--secret`) is deprecated in 2.6
 * and gone in 2.7, so it is not used. In p2p TLS mode OpenVPN 2.6 negotiates the data cipher
 * from `--data-ciphers` (P2P NCP); we check the log says the one we asked for.
 *
 * Steps: 1. PKI  2. server (waits until its UDP socket is bound)  3. client  4. both ends
 * report the data channel up  5. first ping through the tunnel  6. negotiated cipher ==
 * requested. Any failure tears down what was started (daemons by PID, interfaces, PKI dir)
 * and throws with the daemons' log tails.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Lab } from '@edgebox/netlab';
import { OPENVPN_PORT, OPENVPN_TUNNEL_NET, START_DEADLINE_MS } from './constants.js';
import { startDaemon } from './daemon.js';
import type { Daemon } from './daemon.js';
import { VpnPeersError } from './errors.js';
import { createThrowawayPki } from './pki.js';
import type { ThrowawayPki } from './pki.js';
import { requireTool } from './tools.js';
import { teardown } from './tunnel.js';
import type { PeerTunnel } from './tunnel.js';
import { checkPort, tunnelAddresses } from './tunnel-net.js';
import { formatLogs, pingOnce, throwIfAborted, waitUntil } from './wait.js';

/** AEAD data-channel ciphers OpenVPN 2.6 offers. */
export const OPENVPN_CIPHERS = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'] as const;
export type OpenVpnCipher = (typeof OPENVPN_CIPHERS)[number];

/** Options of {@link startOpenVpnTunnel}. */
export interface OpenVpnTunnelOptions {
  /** Lab node of the client end (it connects to `serverAddress`). */
  client: string;
  /** Lab node of the server end. */
  server: string;
  /** The server's underlay address the client reaches it at (the server binds to it). */
  serverAddress: string;
  /** Data-channel cipher; default AES-256-GCM. */
  cipher?: OpenVpnCipher;
  /** Server UDP port; default 1194. */
  port?: number;
  /** IPv4 prefix of the tunnel: server .1, client .2; default 10.201.0.0/24. */
  tunnelNet?: string;
  /** tun device name on both ends; default `ovpn-<6 hex>`. */
  ifname?: string;
  /** Spawn to first ping; default 15 000 ms. */
  deadlineMs?: number;
  /** openvpn program; default `openvpn` from PATH. */
  openvpn?: string;
  /** openssl program for the PKI; default `openssl` from PATH. */
  openssl?: string;
  /** Extra openvpn options for both ends (e.g. `['--sndbuf', '0']`). */
  extraArgs?: readonly string[];
  signal?: AbortSignal;
}

/** A running OpenVPN tunnel. */
export interface OpenVpnTunnel extends PeerTunnel {
  readonly peer: 'openvpn';
  /** The data-channel cipher the client's log reports (`Data Channel: cipher '...'`). */
  readonly cipher: string;
  /** The throwaway PKI's temp dir (removed by stop()). */
  readonly pkiDir: string;
}

const DATA_CHANNEL = /Data Channel: cipher '([^']+)'/;

/**
 * Starts an OpenVPN tunnel and resolves once a ping passes through it.
 *
 * @example
 * const vpn = await startOpenVpnTunnel(lab, { client: 'client', server: 'server', serverAddress: lab.address('server', 'wan') });
 * try {
 *   await runIperf(lab, { client: 'client', server: 'server', address: vpn.serverTunAddress, seconds: 5 });
 * } finally {
 *   await vpn.stop();
 * }
 */
export async function startOpenVpnTunnel(lab: Lab, options: OpenVpnTunnelOptions): Promise<OpenVpnTunnel> {
  const what = 'openvpn tunnel';
  const cipher = options.cipher ?? 'AES-256-GCM';
  if (!OPENVPN_CIPHERS.includes(cipher)) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `openvpn cipher ${JSON.stringify(cipher)} is not one of ${OPENVPN_CIPHERS.join(', ')}`, { details: { cipher } });
  }
  if (isIP(options.serverAddress) === 0) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `openvpn serverAddress ${JSON.stringify(options.serverAddress)} is not an IP address`, { details: { serverAddress: options.serverAddress } });
  }
  const port = checkPort(options.port ?? OPENVPN_PORT, 'openvpn port');
  const net = tunnelAddresses(options.tunnelNet ?? OPENVPN_TUNNEL_NET);
  const ifname = options.ifname ?? `ovpn-${randomBytes(3).toString('hex')}`;
  const deadlineMs = options.deadlineMs ?? START_DEADLINE_MS;
  const deadline = performance.now() + deadlineMs;
  const openvpn = requireTool(options.openvpn ?? 'openvpn');
  const { signal } = options;
  throwIfAborted(signal, what);

  let pki: ThrowawayPki | undefined;
  let server: Daemon | undefined;
  let client: Daemon | undefined;
  const down = (): Promise<void> =>
    teardown({
      lab,
      daemons: [client, server],
      interfaces: [
        { node: options.client, ifname },
        { node: options.server, ifname },
      ],
      cleanup: async () => pki?.remove(),
    });

  try {
    pki = await createThrowawayPki({ openssl: options.openssl, signal });
    const common = [
      '--dev', ifname, '--dev-type', 'tun', '--proto', 'udp',
      '--data-ciphers', cipher, '--allow-compression', 'no', '--disable-dco',
      '--ca', pki.caCert, '--tls-version-min', '1.2', '--auth-nocache',
      // Retry the TLS handshake after 1 s rather than 2 s if the first packet is lost.
      '--tls-timeout', '1', '--verb', '3',
      ...(options.extraArgs ?? []),
    ];
    server = startDaemon(lab, options.server, openvpn, [
      '--tls-server', '--dh', 'none', '--cert', pki.serverCert, '--key', pki.serverKey, '--remote-cert-tls', 'client',
      '--local', options.serverAddress, '--lport', String(port), '--ifconfig', net.serverAddress, net.clientAddress,
      ...common,
    ], { name: 'openvpn server' });
    // Start the client once the server's socket is bound, so its first TLS packet is answered.
    await waitUntil(() => server!.hasPrinted(/link local \(bound\)/), { what, deadline, budgetMs: deadlineMs, daemons: [server], signal });
    client = startDaemon(lab, options.client, openvpn, [
      '--tls-client', '--cert', pki.clientCert, '--key', pki.clientKey, '--remote-cert-tls', 'server',
      '--remote', options.serverAddress, String(port), '--nobind', '--ifconfig', net.clientAddress, net.serverAddress,
      ...common,
    ], { name: 'openvpn client' });
    const both = [server, client];
    // Data keys are in place once both ends print this (with the negotiated cipher right
    // after); pinging earlier only loses a ping and its 1 s wait.
    const ready = (d: Daemon): boolean => d.hasPrinted(/Initialization Sequence Completed/) && d.hasPrinted(DATA_CHANNEL);
    await waitUntil(() => ready(server!) && ready(client!), { what, deadline, budgetMs: deadlineMs, daemons: both, signal });
    await waitUntil(() => pingOnce(lab, options.client, net.serverAddress), { what, deadline, budgetMs: deadlineMs, daemons: both, signal });
    const negotiated = DATA_CHANNEL.exec(client.logTail(1_000))?.[1] ?? '';
    if (negotiated !== cipher) {
      throw new VpnPeersError('VPN_PEERS_START_FAILED', `${what}: data channel uses ${negotiated || 'an unknown cipher'}, expected ${cipher}\n${formatLogs(both)}`, {
        details: { expected: cipher, negotiated },
      });
    }
    const s = server;
    const c = client;
    let stopping: Promise<void> | undefined;
    return {
      peer: 'openvpn',
      client: options.client,
      server: options.server,
      clientTunAddress: net.clientAddress,
      serverTunAddress: net.serverAddress,
      clientIfname: ifname,
      serverIfname: ifname,
      pids: { client: c.pid, server: s.pid },
      cipher: negotiated,
      pkiDir: pki.dir,
      logTail: (lines?: number) => ({ client: c.logTail(lines), server: s.logTail(lines) }),
      stop: () => (stopping ??= down()),
    };
  } catch (err) {
    await down().catch(() => undefined);
    throw err;
  }
}
