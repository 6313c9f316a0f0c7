/**
 * `ssh -L` (Debian openssh-client / openssh-server) as a benchmark peer of the tunnel app: a
 * TCP port forward from the client node to the server node through OpenSSH, one cipher only
 * (default aes256-gcm@openssh.com, the AES-256-GCM the tunnel itself uses).
 *
 * Steps: 1. a 0700 temp dir with a throwaway ed25519 host key and client key (ssh-keygen),
 * an authorized_keys line restricted to forwarding to the target, a known_hosts line for the
 * host key, and a private sshd_config: public key only, no sessions, no shell, no agent/X11/
 * tunnel/remote forwarding, local forwarding to the target only  2. sshd (as root, `-D -e`,
 * absolute path for its re-exec) in the server node, waits until it logs it listens
 * 3. `ssh -N -L 127.0.0.1:port:target:port` in the client node, host key checked strictly
 * against the known_hosts line, ExitOnForwardFailure, waits until it logs the forward
 * listening  4. the cipher ssh logs for the client->server direction must be the one asked for.
 * Any failure tears down what was started (by PID, temp dir) and throws with the log tails.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type Lab } from '@edgebox/netlab';
import { SSH_FORWARD_LOCAL_PORT, SSH_FORWARD_PORT, SSHD_PRIVSEP_DIR, START_DEADLINE_MS } from './constants.js';
import { startDaemon, type Daemon } from './daemon.js';
import { VpnPeersError, errorMessage } from './errors.js';
import { checkForwardOptions, forwardHandle, stopForward, type TcpForward, type TcpForwardOptions } from './forward.js';
import { findExecutable, requireTool } from './tools.js';
import { checkPort } from './tunnel-net.js';
import { formatLogs, throwIfAborted, waitUntil } from './wait.js';

/** SSH ciphers the forward may be pinned to (AEADs only). */
export const SSH_FORWARD_CIPHERS = ['aes256-gcm@openssh.com', 'aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'] as const;
export type SshForwardCipher = (typeof SSH_FORWARD_CIPHERS)[number];

/** Options of {@link startSshForward}. */
export interface SshForwardOptions extends TcpForwardOptions {
  /** sshd's port on the lab link; default 2222. */
  serverPort?: number;
  /** The only cipher both ends allow; default aes256-gcm@openssh.com. */
  cipher?: SshForwardCipher;
  /** sshd program (absolute path needed for its re-exec); default `sshd` from PATH. */
  sshd?: string;
  /** ssh program; default `ssh` from PATH. */
  ssh?: string;
  /** ssh-keygen program; default `ssh-keygen` from PATH. */
  sshKeygen?: string;
}

/** A running `ssh -L` forward. */
export interface SshForward extends TcpForward {
  readonly peer: 'ssh';
}

const CLIENT_CIPHER = /kex: client->server cipher: (\S+)/;

