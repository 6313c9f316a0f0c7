import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeServiceContract } from '@edgebox/runtime/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@edgebox/runtime';
import { TunnelConfigSchema } from '../src/config.js';
import { createTunnelService } from '../src/service.js';
import { destAddress, destConfig, listenPort, makePki, quietLogger, random, sourceConfig, sourceEngine, tcpEcho, tcpRoundTrip, Tunnels, udpAsk, udpEcho, until } from './fixtures.js';

const pki = await makePki('svc');
const srcId = await pki.issue('source-1', 'client');
const dstId = await pki.issue('dest-1', 'server');
const echo = await tcpEcho();
const uecho = await udpEcho();
const tunnels = new Tunnels();
afterEach(() => tunnels.stopAll());
afterAll(async () => {
  echo.server.close();
  uecho.socket.close();
  await pki.cleanup();
});

const echoService = { name: 'echo', port: 7001, target: `127.0.0.1:${echo.port}` };
const udpService = { name: 'uecho', port: 7002, protocol: 'udp' as const, target: `127.0.0.1:${uecho.port}` };

describeServiceContract({
  name: 'tunnel',
  create: () => createTunnelService({ logger: quietLogger() }),
  goodConfig: destConfig(pki, dstId, [echoService]),
  changedConfig: destConfig(pki, dstId, [echoService, { name: 'other', port: 7005 }]),
  badConfig: destConfig(pki, dstId, []),
});

describe('reload', () => {
  it('applies a new allow-list to the next OPEN and keeps running streams', async () => {
    const dcfg = destConfig(pki, dstId, [{ name: 'other', port: 7005 }], { mode: 'transparent' });
    const dest = await tunnels.start(dcfg);
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'transparent', source: { forwards: [{ port: 7001, listenPort: 0 }], entry: undefined } }));
    const port = listenPort(source, { port: 7001 });
    expect((await tcpRoundTrip(port, random(100))).bytes).toBe(0); // not exposed yet
    const r = await dest.reload({ ...dcfg, dest: { ...dcfg.dest, services: [echoService] } });
    expect(r).toEqual({ applied: true });
    const ok = await tcpRoundTrip(port, random(100_000));
    expect(ok.got).toBe(ok.sent);
  });

  it('a reload naming a missing PKI file is refused and the running config stays', async () => {
    const dcfg = destConfig(pki, dstId, [echoService]);
    const dest = await tunnels.start(dcfg);
    const r = await dest.reload({ ...dcfg, pki: { ...dcfg.pki, crl: [join(pki.dir, 'missing-crl.pem')] } });
    expect(r.applied).toBe(false);
    expect(r.error?.code).toBe('TUNNEL_CONFIG');
    expect(dest.config!.pki.crl).toEqual([]);
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest)));
    await sourceEngine(source).whenConnected(5000); // the dest still serves with its old credentials
  });

  it('a reload that changes the listener is refused with TUNNEL_RELOAD_UNSUPPORTED', async () => {
    const dcfg = destConfig(pki, dstId, [echoService]);
    const dest = await tunnels.start(dcfg);
    const r = await dest.reload({ ...dcfg, dest: { ...dcfg.dest, listen: { host: '127.0.0.1', port: 1 } } });
    expect(r.error?.code).toBe('TUNNEL_RELOAD_UNSUPPORTED');
  });
});

