import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { destAddress, destConfig, listenPort, makePki, random, sourceConfig, sourceEngine, tcpEcho, tcpRoundTrip, Tunnels, udpAsk, udpEcho, type IdentityFiles, type Pki } from './fixtures.js';

let pki: Pki;
let srcId: IdentityFiles;
let dstId: IdentityFiles;
let echo: Awaited<ReturnType<typeof tcpEcho>>;
let uecho: Awaited<ReturnType<typeof udpEcho>>;
const tunnels = new Tunnels();

beforeAll(async () => {
  pki = await makePki('fwd');
  srcId = await pki.issue('source-1', 'client');
  dstId = await pki.issue('dest-1', 'server');
  echo = await tcpEcho();
  uecho = await udpEcho();
});
afterEach(() => tunnels.stopAll());
afterAll(async () => {
  echo.server.close();
  uecho.socket.close();
  await pki.cleanup();
});

const services = () => [
  { name: 'echo', port: 7001, target: `127.0.0.1:${echo.port}` },
  { name: 'uecho', port: 7002, protocol: 'udp' as const, target: `127.0.0.1:${uecho.port}` },
];

describe('forwarding through a real handshake over loopback', () => {
  it('transparent mode: parallel TCP streams and UDP datagrams arrive intact', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { mode: 'transparent' }));
    const source = await tunnels.start(
      sourceConfig(pki, srcId, destAddress(dest), {
        mode: 'transparent',
        source: { forwards: [{ port: 7001, listenPort: 0 }, { port: 7002, protocol: 'udp', listenPort: 0 }], entry: undefined },
      }),
    );
    const session = await sourceEngine(source).whenConnected(5000);
    expect(session.suite).toMatch(/mlkem768/); // hybrid by default
    const tcp = listenPort(source, { port: 7001 });
    const results = await Promise.all(Array.from({ length: 4 }, () => tcpRoundTrip(tcp, random(3 * 1024 * 1024 + 17))));
    for (const r of results) expect(r.got).toBe(r.sent);

    const udp = listenPort(source, { port: 7002, protocol: 'udp' });
    const sock = createSocket('udp4');
    for (const size of [1, 1200, 8000, 65_000]) {
      const d = random(size);
      const got = await udpAsk(udp, d, sock);
      expect(got?.equals(d)).toBe(true);
    }
    sock.close();
    expect(source.status().source!.udpFlows).toBe(1); // one flow per client 5-tuple
    expect(dest.status().dest!.udpFlows).toBe(1);
  });

  it('protocol mode: the entry port reaches the service named in the first line, or the fixed one', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { mode: 'protocol' }));
    const named = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'protocol' }));
    const data = random(512 * 1024);
    const r = await tcpRoundTrip(listenPort(named, { entry: true }), data, 'echo\n');
    expect(r.got).toBe(r.sent);
    const fixed = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'protocol', source: { entry: { port: 0, service: 'echo' } } }));
    const r2 = await tcpRoundTrip(listenPort(fixed, { entry: true }), data);
    expect(r2.got).toBe(r2.sent);
    // Transparent OPENs are not served by a protocol-mode dest.
    const transparent = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'transparent', source: { forwards: [{ port: 7001, listenPort: 0 }] } }));
    const r3 = await tcpRoundTrip(listenPort(transparent, { port: 7001 }), data);
    expect(r3.bytes).toBe(0);
    expect(dest.status().dest!.services[0]!.open).toBe(0);
    expect((await dest.registry.metrics())).toMatch(/edgebox_tunnel_streams_refused_total\{role="dest",reason="REFUSED"[^}]*\} 1\n/);
    expect(dest.status().dest!.services.find((s) => s.name === 'echo')!.open).toBe(0);
  });

  it('hybrid mode serves both, and the counters and metrics say what happened', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services()));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { source: { forwards: [{ port: 7001, listenPort: 0 }], entry: { port: 0 } } }));
    const data = random(100_000);
    expect((await tcpRoundTrip(listenPort(source, { port: 7001 }), data)).got).toBe((await tcpRoundTrip(listenPort(source, { entry: true }), data, 'echo\n')).sent);
    const metrics = await source.registry.metrics();
    expect(metrics).toMatch(/edgebox_tunnel_handshakes_total\{role="source",result="ok"[^}]*\} 1\n/);
    expect(metrics).toMatch(/edgebox_tunnel_bytes_total\{role="source",direction="out"[^}]*\} [1-9]/);
    const dm = await dest.registry.metrics();
    expect(dm).toMatch(/edgebox_tunnel_streams_opened_total\{role="dest"[^}]*\} 2\n/);
    expect(source.status().counters.streamsOpened).toBe(2);
  });
});
