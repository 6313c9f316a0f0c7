// `ssh -L` as root in a two-node lab: sshd (private config, forwarding only) in the server
// node, ssh in the client node, forward of the iperf3 port with aes256-gcm@openssh.com
// carries iperf3; the key can open nothing but that forward and no shell; stop() leaves no
// process or key file; failures to start name why and clean up.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isVpnPeersError, measureTcpForward, startSshForward } from '../src/index.js';
import { SERVER_ADDRESS, alive, namespacePids, reportNotRoot, root, useLab } from './root-gate.js';

reportNotRoot();

/** Waits (bounded) until the namespace has no process left: sshd's per-connection child exits on EOF. */
async function settledPids(get: () => Promise<number[]>): Promise<number[]> {
  let pids = await get();
  for (let i = 0; i < 40 && pids.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    pids = await get();
  }
  return pids;
}

describe.runIf(root.ok)('ssh -L forward', () => {
  const lab = useLab();

  it('forwards with aes256-gcm@openssh.com, carries iperf3, and stop() leaves nothing behind', async () => {
    const fwd = await startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS });
    let stopped = false;
    try {
      expect(fwd).toMatchObject({ peer: 'ssh', cipher: 'aes256-gcm@openssh.com', listenAddress: '127.0.0.1', port: 5212, serverPort: 2222 });
      expect(statSync(fwd.dir).mode & 0o777).toBe(0o700);
      expect(statSync(`${fwd.dir}/client_ed25519`).mode & 0o777).toBe(0o600);
      expect(readFileSync(`${fwd.dir}/sshd_config`, 'utf8')).toMatch(/^PermitOpen 127\.0\.0\.1:5212$/m);
      expect(readFileSync(`${fwd.dir}/authorized_keys`, 'utf8')).toMatch(/^restrict,port-forwarding,permitopen="127\.0\.0\.1:5212" ssh-ed25519 /);
      const one = await measureTcpForward(lab.get(), fwd, { seconds: 1 });
      expect(one).toBeGreaterThan(10);
      const two = await measureTcpForward(lab.get(), fwd, { seconds: 1, parallel: 2, reverse: true });
      expect(two).toBeGreaterThan(10);
      expect(fwd.logTail(200).server).toMatch(/Accepted publickey for root/);

      const pids = [fwd.pids.client, fwd.pids.server];
      expect(pids.every(alive)).toBe(true);
      await fwd.stop();
      stopped = true;
      await fwd.stop(); // idempotent
      expect(pids.filter(alive)).toEqual([]);
      expect(await settledPids(() => namespacePids(lab.get(), 'client'))).toEqual([]);
      expect(await settledPids(() => namespacePids(lab.get(), 'server'))).toEqual([]);
      expect(existsSync(fwd.dir)).toBe(false);
    } finally {
      if (!stopped) await fwd.stop();
    }
  });

  it('the throwaway client key opens no shell and no other forward', async () => {
    const fwd = await startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 5311, serverPort: 2223 });
    try {
      const base = ['-F', '/dev/null', '-i', `${fwd.dir}/client_ed25519`, '-p', '2223', '-l', 'root', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${fwd.dir}/known_hosts`, '-o', 'StrictHostKeyChecking=yes'];
      const shell = await lab.get().exec('client', 'ssh', [...base, SERVER_ADDRESS, 'echo', 'pwned'], { check: false, timeoutMs: 10_000 });
      expect(shell.code).not.toBe(0);
      expect(shell.stderr).toMatch(/channel 0: open failed/); // authenticated, but MaxSessions 0 refuses the session
      expect(shell.stdout).not.toContain('pwned');
      // A forward to another port is refused by sshd; ExitOnForwardFailure is not what stops
      // it (-L opens lazily), so ask for a remote-end check through -W (a direct-tcpip channel).
      const other = await lab.get().exec('client', 'ssh', [...base, '-W', '127.0.0.1:22', SERVER_ADDRESS], { check: false, timeoutMs: 10_000 });
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/administratively prohibited|open failed/);
    } finally {
      await fwd.stop();
    }
  });

  it('a port already in use fails at once naming the cause, and cleans up', async () => {
    const first = await startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 5321, serverPort: 2224 });
    try {
      const err: unknown = await startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 5321, serverPort: 2225 }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_START_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/^ssh forward: ssh client exited \(exit 255\) before the tunnel came up: .*/);
      expect((err as Error).message).toMatch(/Address already in use/);
      expect((await settledPids(async () => (await namespacePids(lab.get(), 'client')).filter((p) => p !== first.pids.client)))).toEqual([]);
    } finally {
      await first.stop();
    }
  });

  it('a server it cannot reach fails at once with ssh\'s reason, quoting both logs, and cleans up', async () => {
    await lab.get().cut('wan'); // the link goes down: ssh sees "Network is unreachable" and exits
    try {
      const err: unknown = await startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, deadlineMs: 5_000 }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_START_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/^ssh forward: ssh client exited \(exit 255\) before the tunnel came up: ssh: connect to host 10\.91\.0\.2 port 2222: Network is unreachable/);
      expect((err as Error).message).toContain('--- sshd');
      expect(await settledPids(() => namespacePids(lab.get(), 'client'))).toEqual([]);
      expect(await settledPids(() => namespacePids(lab.get(), 'server'))).toEqual([]);
    } finally {
      await lab.get().restore('wan');
    }
  });

  it('checks its options before starting anything', async () => {
    await expect(startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, cipher: 'aes128-ctr' as never })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT' });
    await expect(startSshForward(lab.get(), { client: 'server', server: 'server', serverAddress: SERVER_ADDRESS })).rejects.toMatchObject({
      code: 'VPN_PEERS_INVALID_ARGUMENT',
      message: expect.stringContaining('must differ from server') as unknown,
    });
    await expect(startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: 'server' })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT' });
    await expect(startSshForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, sshd: '/nonexistent/sshd' })).rejects.toMatchObject({
      code: 'VPN_PEERS_TOOL_MISSING',
      message: expect.stringContaining('Debian package openssh-server') as unknown,
    });
  });
});