describe('stop, status, udp expiry, config files', () => {
  it('stop({deadlineMs}) lets a running transfer finish within the deadline (GOAWAY, drain)', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, [echoService]));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { source: { forwards: [{ port: 7001, listenPort: 0 }] } }));
    await sourceEngine(source).whenConnected(5000);
    const c = connect(listenPort(source, { port: 7001 }), '127.0.0.1');
    await once(c, 'connect');
    const data = random(4 * 1024 * 1024);
    let got = 0;
    c.on('data', (d: Buffer) => (got += d.length));
    c.write(data.subarray(0, 1024));
    await until(() => got > 0, 'first echo');
    const stopping = source.stop({ deadlineMs: 5000 });
    // New clients are no longer accepted, the running one finishes.
    c.end(data.subarray(1024));
    await once(c, 'close');
    await stopping;
    expect(got).toBe(data.length);
    expect(source.state).toBe('stopped');
    await until(() => dest.status().dest!.sessions.length === 0, 'dest saw the session end');
  });

  it('status() is JSON with open streams, sessions and listeners; health is ready once connected', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, [echoService]));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { source: { forwards: [{ port: 7001, listenPort: 0 }] } }));
    await sourceEngine(source).whenConnected(5000);
    const st = JSON.parse(JSON.stringify(source.status())) as ReturnType<typeof source.status>;
    expect(st).toMatchObject({ role: 'source', mode: 'hybrid', running: true, openStreams: 0 });
    expect(st.source!.sessions[0]).toMatchObject({ state: 'active', peer: 'dest-1', suite: 'x25519-mlkem768-aes256gcm' });
    expect(st.source!.listeners.map((l) => l.kind).sort()).toEqual(['entry', 'forward']);
    expect((await source.health()).ready).toBe(true);
    await until(() => dest.status().dest!.sessions.length === 1, 'dest session');
    expect(dest.status().dest!.sessions[0]!.peer).toBe('source-1');
    await until(() => source.status().source!.sessions[0]!.rttMs !== null, 'a heartbeat RTT');
    expect(await source.registry.metrics()).toMatch(/edgebox_tunnel_rtt_seconds\{role="source"[^}]*\} \d/);
    // The same changes as @edgebox/events v1 events on the service's bus.
    const kinds = source.bus.history().map((e) => `${e.event.source}:${e.event.kind}`);
    expect(kinds).toContain('tunnel:session.established');
  });

  it('udp flows expire after udp.idleMs at both ends', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, [udpService], { udp: { idleMs: 200 } }));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { udp: { idleMs: 200 }, source: { forwards: [{ port: 7002, protocol: 'udp', listenPort: 0 }] } }));
    await sourceEngine(source).whenConnected(5000);
    const port = listenPort(source, { port: 7002, protocol: 'udp' });
    const clients = [createSocket('udp4'), createSocket('udp4'), createSocket('udp4')];
    for (const c of clients) {
      const d = random(500);
      expect((await udpAsk(port, d, c))?.equals(d)).toBe(true);
    }
    expect(source.status().source!.udpFlows).toBe(3);
    await until(() => source.status().source!.udpFlows === 0 && dest.status().dest!.udpFlows === 0 && source.status().openStreams === 0 && dest.status().openStreams === 0, 'flows expired');
    // A client that speaks again gets a new flow.
    const d = random(100);
    expect((await udpAsk(port, d, clients[0]))?.equals(d)).toBe(true);
    for (const c of clients) c.close();
  });

  it('reads TOML and YAML configs through @edgebox/runtime and names a bad value', async () => {
    const toml = join(pki.dir, 'dest.toml');
    await writeFile(
      toml,
      `role = "dest"\nmode = "transparent"\n[pki]\nca = "${pki.caPath}"\ncert = "${dstId.cert}"\nkey = "${dstId.key}"\n[dest.listen]\nport = 7443\n[[dest.services]]\nname = "iperf"\nport = 5201\n[[dest.services]]\nname = "dns"\nport = 53\nprotocol = "udp"\ntarget = "127.0.0.53:53"\n`,
    );
    const { config } = await loadConfig({ schema: TunnelConfigSchema, file: toml, env: {}, section: 'tunnel' });
    expect(config.kem).toBe('hybrid');
    expect(config.dest!.allowedSources).toEqual(['0.0.0.0/0', '::/0']);
    expect(config.ops.host).toBe('127.0.0.1');
    const yaml = join(pki.dir, 'source.yaml');
    await writeFile(yaml, `role: source\npki: { ca: a, cert: b, key: c }\nheartbeat: { maxMissed: 0 }\nsource:\n  dest: "tunnel.example:7443"\n  forwards: [{ port: 5201 }]\n`);
    await expect(loadConfig({ schema: TunnelConfigSchema, file: yaml, env: {}, section: 'tunnel' })).rejects.toThrow(/tunnel\.heartbeat\.maxMissed: 0/);
    await writeFile(yaml, `role: dest\npki: { ca: a, cert: b, key: c }\ndest:\n  services: [{ name: a, port: 1 }]\n  allowedSources: ["10.0.0.0/33"]\n`);
    await expect(loadConfig({ schema: TunnelConfigSchema, file: yaml, env: {}, section: 'tunnel' })).rejects.toThrow(/dest\.allowedSources\[0\]: "10\.0\.0\.0\/33" is not valid: expected a CIDR block/);
  });
});
