/**
 * wireguard-go as a benchmark peer: the userspace WireGuard daemon (`wireguard-go -f <if>`)
 * in each of two lab nodes, configured over its UAPI socket (./uapi.ts, the protocol `wg`
 * speaks; `wg` itself is not needed), keys from node:crypto (./keys.ts).
 *
 * Steps: 1. keys  2. both daemons  3. both UAPI sockets appear  4. UAPI set (server: key,
 * listen port, client peer; client: key, server peer with endpoint)  5. addresses, MTU, up
 * 6. first ping through the tunnel. Any failure tears down what was started and throws with
 * the daemons' log tails.
 *
 * UAPI sockets live in /var/run/wireguard, which all namespaces share, so interface names
 * are unique per tunnel (`wgs-<hex>` / `wgc-<hex>`), never a fixed `wg0`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Lab } from '@edgebox/netlab';
import { START_DEADLINE_MS, WIREGUARD_MTU, WIREGUARD_PORT, WIREGUARD_SOCKET_DIR, WIREGUARD_TUNNEL_NET } from './constants.js';
import { startDaemon } from './daemon.js';
import type { Daemon } from './daemon.js';
import { VpnPeersError, errorMessage, isVpnPeersError } from './errors.js';
import { generateWireGuardKeyPair } from './keys.js';
import { requireTool } from './tools.js';
import { teardown } from './tunnel.js';
import type { PeerTunnel } from './tunnel.js';
import { checkPort, tunnelAddresses } from './tunnel-net.js';
import { uapiSet } from './uapi.js';
import { formatLogs, pingOnce, throwIfAborted, waitUntil } from './wait.js';

/** Options of {@link startWireGuardGoTunnel}. */
export interface WireGuardGoTunnelOptions {
  /** Lab node of the client end (it has the server as endpoint). */
  client: string;
  /** Lab node of the server end (it learns the client's endpoint). */
  server: string;
  /** The server's underlay address the client sends to. */
  serverAddress: string;
  /** Server UDP listen port; default 51820. */
  port?: number;
  /** IPv4 prefix of the tunnel: server .1, client .2; default 10.202.0.0/24. */
  tunnelNet?: string;
  /** Interface MTU; default 1420 (wireguard-go's own default). */
  mtu?: number;
  /** Interface names; default `wgs-<6 hex>` and `wgc-<6 hex>`. */
  serverIfname?: string;
  clientIfname?: string;
  /** Spawn to first ping; default 15 000 ms. */
  deadlineMs?: number;
  /** wireguard-go program; default `wireguard-go` from PATH. */
  wireguardGo?: string;
  /** wireguard-go LOG_LEVEL: verbose (default), error or silent. */
  logLevel?: 'verbose' | 'error' | 'silent';
  signal?: AbortSignal;
}

/** A running wireguard-go tunnel. */
export interface WireGuardGoTunnel extends PeerTunnel {
  readonly peer: 'wireguard-go';
  /** UAPI sockets of both ends (for uapiGet: handshakes, byte counters). */
  readonly sockets: { client: string; server: string };
  /** Public keys (raw 32 bytes). */
  readonly publicKeys: { client: Buffer; server: Buffer };
}

/** The UAPI socket path of a wireguard-go interface. */
export function uapiSocketPath(ifname: string): string {
  return join(WIREGUARD_SOCKET_DIR, `${ifname}.sock`);
}

