// wireguard-go as root in a two-node lab: the tunnel comes up over UAPI and carries ping and
// iperf3; stop() leaves no process, interface or UAPI socket; failures to start name why.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { interfaceExists, isVpnPeersError, runIperf, runPing, startWireGuardGoTunnel, uapiGet, wireGuardPublicKey } from '../src/index.js';
import { SERVER_ADDRESS, alive, namespacePids, reportNotRoot, root, useLab } from './root-gate.js';

reportNotRoot();

describe.runIf(root.ok)('wireguard-go tunnel', () => {
  const lab = useLab();

  it('comes up over UAPI, carries ping and iperf3, and stop() leaves nothing behind', async () => {
    const wg = await startWireGuardGoTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 51820, tunnelNet: '10.202.0.0/24' });
    let stopped = false;
    try {
      expect(wg).toMatchObject({ peer: 'wireguard-go', clientTunAddress: '10.202.0.2', serverTunAddress: '10.202.0.1' });
      const ping = await runPing(lab.get(), { node: 'client', address: wg.serverTunAddress, count: 3 });
      expect(ping.received).toBe(3);
      const iperf = await runIperf(lab.get(), { client: 'client', server: 'server', address: wg.serverTunAddress, seconds: 1 });
      expect(iperf.receiverMbps).toBeGreaterThan(1);

      // The server's UAPI view: our listen port, the client's key, a handshake, traffic.
      const state = new Map(await uapiGet(wg.sockets.server));
      expect(state.get('listen_port')).toBe('51820');
      expect(state.get('public_key')).toBe(wg.publicKeys.client.toString('hex'));
      expect(Number(state.get('last_handshake_time_sec'))).toBeGreaterThan(0);
      expect(Number(state.get('rx_bytes'))).toBeGreaterThan(1_000_000);
      expect(wireGuardPublicKey(Buffer.from(state.get('private_key')!, 'hex'))).toEqual(wg.publicKeys.server);
      const mtu = await lab.get().exec('client', 'cat', [`/sys/class/net/${wg.clientIfname}/mtu`]);
      expect(mtu.stdout.trim()).toBe('1420');

      const pids = [wg.pids.client, wg.pids.server];
      expect(pids.every(alive)).toBe(true);
      await wg.stop();
      stopped = true;
      await wg.stop(); // idempotent
      expect(pids.filter(alive)).toEqual([]);
      expect(await namespacePids(lab.get(), 'client')).toEqual([]);
      expect(await namespacePids(lab.get(), 'server')).toEqual([]);
      expect(await interfaceExists(lab.get(), 'client', wg.clientIfname)).toBe(false);
      expect(await interfaceExists(lab.get(), 'server', wg.serverIfname)).toBe(false);
      expect(existsSync(wg.sockets.client) || existsSync(wg.sockets.server)).toBe(false);
    } finally {
      if (!stopped) await wg.stop();
    }
  });

  it('an interface name the kernel refuses fails at once quoting wireguard-go', async () => {
    const err: unknown = await startWireGuardGoTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, serverIfname: 'wg-name-far-too-long' }).catch((e: unknown) => e);
    expect(isVpnPeersError(err, 'VPN_PEERS_START_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/^wireguard-go tunnel \(UAPI sockets\): wireguard-go server exited \(exit 1\) before the tunnel came up: .*interface name too long/);
    expect(await namespacePids(lab.get(), 'client')).toEqual([]);
    expect(await namespacePids(lab.get(), 'server')).toEqual([]);
  });

  it('a listen port already in use is refused over UAPI, naming the errno', async () => {
    const first = await startWireGuardGoTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 51821, tunnelNet: '10.205.0.0/24' });
    try {
      const err: unknown = await startWireGuardGoTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, port: 51821, tunnelNet: '10.206.0.0/24' }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_UAPI_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/^wireguard-go tunnel: configure server over UAPI: .*listen_port.*errno=/);
      expect([...(await namespacePids(lab.get(), 'client')), ...(await namespacePids(lab.get(), 'server'))].sort()).toEqual([first.pids.client, first.pids.server].sort());
    } finally {
      await first.stop();
    }
  });

  it('a server it cannot reach times out at the deadline with both logs', async () => {
    await lab.get().cut('wan');
    try {
      const err: unknown = await startWireGuardGoTunnel(lab.get(), { client: 'client', server: 'server', serverAddress: SERVER_ADDRESS, deadlineMs: 1_500 }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_START_TIMEOUT')).toBe(true);
      expect((err as Error).message).toMatch(/^wireguard-go tunnel did not come up within 1500 ms/);
      expect((err as Error).message).toContain('--- wireguard-go client');
      expect(await namespacePids(lab.get(), 'client')).toEqual([]);
    } finally {
      await lab.get().restore('wan');
    }
  });
});
