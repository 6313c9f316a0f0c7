// iperf3 and ping as root over a bare lab link: a 100 ms interval series, reverse mode,
// parallel streams, the time bound (client killed by PID, server stopped), and failures.
import { describe, expect, it } from 'vitest';
import { isVpnPeersError, runIperf, runPing } from '../src/index.js';
import { SERVER_ADDRESS, namespacePids, reportNotRoot, root, useLab } from './root-gate.js';

reportNotRoot();

describe.runIf(root.ok)('iperf3 and ping in a lab', () => {
  const lab = useLab();

  it('gives a 100 ms throughput series for failover curves, with -R and -P', async () => {
    const r = await runIperf(lab.get(), { client: 'client', server: 'server', address: SERVER_ADDRESS, seconds: 1, intervalSeconds: 0.1, reverse: true, parallel: 2, port: 5202 });
    expect(r.reverse).toBe(true);
    expect(r.parallel).toBe(2);
    expect(r.receiverMbps).toBeGreaterThan(10);
    expect(r.senderMbps).toBeGreaterThan(10);
    expect(r.intervals.length).toBeGreaterThanOrEqual(9);
    expect(r.intervals.length).toBeLessThanOrEqual(11);
    for (const i of r.intervals) expect(i.end - i.start).toBeCloseTo(0.1, 1);
    expect(await namespacePids(lab.get(), 'server')).toEqual([]); // the one-off server is gone
  });

  it('kills a run that outlives its time bound, server included', async () => {
    const started = performance.now();
    const err: unknown = await runIperf(lab.get(), { client: 'client', server: 'server', address: SERVER_ADDRESS, seconds: 10, timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(isVpnPeersError(err, 'VPN_PEERS_TIMEOUT')).toBe(true);
    expect((err as Error).message).toMatch(/^iperf3 client -> 10\.91\.0\.2: .*still running after 1000 ms, killed/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await namespacePids(lab.get(), 'client')).toEqual([]);
    expect(await namespacePids(lab.get(), 'server')).toEqual([]);
  });

  it('an address nobody serves is VPN_PEERS_IPERF_FAILED with iperf3\'s reason', async () => {
    // The client's own loopback: nothing listens there, so the refusal is immediate.
    const err: unknown = await runIperf(lab.get(), { client: 'client', server: 'server', address: '127.0.0.1', seconds: 1 }).catch((e: unknown) => e);
    expect(isVpnPeersError(err, 'VPN_PEERS_IPERF_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/^iperf3 client -> 127\.0\.0\.1: iperf3: unable to connect to server.*Connection refused/);
  });

  it('a port the server cannot take fails naming it', async () => {
    const blocker = lab.get().spawn('server', 'iperf3', ['-s', '-p', '5203']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const err: unknown = await runIperf(lab.get(), { client: 'client', server: 'server', address: SERVER_ADDRESS, seconds: 1, port: 5203 }).catch((e: unknown) => e);
      expect(isVpnPeersError(err, 'VPN_PEERS_IPERF_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/the server did not start: .*Address already in use/);
    } finally {
      blocker.kill();
    }
  });

  it('checks its options before starting anything', async () => {
    for (const bad of [{ seconds: 0 }, { seconds: 1.5 }, { parallel: 0 }, { intervalSeconds: 0.05 }, { intervalSeconds: 3, seconds: 2 }, { port: 70000 }]) {
      await expect(runIperf(lab.get(), { client: 'client', server: 'server', address: SERVER_ADDRESS, ...bad })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT' });
    }
  });

  it('measures RTT with ping and fails clearly when nothing answers', async () => {
    const r = await runPing(lab.get(), { node: 'client', address: SERVER_ADDRESS, count: 3, size: 1000 });
    expect(r.received).toBe(3);
    expect(r.rttsMs).toHaveLength(3);
    expect(r.minMs).toBeLessThanOrEqual(r.medianMs);
    expect(r.medianMs).toBeLessThanOrEqual(r.maxMs);
    await expect(runPing(lab.get(), { node: 'client', address: '10.91.0.77', count: 2 })).rejects.toMatchObject({ code: 'VPN_PEERS_PING_FAILED', message: 'ping 10.91.0.77 from client: ping: 0 of 2 replies' });
    await expect(runPing(lab.get(), { node: 'client', address: 'no.such.host.invalid', count: 1 })).rejects.toMatchObject({ code: 'VPN_PEERS_PING_FAILED' });
    await expect(runPing(lab.get(), { node: 'client', address: SERVER_ADDRESS, count: 0 })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT' });
    await expect(runPing(lab.get(), { node: 'client', address: SERVER_ADDRESS, intervalSeconds: 0 })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT' });
    await expect(runPing(lab.get(), { node: 'client', address: SERVER_ADDRESS, count: 50, timeoutMs: 300 })).rejects.toMatchObject({ code: 'VPN_PEERS_TIMEOUT' });
  });
});
