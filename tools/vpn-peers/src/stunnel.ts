/**
 * stunnel (Debian stunnel4) as a benchmark peer of the tunnel app: a TLS 1.3 TCP port
 * forward between two lab nodes, one cipher suite only (default TLS_AES_256_GCM_SHA384, the
 * AES-256-GCM the tunnel itself uses).
 *
 * Steps: 1. a 0700 temp dir with a self-signed ECDSA P-256 certificate (openssl, 2 days)
 * and both configs  2. server in the server node, `accept = serverAddress:serverPort`,
 * `connect = target:port`, waits until it logs its socket bound  3. client in the client
 * node, `accept = 127.0.0.1:port`, verifying the server against that certificate
 * (`verifyPeer`), waits until bound  4. a TLS probe from the client node to the server end
 * (`openssl s_client -tls1_3`) must complete the handshake with the configured suite.
 * Any failure tears down what was started (by PID, temp dir) and throws with the log tails.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetlabError, runCommand, type Lab } from '@edgebox/netlab';
import { START_DEADLINE_MS, STUNNEL_FORWARD_PORT, STUNNEL_PORT } from './constants.js';
import { startDaemon, type Daemon } from './daemon.js';
import { VpnPeersError, errorMessage } from './errors.js';
import { fromNetlab } from './netlab-errors.js';
import { checkForwardOptions, forwardHandle, stopForward, type TcpForward, type TcpForwardOptions } from './forward.js';
import { requireTool } from './tools.js';
import { checkPort } from './tunnel-net.js';
import { formatLogs, throwIfAborted, waitUntil } from './wait.js';

/** TLS 1.3 suites stunnel may be pinned to. */
export const STUNNEL_CIPHER_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'] as const;
export type StunnelCipherSuite = (typeof STUNNEL_CIPHER_SUITES)[number];

/** Options of {@link startStunnelForward}. */
export interface StunnelForwardOptions extends TcpForwardOptions {
  /** The server end's TLS port on the lab link; default 8443. */
  serverPort?: number;
  /** The only TLS 1.3 suite offered and accepted; default TLS_AES_256_GCM_SHA384. */
  cipherSuite?: StunnelCipherSuite;
  /** stunnel program; default `stunnel4` from PATH. */
  stunnel?: string;
  /** openssl program (certificate and probe); default `openssl` from PATH. */
  openssl?: string;
}

/** A running stunnel forward. */
export interface StunnelForward extends TcpForward {
  readonly peer: 'stunnel';
}

const BOUND = /Service \[fwd\] \(FD=\d+\) bound to/;
/** Bounds of one TLS probe (openssl s_client from the client node). */
const PROBE_MIN_MS = 500;
const PROBE_MAX_MS = 5_000;

function config(lines: Record<string, string>, service: Record<string, string>): string {
  const kv = (o: Record<string, string>): string => Object.entries(o).map(([k, v]) => `${k} = ${v}`).join('\n');
  return `${kv(lines)}\n[fwd]\n${kv(service)}\n`;
}

/**
 * Starts a TLS 1.3 stunnel forward of `port` from the client node to the server node and
 * resolves once a TLS handshake with the configured suite has passed.
 *
 * @example
 * const fwd = await startStunnelForward(lab, { client: 'client', server: 'server', serverAddress: lab.address('server', 'wan') });
 * try {
 *   const mbps = await measureTcpForward(lab, fwd, { seconds: 5 });
 * } finally {
 *   await fwd.stop();
 * }
 */
