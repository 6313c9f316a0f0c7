import { readFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createTrustStore, importIdentityPem, pemToDer } from '@edgebox/crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TunnelConfigSchema, type TunnelConfigInput } from '../src/config.js';
import { suitesFor, type TunnelCredentials } from '../src/credentials.js';
import type { EngineHooks } from '../src/engine.js';
import { startSource, type SourceEngine } from '../src/source.js';
import type { TunnelService } from '../src/service.js';
import { destAddress, destConfig, listenPort, makePki, nextEvent, random, sourceConfig, sourceEngine, tcpEcho, tcpRoundTrip, Tunnels, until, type IdentityFiles, type Pki } from './fixtures.js';

let pki: Pki;
let other: Pki;
let srcId: IdentityFiles;
let dstId: IdentityFiles;
let echo: Awaited<ReturnType<typeof tcpEcho>>;
const tunnels = new Tunnels();
const engines: SourceEngine[] = [];

beforeAll(async () => {
  pki = await makePki('ref');
  other = await makePki('other');
  srcId = await pki.issue('source-1', 'client');
  dstId = await pki.issue('dest-1', 'server');
  echo = await tcpEcho();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop(200)));
  await tunnels.stopAll();
});
afterAll(async () => {
  echo.server.close();
  await pki.cleanup();
  await other.cleanup();
});

const services = () => [{ name: 'echo', port: 7001, target: `127.0.0.1:${echo.port}`, maxConnections: 1 }];
const fwd = { forwards: [{ port: 7001, listenPort: 0 }, { port: 7009, listenPort: 0 }] };

const silentHooks = (): EngineHooks & { codes: string[] } => {
  const codes: string[] = [];
  return {
    codes,
    session: () => {},
    recovery: () => {},
    handshake: (result) => codes.push(result),
    circuit: () => {},
    warn: () => {},
  };
};

/** A source engine with credentials loadCredentials would refuse (expired cert, wrong key): what a misbehaving peer presents. */
async function rawSource(config: TunnelConfigInput, id: { cert: string; key: string }, caPem: string): Promise<SourceEngine & { codes: string[] }> {
  const parsed = TunnelConfigSchema.parse(config);
  const creds: TunnelCredentials = {
    certificate: {
      kind: 'certificate',
      certificate: pemToDer(await readFile(id.cert, 'utf8')),
      privateKey: importIdentityPem(await readFile(id.key, 'utf8')).privateKey,
      trustStore: await createTrustStore({ authorities: [caPem] }),
    },
    suites: suitesFor(parsed.kem, 'source'),
    commonName: 'raw',
  };
  const hooks = silentHooks();
  const e = await startSource(parsed, creds, hooks);
  engines.push(e);
  return Object.assign(e, { codes: hooks.codes });
}

const refusedBy = (dest: TunnelService, code: string) => nextEvent(dest, 'handshake', (e) => e.result === code);

