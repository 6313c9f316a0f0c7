// OpenVPN as root in a two-node lab: the tunnel comes up with AES-256-GCM and carries ping
// and iperf3; stop() leaves no process, interface or PKI file; failures to start name why.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { interfaceExists, isVpnPeersError, runIperf, runPing, startOpenVpnTunnel } from '../src/index.js';
import type { OpenVpnTunnel } from '../src/index.js';
import { SERVER_ADDRESS, alive, namespacePids, reportNotRoot, root, useLab } from './root-gate.js';

reportNotRoot();

describe.runIf(root.ok)('openvpn tunnel', () => {
  const lab = useLab();

  it('comes up with AES-256-GCM, carries ping and iperf3, and stop() leaves nothing behind', async () => {
    const vpn: OpenVpnTunnel = await startOpenVpnTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, cipher: 'AES-256-GCM', port: 1194, tunnelNet: '10.201.0.0/24' });
    let stopped = false;
    try {
      expect(vpn).toMatchObject({ peer: 'openvpn', cipher: 'AES-256-GCM', clientTunAddress: '10.201.0.2', serverTunAddress: '10.201.0.1' });
      expect(vpn.logTail().server).toMatch(/Data Channel: cipher 'AES-256-GCM'/);
      for (const pid of [vpn.pids.client, vpn.pids.server]) {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        expect(argv).toContain('--disable-dco'); // userspace data channel
        expect(argv.slice(argv.indexOf('--data-ciphers'), argv.indexOf('--data-ciphers') + 2)).toEqual(['--data-ciphers', 'AES-256-GCM']);
        expect(argv.slice(argv.indexOf('--allow-compression'), argv.indexOf('--allow-compression') + 2)).toEqual(['--allow-compression', 'no']);
      }
      expect(existsSync(vpn.pkiDir)).toBe(true);
      const ping = await runPing(lab.get(), { node: 'client', address: vpn.serverTunAddress, count: 3 });
      expect(ping.received).toBe(3);
      const iperf = await runIperf(lab.get(), { client: 'client', server: 'server', address: vpn.serverTunAddress, seconds: 1 });
      expect(iperf.receiverMbps).toBeGreaterThan(1);

      const pids = [vpn.pids.client, vpn.pids.server];
      expect(pids.every(alive)).toBe(true);
      await vpn.stop();
      stopped = true;
      await vpn.stop(); // idempotent
      expect(pids.filter(alive)).toEqual([]);
      expect(await namespacePids(lab.get(), 'client')).toEqual([]);
      expect(await namespacePids(lab.get(), 'server')).toEqual([]);
      expect(await interfaceExists(lab.get(), 'client', vpn.clientIfname)).toBe(false);
      expect(await interfaceExists(lab.get(), 'server', vpn.serverIfname)).toBe(false);
      expect(existsSync(vpn.pkiDir)).toBe(false);
    } finally {
      if (!stopped) await vpn.stop();
    }
  });

  it('a server port already in use fails at once naming the cause, and cleans up', async () => {
    const first = await startOpenVpnTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 1195, tunnelNet: '10.203.0.0/24' });
    try {
      const err: unknown = await startOpenVpnTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 1195, tunnelNet: '10.204.0.0/24' }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_START_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/openvpn server exited .*Address already in use/);
      expect((err as Error).message).toContain('--- openvpn server');
      // Only the first tunnel's two daemons are left.
      expect([...(await namespacePids(lab.get(), 'client')), ...(await namespacePids(lab.get(), 'server'))].sort()).toEqual([first.pids.client, first.pids.server].sort());
    } finally {
      await first.stop();
    }
  });

  it('a server it cannot reach times out at the deadline, naming it and quoting both logs', async () => {
    await lab.get().cut('wan'); // (setLoss 100 % trips netlab: nft rejects "< 10000")
    try {
      const started = performance.now();
      const err: unknown = await startOpenVpnTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, deadlineMs: 2_000 }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_START_TIMEOUT')).toBe(true);
      expect((err as Error).message).toMatch(/^openvpn tunnel did not come up within 2000 ms/);
      expect((err as Error).message).toContain('--- openvpn client');
      expect(performance.now() - started).toBeLessThan(6_000);
      expect(await namespacePids(lab.get(), 'client')).toEqual([]);
      expect(await namespacePids(lab.get(), 'server')).toEqual([]);
    } finally {
      await lab.get().restore('wan');
    }
  });

  it('a missing openvpn program is VPN_PEERS_TOOL_MISSING naming the Debian package', async () => {
    await expect(startOpenVpnTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, openvpn: '/nonexistent/openvpn' })).rejects.toMatchObject({
      code: 'VPN_PEERS_TOOL_MISSING',
      message: expect.stringContaining('Debian package openvpn') as unknown,
    });
  });
});