export async function startStunnelForward(lab: Lab, options: StunnelForwardOptions): Promise<StunnelForward> {
  const what = 'stunnel forward';
  const plan = checkForwardOptions(options, 'stunnel', STUNNEL_FORWARD_PORT);
  const serverPort = checkPort(options.serverPort ?? STUNNEL_PORT, 'stunnel serverPort');
  const suite = options.cipherSuite ?? 'TLS_AES_256_GCM_SHA384';
  if (!STUNNEL_CIPHER_SUITES.includes(suite)) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `stunnel cipherSuite ${JSON.stringify(suite)} is not one of ${STUNNEL_CIPHER_SUITES.join(', ')}`, { details: { cipherSuite: suite } });
  }
  const stunnel = requireTool(options.stunnel ?? 'stunnel4');
  const openssl = requireTool(options.openssl ?? 'openssl');
  const deadlineMs = options.deadlineMs ?? START_DEADLINE_MS;
  const deadline = performance.now() + deadlineMs;
  const { signal } = options;
  throwIfAborted(signal, what);

  let dir: string | undefined;
  let server: Daemon | undefined;
  let client: Daemon | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), 'edgebox-vpn-peers-stunnel-')); // mkdtemp makes it 0700
    const f = (name: string): string => join(dir!, name);
    try {
      await runCommand(openssl, [
        'req', '-batch', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', f('key.pem'), '-out', f('cert.pem'), '-subj', '/CN=edgebox-vpn-peers-stunnel', '-days', '2',
      ], { timeoutMs: 20_000, ...(signal === undefined ? {} : { signal }) });
    } catch (err) {
      throw new VpnPeersError('VPN_PEERS_PKI_FAILED', `${what}: openssl could not make the self-signed certificate: ${errorMessage(err)}`, { cause: err });
    }
    // Both ends pinned to TLS 1.3 and one suite, so nothing else can be negotiated.
    const tls = { sslVersionMin: 'TLSv1.3', sslVersionMax: 'TLSv1.3', ciphersuites: suite };
    // foreground: logs to stderr, the PID we hold is the daemon; `pid =` writes no pid file;
    // debug = info: the negotiated suite is logged per connection.
    const global = { foreground: 'yes', pid: '', syslog: 'no', debug: 'info' };
    await writeFile(f('server.conf'), config(global, { accept: `${plan.serverAddress}:${serverPort}`, connect: `${plan.targetAddress}:${plan.port}`, cert: f('cert.pem'), key: f('key.pem'), ...tls }), { mode: 0o600 });
    await writeFile(f('client.conf'), config(global, { client: 'yes', accept: `${plan.listenAddress}:${plan.port}`, connect: `${plan.serverAddress}:${serverPort}`, verifyPeer: 'yes', CAfile: f('cert.pem'), ...tls }), { mode: 0o600 });

    server = startDaemon(lab, plan.server, stunnel, [f('server.conf')], { name: 'stunnel server' });
    await waitUntil(() => server!.hasPrinted(BOUND), { what, deadline, budgetMs: deadlineMs, daemons: [server], signal });
    client = startDaemon(lab, plan.client, stunnel, [f('client.conf')], { name: 'stunnel client' });
    const both = [server, client];
    await waitUntil(() => client!.hasPrinted(BOUND), { what, deadline, budgetMs: deadlineMs, daemons: both, signal });

    // Probe the server end as the client end would reach it: the handshake must pass and use
    // the one suite configured (a config stunnel accepted but OpenSSL reads differently shows here).
    let probe = '';
    await waitUntil(
      async () => {
        // Bounded by what is left of the deadline: a server it cannot reach must end in
        // START_TIMEOUT at the deadline, not in a probe hanging on its connect.
        const timeoutMs = Math.max(PROBE_MIN_MS, Math.min(PROBE_MAX_MS, Math.round(deadline - performance.now())));
        let res;
        try {
          res = await lab.exec(plan.client, openssl, ['s_client', '-connect', `${plan.serverAddress}:${serverPort}`, '-brief', '-tls1_3', '-CAfile', f('cert.pem'), '-verify_return_error'], {
            check: false,
            timeoutMs,
          });
        } catch (err) {
          if (isNetlabError(err, 'NETLAB_COMMAND_TIMEOUT')) return false;
          throw fromNetlab(err, `${what} TLS probe`);
        }
        probe = `${res.stdout}\n${res.stderr}`;
        return res.code === 0 && /CONNECTION ESTABLISHED/.test(probe);
      },
      { what, deadline, budgetMs: deadlineMs, daemons: both, signal },
    );
    const version = /Protocol version: (\S+)/.exec(probe)?.[1] ?? '';
    const negotiated = /Ciphersuite: (\S+)/.exec(probe)?.[1] ?? '';
    if (version !== 'TLSv1.3' || negotiated !== suite) {
      throw new VpnPeersError('VPN_PEERS_START_FAILED', `${what}: the TLS probe negotiated ${version || 'no protocol'} ${negotiated || 'no suite'}, expected TLSv1.3 ${suite}\n${formatLogs(both)}`, {
        details: { version, negotiated, expected: suite },
      });
    }
    return forwardHandle('stunnel', plan, { serverPort, cipher: negotiated, dir, client, server }) as StunnelForward;
  } catch (err) {
    await stopForward([client, server], dir).catch(() => undefined);
    throw err;
  }
}