describe('refused handshakes (real certificates, real handshake)', () => {
  it('a source certificate from another CA: the dest refuses it (CRYPTO_CERT_UNTRUSTED)', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services()));
    const stranger = await other.issue('stranger', 'client');
    const refused = refusedBy(dest, 'CRYPTO_CERT_UNTRUSTED');
    await rawSource(sourceConfig(pki, srcId, destAddress(dest)), stranger, pki.ca.certificatePem);
    await refused;
    expect(dest.status().dest!.sessions).toHaveLength(0);
  });

  it('a dest certificate from another CA: the source refuses it and keeps retrying', async () => {
    const strangerDest = await other.issue('dest-x', 'server');
    const dest = await tunnels.start({ ...destConfig(other, strangerDest, services()) });
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest)));
    const h = await nextEvent(source, 'handshake', (e) => e.result !== 'ok');
    expect(h.result).toBe('CRYPTO_CERT_UNTRUSTED');
    await nextEvent(source, 'recovery', (e) => e.reason === 'connect-failed');
    expect(source.status().source!.connected).toBe(false);
    expect((await source.health()).ready).toBe(false);
  });

  it('an expired certificate (CRYPTO_CERT_EXPIRED), and the config check refuses our own at start', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services()));
    const old = await pki.issue('source-old', 'client', { notBefore: new Date(Date.now() - 10 * 86_400_000), validityDays: 2 });
    const refused = refusedBy(dest, 'CRYPTO_CERT_EXPIRED');
    await rawSource(sourceConfig(pki, srcId, destAddress(dest)), old, pki.ca.certificatePem);
    await refused;
    await expect(tunnels.start(sourceConfig(pki, old, destAddress(dest)))).rejects.toMatchObject({ code: 'TUNNEL_CONFIG' });
  });

  it('a revoked certificate (the dest loads a CRL): CRYPTO_CERT_REVOKED', async () => {
    const revoked = await pki.issue('source-revoked', 'client');
    const crl = await pki.revoke([revoked.serialHex]);
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { pki: { ca: pki.caPath, cert: dstId.cert, key: dstId.key, crl: [crl] } }));
    const refused = refusedBy(dest, 'CRYPTO_CERT_REVOKED');
    await rawSource(sourceConfig(pki, srcId, destAddress(dest)), revoked, pki.ca.certificatePem);
    await refused;
    // A certificate not on the list still gets in.
    const ok = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest)));
    await sourceEngine(ok).whenConnected(5000);
  });

  it('a valid certificate presented without its private key: CRYPTO_HANDSHAKE_AUTH', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services()));
    const thief = await pki.issue('thief', 'client');
    const refused = refusedBy(dest, 'CRYPTO_HANDSHAKE_AUTH');
    await rawSource(sourceConfig(pki, srcId, destAddress(dest)), { cert: srcId.cert, key: thief.key }, pki.ca.certificatePem);
    await refused;
    await expect(tunnels.start(sourceConfig(pki, { ...srcId, key: thief.key }, destAddress(dest)))).rejects.toMatchObject({ code: 'TUNNEL_CONFIG' });
  });

  it('a classical-only source against a dest requiring hybrid: CRYPTO_HANDSHAKE_DOWNGRADE; classical on both sides works', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services()));
    const refused = refusedBy(dest, 'CRYPTO_HANDSHAKE_DOWNGRADE');
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { kem: 'classical' }));
    await refused;
    expect(source.status().source!.connected).toBe(false);
    const classicalDest = await tunnels.start(destConfig(pki, dstId, services(), { kem: 'classical' }));
    const both = await tunnels.start(sourceConfig(pki, srcId, destAddress(classicalDest), { kem: 'classical' }));
    expect((await sourceEngine(both).whenConnected(5000)).suite).toBe('x25519-aes256gcm');
    // A hybrid source still gets hybrid from a dest that allows classical.
    const hybrid = await tunnels.start(sourceConfig(pki, srcId, destAddress(classicalDest)));
    expect((await sourceEngine(hybrid).whenConnected(5000)).suite).toMatch(/mlkem768/);
  });

  it('a source network that is not allowed is closed before the handshake', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { dest: { allowedSources: ['10.0.0.0/8', '2001:db8::/32'] } }));
    const refused = refusedBy(dest, 'refused-network');
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest)));
    await refused;
    expect(source.status().source!.connected).toBe(false);
  });
});