const endpoint = (address: string, port: number): string => (isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/**
 * Starts a wireguard-go tunnel and resolves once a ping passes through it.
 *
 * @example
 * const wg = await startWireGuardGoTunnel(lab, { client: 'client', server: 'server', serverAddress: lab.address('server', 'wan') });
 * try {
 *   await lab.exec('client', 'ping', ['-c', '1', wg.serverTunAddress]);
 * } finally {
 *   await wg.stop();
 * }
 */
export async function startWireGuardGoTunnel(lab: Lab, options: WireGuardGoTunnelOptions): Promise<WireGuardGoTunnel> {
  const what = 'wireguard-go tunnel';
  if (isIP(options.serverAddress) === 0) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `wireguard-go serverAddress ${JSON.stringify(options.serverAddress)} is not an IP address`, { details: { serverAddress: options.serverAddress } });
  }
  const port = checkPort(options.port ?? WIREGUARD_PORT, 'wireguard-go port');
  const net = tunnelAddresses(options.tunnelNet ?? WIREGUARD_TUNNEL_NET);
  const mtu = options.mtu ?? WIREGUARD_MTU;
  if (!(Number.isInteger(mtu) && mtu >= 576 && mtu <= 65535)) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `wireguard-go mtu ${mtu} out of range (expected an integer 576..65535)`, { details: { mtu } });
  }
  const tag = randomBytes(3).toString('hex');
  const ifnames = { server: options.serverIfname ?? `wgs-${tag}`, client: options.clientIfname ?? `wgc-${tag}` };
  const sockets = { server: uapiSocketPath(ifnames.server), client: uapiSocketPath(ifnames.client) };
  for (const sock of [sockets.server, sockets.client]) {
    if (existsSync(sock)) {
      throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `${what}: ${sock} already exists (another wireguard-go uses that interface name)`, { details: { socket: sock } });
    }
  }
  const deadlineMs = options.deadlineMs ?? START_DEADLINE_MS;
  const deadline = performance.now() + deadlineMs;
  const wireguardGo = requireTool(options.wireguardGo ?? 'wireguard-go');
  const { signal } = options;
  throwIfAborted(signal, what);

  const keys = { server: generateWireGuardKeyPair(), client: generateWireGuardKeyPair() };
  const env = { LOG_LEVEL: options.logLevel ?? 'verbose' };
  let server: Daemon | undefined;
  let client: Daemon | undefined;
  const down = (): Promise<void> =>
    teardown({
      lab,
      daemons: [client, server],
      interfaces: [
        { node: options.client, ifname: ifnames.client },
        { node: options.server, ifname: ifnames.server },
      ],
      // wireguard-go removes its socket on a clean exit, not after SIGKILL.
      cleanup: async () => {
        await rm(sockets.server, { force: true });
        await rm(sockets.client, { force: true });
      },
    });

  try {
    server = startDaemon(lab, options.server, wireguardGo, ['-f', ifnames.server], { name: 'wireguard-go server', env });
    client = startDaemon(lab, options.client, wireguardGo, ['-f', ifnames.client], { name: 'wireguard-go client', env });
    const both = [server, client];
    await waitUntil(() => existsSync(sockets.server) && existsSync(sockets.client), { what: `${what} (UAPI sockets)`, deadline, budgetMs: deadlineMs, daemons: both, signal });
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        const code = isVpnPeersError(err, 'VPN_PEERS_UAPI_FAILED') ? 'VPN_PEERS_UAPI_FAILED' : 'VPN_PEERS_START_FAILED';
        throw new VpnPeersError(code, `${what}: ${name}: ${errorMessage(err)}\n${formatLogs(both)}`, { cause: err, details: { step: name } });
      }
    };
    await step('configure server over UAPI', () =>
      uapiSet(sockets.server, [
        ['private_key', keys.server.privateKey.toString('hex')],
        ['listen_port', String(port)],
        ['replace_peers', 'true'],
        ['public_key', keys.client.publicKey.toString('hex')],
        ['replace_allowed_ips', 'true'],
        ['allowed_ip', `${net.clientAddress}/32`],
      ]),
    );
    await step('configure client over UAPI', () =>
      uapiSet(sockets.client, [
        ['private_key', keys.client.privateKey.toString('hex')],
        ['replace_peers', 'true'],
        ['public_key', keys.server.publicKey.toString('hex')],
        ['endpoint', endpoint(options.serverAddress, port)],
        ['replace_allowed_ips', 'true'],
        ['allowed_ip', `${net.serverAddress}/32`],
      ]),
    );
    for (const [node, ifname, address] of [
      [options.server, ifnames.server, net.serverAddress],
      [options.client, ifnames.client, net.clientAddress],
    ] as const) {
      await step(`address ${address}/${net.prefix} on ${ifname} in ${node}`, async () => {
        await lab.exec(node, 'ip', ['addr', 'add', `${address}/${net.prefix}`, 'dev', ifname], { timeoutMs: 5_000 });
        await lab.exec(node, 'ip', ['link', 'set', 'dev', ifname, 'mtu', String(mtu), 'up'], { timeoutMs: 5_000 });
      });
    }
    await waitUntil(() => pingOnce(lab, options.client, net.serverAddress), { what, deadline, budgetMs: deadlineMs, daemons: both, signal });
    const s = server;
    const c = client;
    let stopping: Promise<void> | undefined;
    return {
      peer: 'wireguard-go',
      client: options.client,
      server: options.server,
      clientTunAddress: net.clientAddress,
      serverTunAddress: net.serverAddress,
      clientIfname: ifnames.client,
      serverIfname: ifnames.server,
      pids: { client: c.pid, server: s.pid },
      sockets,
      publicKeys: { client: keys.client.publicKey, server: keys.server.publicKey },
      logTail: (lines?: number) => ({ client: c.logTail(lines), server: s.logTail(lines) }),
      stop: () => (stopping ??= down()),
    };
  } catch (err) {
    await down().catch(() => undefined);
    throw err;
  }
}
