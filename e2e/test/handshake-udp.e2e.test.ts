// The @edgebox/crypto handshake over real UDP between separate Node processes in two network
// namespaces (client, server) joined by a veth link: sessions complete and carry one sealed
// message each way; a peer whose credentials the server does not accept gets no session; the
// retry-cookie round trip works over the real path; retransmission rides out packet loss.
// Certificate mode runs on the real appliance PKI (src/pki.ts: CA, server and client
// certificates as PEM files in a temp dir), including a client whose certificate another CA
// issued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, gc } from '@edgebox/netlab';
import type { Lab } from '@edgebox/netlab';
import { collectEvents } from '../src/json-lines.js';
import type { EventLog, PeerEvent } from '../src/json-lines.js';
import { createTestPki } from '../src/pki.js';
import type { CredentialFiles, TestPki } from '../src/pki.js';
import { reportNotRoot, root } from './root-gate.js';

reportNotRoot();

const PEER = fileURLToPath(new URL('../src/handshake-peer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const START_MS = 30_000; // a cold tsx start on a loaded 2-core box
const pskHex = randomBytes(32).toString('hex');
const psk = ['--psk-id', 'site-a', '--psk-hex', pskHex];

const certArgs = (files: CredentialFiles): string[] => ['--ca', files.caFile, '--cert', files.certFile, '--key', files.keyFile];

describe.runIf(root.ok)('handshake over UDP between namespaces', () => {
  let lab: Lab | undefined;
  let pki: TestPki | undefined;
  const l = (): Lab => lab!;

  beforeAll(async () => {
    pki = await createTestPki(await mkdtemp(join(tmpdir(), 'edgebox-e2e-pki-')));
    lab = await createLab({
      nodes: { client: {}, server: {} },
      links: [{ name: 'wan', a: { node: 'client', ipv4: '10.60.0.1/24' }, b: { node: 'server', ipv4: '10.60.0.2/24' } }],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
    if (pki !== undefined) await rm(pki.dir, { recursive: true, force: true });
  });

  /** Starts a peer process inside `node` (killed by lab.destroy() at the latest). */
  function peer(node: string, args: string[]): EventLog {
    return collectEvents(l().spawn(node, process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', PEER, ...args], { cwd: REPO }));
  }

  async function startServer(args: string[]): Promise<{ log: EventLog; target: string }> {
    const log = peer('server', ['server', '--bind', l().address('server', 'wan'), ...args]);
    const listening = await log.waitFor((e) => e.event === 'listening', START_MS, 'listening');
    return { log, target: `${l().address('server', 'wan')}:${String(listening.port)}` };
  }

  const byEvent = (name: string) => (e: PeerEvent) => e.event === name;

  it('PSK mode: the session completes and one sealed message goes each way', async () => {
    const server = await startServer([...psk]);
    const client = peer('client', ['client', '--connect', server.target, '--message', 'hello over veth', ...psk]);
    expect(await client.exited(START_MS)).toBe(0);
    expect(client.events.find(byEvent('handshake-done'))).toMatchObject({ suite: 'x25519-mlkem768-chacha20poly1305', peerName: 'psk:site-a' });
    expect(client.events.find(byEvent('message'))).toMatchObject({ text: 'pong: hello over veth' });
    const session = await server.log.waitFor(byEvent('session'), 5000, 'server session');
    // The datagrams really crossed the veth: the server saw the client's lab address.
    expect(String(session.peer)).toMatch(/^10\.60\.0\.1:\d+$/);
    expect(await server.log.waitFor(byEvent('message'), 5000, 'server message')).toMatchObject({ text: 'hello over veth' });
  });

  it('PSK mode: an unknown PSK id is refused and the client gets no session', async () => {
    const server = await startServer([...psk]);
    const client = peer('client', ['client', '--connect', server.target, '--timeout-ms', '3000', '--psk-id', 'intruder', '--psk-hex', pskHex]);
    expect(await client.exited(START_MS)).toBe(3);
    expect(client.events.find(byEvent('error'))).toMatchObject({ code: 'E2E_NO_SESSION' });
    expect(await server.log.waitFor(byEvent('rejected'), 5000, 'server rejection')).toMatchObject({ code: 'CRYPTO_HANDSHAKE_AUTH' });
    expect(server.log.events.filter(byEvent('session'))).toEqual([]);
  });

  it('the retry cookie round trip works over the real UDP path', async () => {
    const server = await startServer(['--cookie', 'always', ...psk]);
    const client = peer('client', ['client', '--connect', server.target, ...psk]);
    expect(await client.exited(START_MS)).toBe(0);
    expect(client.events.map((e) => e.event)).toEqual(expect.arrayContaining(['cookie-received', 'handshake-done', 'message']));
    expect(server.log.events.find(byEvent('cookie-sent'))).toBeDefined();
    expect(server.log.events.find(byEvent('session'))).toBeDefined();
  });

  it('retransmission completes the handshake through 20% loss each way', async () => {
    await l().setLoss('wan', 20);
    try {
      const server = await startServer([...psk]);
      const client = peer('client', ['client', '--connect', server.target, '--attempt-ms', '200', '--timeout-ms', '20000', ...psk]);
      expect(await client.exited(START_MS)).toBe(0);
      expect(client.events.find(byEvent('message'))).toBeDefined();
    } finally {
      await l().setLoss('wan', 0);
    }
  });

  it('certificate mode: CA-issued client and server complete the session and exchange sealed messages', async () => {
    const server = await startServer(certArgs(pki!.server));
    expect(server.log.events.find(byEvent('listening'))).toMatchObject({ mode: 'certificate' });
    const client = peer('client', ['client', '--connect', server.target, '--message', 'hello with certificates', ...certArgs(pki!.client)]);
    expect(await client.exited(START_MS)).toBe(0);
    // each side names the other by the common name of its CA-issued certificate
    expect(client.events.find(byEvent('handshake-done'))).toMatchObject({ suite: 'x25519-mlkem768-chacha20poly1305', peerName: pki!.commonNames.server });
    expect(client.events.find(byEvent('message'))).toMatchObject({ text: 'pong: hello with certificates' });
    const session = await server.log.waitFor(byEvent('session'), 5000, 'server session');
    expect(session).toMatchObject({ peerName: pki!.commonNames.client });
    expect(String(session.peer)).toMatch(/^10\.60\.0\.1:\d+$/);
    expect(await server.log.waitFor(byEvent('message'), 5000, 'server message')).toMatchObject({ text: 'hello with certificates' });
    expect(server.log.events.filter(byEvent('rejected'))).toEqual([]);
  });

  it('certificate mode: a client certificate from a different CA is refused (CRYPTO_CERT_UNTRUSTED), client exits non-zero', async () => {
    const server = await startServer(certArgs(pki!.server));
    // The rogue client trusts the real CA, so it authenticates the server and sends its Finish;
    // the server refuses the rogue CA's certificate and never opens a session.
    const client = peer('client', ['client', '--connect', server.target, '--timeout-ms', '3000', ...certArgs(pki!.rogueClient)]);
    expect(await client.exited(START_MS)).toBe(3);
    expect(client.events.find(byEvent('handshake-done'))).toMatchObject({ peerName: pki!.commonNames.server });
    expect(client.events.find(byEvent('message'))).toBeUndefined();
    expect(client.events.find(byEvent('error'))).toMatchObject({ code: 'E2E_NO_SESSION' });
    const rejected = await server.log.waitFor(byEvent('rejected'), 5000, 'server rejection');
    expect(rejected).toMatchObject({ code: 'CRYPTO_CERT_UNTRUSTED' });
    expect(String(rejected.message)).toContain(pki!.commonNames.rogueClient);
    expect(server.log.events.filter(byEvent('session'))).toEqual([]);
  });
});