function sshdConfig(o: { port: number; listen: string; dir: string; permitOpen: string; cipher: string }): string {
  return [
    `Port ${o.port}`,
    `ListenAddress ${o.listen}`,
    `HostKey ${join(o.dir, 'host_ed25519')}`,
    'PidFile none',
    `AuthorizedKeysFile ${join(o.dir, 'authorized_keys')}`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'HostbasedAuthentication no',
    'PermitRootLogin prohibit-password',
    'AllowUsers root',
    'UsePAM no',
    // The key files live in a temp dir under the world-writable /tmp, which StrictModes
    // refuses; the dir itself is 0700 and root's.
    'StrictModes no',
    // Port forwarding only: no session (MaxSessions 0 still permits forwarding), no shell.
    'MaxSessions 0',
    'ForceCommand /bin/false',
    'PermitTTY no',
    'PermitUserRC no',
    'AllowTcpForwarding local',
    `PermitOpen ${o.permitOpen}`,
    'AllowAgentForwarding no',
    'AllowStreamLocalForwarding no',
    'X11Forwarding no',
    'PermitTunnel no',
    'GatewayPorts no',
    `Ciphers ${o.cipher}`,
    'Compression no',
    'UseDNS no',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/**
 * Starts an `ssh -L` forward of `port` from the client node to the server node (sshd run as
 * root there with a private config) and resolves once ssh reports the forward listening
 * with the requested cipher.
 *
 * @example
 * const fwd = await startSshForward(lab, { client: 'client', server: 'server', serverAddress: lab.address('server', 'wan') });
 * try {
 *   const mbps = await measureTcpForward(lab, fwd, { seconds: 5 });
 * } finally {
 *   await fwd.stop();
 * }
 */
export async function startSshForward(lab: Lab, options: SshForwardOptions): Promise<SshForward> {
  const what = 'ssh forward';
  const plan = checkForwardOptions(options, 'ssh', SSH_FORWARD_LOCAL_PORT);
  const serverPort = checkPort(options.serverPort ?? SSH_FORWARD_PORT, 'ssh serverPort');
  const cipher = options.cipher ?? 'aes256-gcm@openssh.com';
  if (!SSH_FORWARD_CIPHERS.includes(cipher)) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `ssh cipher ${JSON.stringify(cipher)} is not one of ${SSH_FORWARD_CIPHERS.join(', ')}`, { details: { cipher } });
  }
  // sshd lives in /usr/sbin, which a non-login root PATH (some CI runners) leaves out.
  const sshd = requireTool(options.sshd ?? (findExecutable('sshd') === undefined ? '/usr/sbin/sshd' : 'sshd'));
  const ssh = requireTool(options.ssh ?? 'ssh');
  const sshKeygen = requireTool(options.sshKeygen ?? 'ssh-keygen');
  const deadlineMs = options.deadlineMs ?? START_DEADLINE_MS;
  const deadline = performance.now() + deadlineMs;
  const { signal } = options;
  throwIfAborted(signal, what);

  let dir: string | undefined;
  let server: Daemon | undefined;
  let client: Daemon | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), 'edgebox-vpn-peers-ssh-')); // mkdtemp makes it 0700
    const f = (name: string): string => join(dir!, name);
    try {
      for (const key of ['host_ed25519', 'client_ed25519']) {
        await runCommand(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', `edgebox-vpn-peers-${key}`, '-f', f(key)], { timeoutMs: 10_000, ...(signal === undefined ? {} : { signal }) });
      }
    } catch (err) {
      throw new VpnPeersError('VPN_PEERS_PKI_FAILED', `${what}: ssh-keygen could not make the throwaway keys: ${errorMessage(err)}`, { cause: err });
    }
    const permitOpen = `${plan.targetAddress}:${plan.port}`;
    const clientPub = (await readFile(f('client_ed25519.pub'), 'utf8')).trim();
    const hostPub = (await readFile(f('host_ed25519.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    // The key itself may only open the one forward, whatever sshd_config says.
    await writeFile(f('authorized_keys'), `restrict,port-forwarding,permitopen="${permitOpen}" ${clientPub}\n`, { mode: 0o600 });
    await writeFile(f('known_hosts'), `${serverPort === 22 ? plan.serverAddress : `[${plan.serverAddress}]:${serverPort}`} ${hostPub}\n`, { mode: 0o600 });
    await writeFile(f('sshd_config'), sshdConfig({ port: serverPort, listen: plan.serverAddress, dir, permitOpen, cipher }), { mode: 0o600 });
    // sshd refuses to start without its privilege separation directory; on a host where sshd
    // is not a running service (CI, containers) nothing has created it. /run is not
    // per-namespace, so this is the host's.
    await mkdir(SSHD_PRIVSEP_DIR, { recursive: true, mode: 0o755 });

    server = startDaemon(lab, plan.server, sshd, ['-D', '-e', '-f', f('sshd_config')], { name: 'sshd' });
    await waitUntil(() => server!.hasPrinted(/Server listening on /), { what, deadline, budgetMs: deadlineMs, daemons: [server], signal });
    client = startDaemon(lab, plan.client, ssh, [
      '-F', '/dev/null', '-N', '-v',
      '-L', `${plan.listenAddress}:${plan.port}:${plan.targetAddress}:${plan.port}`,
      '-i', f('client_ed25519'), '-p', String(serverPort), '-l', 'root',
      '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${f('known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'UpdateHostKeys=no',
      '-o', 'ExitOnForwardFailure=yes', '-o', `Ciphers=${cipher}`, '-o', 'Compression=no', '-o', 'ConnectTimeout=5',
      plan.serverAddress,
    ], { name: 'ssh client' });
    const both = [server, client];
    // "Local forwarding listening" can precede a failed bind of the same forward; the session
    // is entered only after every forward is set up (ExitOnForwardFailure exits instead).
    await waitUntil(() => client!.hasPrinted(/Local forwarding listening on /) && client!.hasPrinted(/Entering interactive session/), {
      what,
      deadline,
      budgetMs: deadlineMs,
      daemons: both,
      signal,
    });
    if (client.hasPrinted(/Could not request local forwarding|cannot listen to port/)) {
      throw new VpnPeersError('VPN_PEERS_START_FAILED', `${what}: ssh could not listen on ${plan.listenAddress}:${plan.port}\n${formatLogs(both)}`, { details: { port: plan.port } });
    }
    const negotiated = CLIENT_CIPHER.exec(client.logTail(1_000))?.[1] ?? '';
    if (negotiated !== cipher) {
      throw new VpnPeersError('VPN_PEERS_START_FAILED', `${what}: ssh negotiated ${negotiated || 'an unknown cipher'}, expected ${cipher}\n${formatLogs(both)}`, {
        details: { expected: cipher, negotiated },
      });
    }
    return forwardHandle('ssh', plan, { serverPort, cipher: negotiated, dir, client, server }) as SshForward;
  } catch (err) {
    await stopForward([client, server], dir).catch(() => undefined);
    throw err;
  }
}