describe('refused streams', () => {
  it('a port not on the allow-list is refused (REFUSED) and the client reset; the session lives on', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { mode: 'transparent' }));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'transparent', source: { ...fwd, entry: undefined } }));
    const r = await tcpRoundTrip(listenPort(source, { port: 7009 }), random(1000));
    expect(r.bytes).toBe(0);
    expect(await dest.registry.metrics()).toMatch(/edgebox_tunnel_streams_refused_total\{role="dest",reason="REFUSED"[^}]*\} 1\n/);
    const ok = await tcpRoundTrip(listenPort(source, { port: 7001 }), random(1000));
    expect(ok.got).toBe(ok.sent);
  });

  it('a service at its connection limit refuses the next stream (LIMIT), then accepts once one closed', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { mode: 'transparent' }));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'transparent', source: { ...fwd, entry: undefined } }));
    const port = listenPort(source, { port: 7001 });
    const held = connect(port, '127.0.0.1');
    await once(held, 'connect');
    held.write('x');
    await once(held, 'data');
    expect(dest.status().dest!.services[0]!.open).toBe(1);
    const r = await tcpRoundTrip(port, random(100));
    expect(r.bytes).toBe(0);
    expect(await dest.registry.metrics()).toMatch(/reason="LIMIT"[^}]*\} 1\n/);
    held.end();
    await until(() => dest.status().dest!.services[0]!.open === 0, 'held stream closed');
    const ok = await tcpRoundTrip(port, random(100));
    expect(ok.got).toBe(ok.sent);
  });

  it('the global stream limit refuses beyond it', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, [{ name: 'echo', port: 7001, target: `127.0.0.1:${echo.port}` }], { mode: 'transparent', limits: { maxStreams: 2 } }));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'transparent', source: { ...fwd, entry: undefined } }));
    const port = listenPort(source, { port: 7001 });
    const held = await Promise.all(
      [1, 2].map(async () => {
        const c = connect(port, '127.0.0.1');
        c.write('x');
        await once(c, 'data');
        return c;
      }),
    );
    expect((await tcpRoundTrip(port, random(100))).bytes).toBe(0);
    for (const c of held) c.destroy();
    await until(() => dest.status().openStreams === 0 && source.status().openStreams === 0, 'streams closed');
  });

  it('a target that refuses the connection: the dest resets the stream (UNREACHABLE) and the source resets its client', async () => {
    const gone = createServer();
    gone.listen(0, '127.0.0.1');
    await once(gone, 'listening');
    const deadPort = (gone.address() as AddressInfo).port;
    gone.close();
    const dest = await tunnels.start(destConfig(pki, dstId, [{ name: 'dead', port: 7001, target: `127.0.0.1:${deadPort}` }], { mode: 'transparent' }));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'transparent', source: { ...fwd, entry: undefined } }));
    const r = await tcpRoundTrip(listenPort(source, { port: 7001 }), random(1000));
    expect(r.bytes).toBe(0);
    expect(r.error).toBe('ECONNRESET');
    await until(() => source.status().openStreams === 0, 'stream gone');
    expect(await source.registry.metrics()).toMatch(/edgebox_tunnel_streams_refused_total\{role="source",reason="UNREACHABLE"[^}]*\} 1\n/);
  });

  it("a session never outlives the peer's certificate: closed at its notAfter, then refused as expired", async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services()));
    // Valid for 2 more seconds (a day long, started a day ago less 2 s).
    const shortLived = await pki.issue('source-short', 'client', { notBefore: new Date(Date.now() - 86_400_000 + 2000), validityDays: 1 });
    const expired = nextEvent(dest, 'recovery', (e) => e.reason === 'peer-certificate-expired');
    const refused = refusedBy(dest, 'CRYPTO_CERT_EXPIRED');
    const source = await tunnels.start(sourceConfig(pki, shortLived, destAddress(dest)));
    await sourceEngine(source).whenConnected(5000);
    expect((await expired).code).toBe('CRYPTO_CERT_EXPIRED');
    await refused; // the source's next handshake with the same certificate
  });

  it('peerName pins the peer certificate: another name from the same CA is refused (CRYPTO_HANDSHAKE_AUTH)', async () => {
    // The dest pins 'source-9': source-1's certificate is valid under the CA but refused.
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { peerName: 'source-9' }));
    const refused = refusedBy(dest, 'CRYPTO_HANDSHAKE_AUTH');
    await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { peerName: 'dest-1' }));
    await refused;
    // The initiator may count itself connected for a moment after its last message; what
    // matters is that the dest never admitted it.
    expect(dest.status().dest!.sessions).toHaveLength(0);

    // The source pins 'dest-9': the dest's genuine 'dest-1' certificate is refused by the source.
    const source9 = await pki.issue('source-9', 'client');
    const dest2 = await tunnels.start(destConfig(pki, dstId, services(), { peerName: 'source-9' }));
    const wrongPin = await tunnels.start(sourceConfig(pki, source9, destAddress(dest2), { peerName: 'dest-9' }));
    await nextEvent(wrongPin, 'handshake', (e) => e.result === 'CRYPTO_HANDSHAKE_AUTH');
    expect(dest2.status().dest!.sessions).toHaveLength(0);

    // Both pins matching: admitted.
    const ok = await tunnels.start(sourceConfig(pki, source9, destAddress(dest2), { peerName: 'dest-1' }));
    await sourceEngine(ok).whenConnected(5000);
    await until(() => dest2.status().dest!.sessions.length === 1, 'pinned session admitted');
  });

  it('dest.maxSessions closes connections beyond it before the handshake (limit)', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { dest: { maxSessions: 1 } }));
    const first = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest)));
    await sourceEngine(first).whenConnected(5000);
    await until(() => dest.status().dest!.sessions.length === 1, 'first session');
    const refused = refusedBy(dest, 'limit');
    await tunnels.start(sourceConfig(pki, srcId, destAddress(dest)));
    await refused;
    expect(dest.status().dest!.sessions).toHaveLength(1);
  });

  it('source.maxConnections resets local clients beyond it', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services(), { mode: 'transparent' }));
    const source = await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { mode: 'transparent', source: { ...fwd, entry: undefined, maxConnections: 1 } }));
    const port = listenPort(source, { port: 7001 });
    const held = connect(port, '127.0.0.1');
    held.write('x');
    await once(held, 'data');
    expect((await tcpRoundTrip(port, random(100))).bytes).toBe(0);
    expect(source.status().counters.clientsRefused).toBe(1);
    held.destroy();
  });

  it('pki.selfCheck false lets a lab present an expired certificate or a wrong key through the service: the dest refuses them', async () => {
    const dest = await tunnels.start(destConfig(pki, dstId, services()));
    const old = await pki.issue('source-old2', 'client', { notBefore: new Date(Date.now() - 10 * 86_400_000), validityDays: 2 });
    const expired = refusedBy(dest, 'CRYPTO_CERT_EXPIRED');
    await tunnels.start(sourceConfig(pki, old, destAddress(dest), { pki: { ca: pki.caPath, cert: old.cert, key: old.key, selfCheck: false } }));
    await expired;
    const other = await pki.issue('other-key', 'client');
    const noKey = refusedBy(dest, 'CRYPTO_HANDSHAKE_AUTH');
    await tunnels.start(sourceConfig(pki, srcId, destAddress(dest), { pki: { ca: pki.caPath, cert: srcId.cert, key: other.key, selfCheck: false } }));
    await noKey;
  });
});
