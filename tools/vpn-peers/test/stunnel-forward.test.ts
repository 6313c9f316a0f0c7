// stunnel as root in a two-node lab: a TLS 1.3 AES-256-GCM forward of the iperf3 port from
// the client node to the server node carries iperf3 (1 and 4 streams); stop() leaves no
// process or key file; failures to start name why and clean up.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isVpnPeersError, measureTcpForward, startStunnelForward } from '../src/index.js';
import { SERVER_ADDRESS, alive, namespacePids, reportNotRoot, root, useLab } from './root-gate.js';

reportNotRoot();

describe.runIf(root.ok)('stunnel forward', () => {
  const lab = useLab();

  it('forwards TLS 1.3 with TLS_AES_256_GCM_SHA384, carries iperf3, and stop() leaves nothing behind', async () => {
    const fwd = await startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS });
    let stopped = false;
    try {
      expect(fwd).toMatchObject({ peer: 'stunnel', cipher: 'TLS_AES_256_GCM_SHA384', listenAddress: '127.0.0.1', port: 5211, targetAddress: '127.0.0.1', serverPort: 8443 });
      expect(statSync(fwd.dir).mode & 0o777).toBe(0o700);
      const serverConf = readFileSync(`${fwd.dir}/server.conf`, 'utf8');
      expect(serverConf).toMatch(/sslVersionMin = TLSv1\.3/);
      expect(serverConf).toMatch(/ciphersuites = TLS_AES_256_GCM_SHA384/);
      const one = await measureTcpForward(lab.get(), fwd, { seconds: 1 });
      expect(one).toBeGreaterThan(10);
      const four = await measureTcpForward(lab.get(), fwd, { seconds: 1, parallel: 4 });
      expect(four).toBeGreaterThan(10);
      // The data really went through both ends with the pinned suite.
      expect(fwd.logTail(200).client).toMatch(/TLSv1\.3 ciphersuite: TLS_AES_256_GCM_SHA384/);
      expect(fwd.logTail(200).server).toMatch(/s_connect: connected 127\.0\.0\.1:5211/);

      const pids = [fwd.pids.client, fwd.pids.server];
      expect(pids.every(alive)).toBe(true);
      await fwd.stop();
      stopped = true;
      await fwd.stop(); // idempotent
      expect(pids.filter(alive)).toEqual([]);
      expect(await namespacePids(lab.get(), 'client')).toEqual([]);
      expect(await namespacePids(lab.get(), 'server')).toEqual([]);
      expect(existsSync(fwd.dir)).toBe(false);
    } finally {
      if (!stopped) await fwd.stop();
    }
  });

  it('a server port already in use fails at once naming the cause, and cleans up', async () => {
    const first = await startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 5301, serverPort: 8444 });
    try {
      const err: unknown = await startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 5302, serverPort: 8444 }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_START_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/^stunnel forward: stunnel server exited \(exit 1\) before the tunnel came up: .*Binding service \[fwd\] failed/);
      expect((err as Error).message).toContain('10.91.0.2:8444: Address already in use'); // in the quoted log
      expect([...(await namespacePids(lab.get(), 'client')), ...(await namespacePids(lab.get(), 'server'))].sort()).toEqual([first.pids.client, first.pids.server].sort());
    } finally {
      await first.stop();
    }
  });

  it('a missing stunnel is VPN_PEERS_TOOL_MISSING naming the Debian package', async () => {
    await expect(startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, stunnel: '/nonexistent/stunnel4' })).rejects.toMatchObject({
      code: 'VPN_PEERS_TOOL_MISSING',
      message: expect.stringContaining('Debian package stunnel4') as unknown,
    });
  });
});
