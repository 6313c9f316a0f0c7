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

  it('pins another TLS 1.3 suite when asked, and measureTcpForward takes any forward described by its ports', async () => {
    const fwd = await startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, cipherSuite: 'TLS_CHACHA20_POLY1305_SHA256', port: 5331, serverPort: 8445 });
    try {
      expect(fwd.cipher).toBe('TLS_CHACHA20_POLY1305_SHA256');
      // what a bench passes for its own forwarder (here: this one, by its description only)
      expect(await measureTcpForward(lab.get(), { client: 'client', server: 'server', listenAddress: '127.0.0.1', port: 5331 }, { seconds: 1 })).toBeGreaterThan(10);
      expect(fwd.logTail(200).server).toMatch(/TLSv1\.3 ciphersuite: TLS_CHACHA20_POLY1305_SHA256/);
    } finally {
      await fwd.stop();
    }
  });

  it('a server it cannot reach times out at the deadline, naming it and quoting both logs', async () => {
    await lab.get().cut('wan');
    try {
      const started = performance.now();
      const err: unknown = await startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, deadlineMs: 2_000 }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_START_TIMEOUT')).toBe(true);
      expect((err as Error).message).toMatch(/^stunnel forward did not come up within 2000 ms/);
      expect((err as Error).message).toContain('--- stunnel client');
      expect(performance.now() - started).toBeLessThan(6_000);
      expect(await namespacePids(lab.get(), 'client')).toEqual([]);
      expect(await namespacePids(lab.get(), 'server')).toEqual([]);
    } finally {
      await lab.get().restore('wan');
    }
  });

  it('checks its options before starting anything', async () => {
    await expect(startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, cipherSuite: 'TLS_AES_128_CCM_SHA256' as never })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT' });
    await expect(startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, serverPort: 0 })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT' });
    await expect(startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, targetAddress: 'localhost' })).rejects.toMatchObject({
      code: 'VPN_PEERS_INVALID_ARGUMENT',
      message: 'stunnel targetAddress "localhost" is not an IPv4 address',
    });
  });

  it('a missing stunnel is VPN_PEERS_TOOL_MISSING naming the Debian package', async () => {
    await expect(startStunnelForward(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, stunnel: '/nonexistent/stunnel4' })).rejects.toMatchObject({
      code: 'VPN_PEERS_TOOL_MISSING',
      message: expect.stringContaining('Debian package stunnel4') as unknown,
    });
  });
});
