// Session resumption (p2p.md §3.5): tickets open once, only for the peer they were issued to,
// only before expiry and under the current or previous ticket key; over libp2p a reconnect
// resumes (PSK + fresh X25519: a classical suite, new keys, no certificates) and messages flow;
// a replayed, foreign or unknown-key ticket falls back to the full handshake, counted.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateIdentity, type Identity } from '@edgebox/crypto';
import { createAccessList, peerIdFromIdentity } from '@edgebox/peers';
import { HANDSHAKE_PROTOCOL } from '../src/constants.js';
import { createHandshakeCredentials, runHandshake, type P2pHandshake } from '../src/handshake.js';
import { createP2pNetwork, type P2pNetwork } from '../src/network.js';
import { createTicketIssuer, createTicketStore, deriveResumptionSecret } from '../src/tickets.js';
import { collect, listenAddress, sessionPairResults, startNode, str, text } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

describe('tickets', () => {
  it('both sides derive the same resumption secret', () => {
    const [i, r] = sessionPairResults();
    expect(deriveResumptionSecret(i)).toEqual(deriveResumptionSecret(r));
  });

  it('open once, for the peer it was issued to, before expiry, under the current or previous key', () => {
    let now = 1_000_000;
    const issuer = createTicketIssuer({ lifetimeMs: 100_000, rotateMs: 60_000 }, { now: () => now });
    const secret = new Uint8Array(32).fill(7);
    const t1 = issuer.issue(A, secret).ticket;
    expect(issuer.open(t1, B)).toBe('foreign');
    const opened = issuer.open(t1, A);
    expect(typeof opened === 'object' && opened.secret).toEqual(secret);
    expect(issuer.open(t1, A)).toBe('replayed');
    const t2 = issuer.issue(A, secret).ticket;
    const tampered = t2.slice();
    tampered[20]! ^= 1;
    expect(issuer.open(tampered, A)).toBe('bad-auth');
    expect(issuer.open(t2.subarray(0, 20), A)).toBe('malformed');
    expect(createTicketIssuer().open(t2, A)).toBe('unknown-key');
    now += 100_001;
    expect(issuer.open(t2, A)).toBe('expired');
    // Rotation: the previous key still opens, the one before is gone.
    const t3 = issuer.issue(A, secret).ticket; // the key rotated at this issue
    const t3b = issuer.issue(A, secret).ticket;
    now += 60_000;
    issuer.issue(A, secret); // rotates: t3's key is now the previous one
    expect(typeof issuer.open(t3, A)).toBe('object');
    now += 60_000;
    issuer.issue(A, secret); // rotates again: t3's key is gone
    expect(issuer.open(t3b, A)).toBe('unknown-key');
    expect(issuer.counters).toMatchObject({ accepted: 2, rejected: { foreign: 1, replayed: 1, 'bad-auth': 1, malformed: 1, expired: 1, 'unknown-key': 1 } });
  });

  it('the store keeps one ticket per responder, hands it out once, and forgets expired ones', () => {
    let now = 0;
    const store = createTicketStore({ max: 2 }, { now: () => now });
    const t = (n: number): { ticket: Uint8Array; secret: Uint8Array; expiresAt: number } => ({ ticket: Uint8Array.of(n), secret: new Uint8Array(32).fill(n), expiresAt: 100 });
    store.put(A, t(1));
    store.put(B, t(2));
    store.put('C', t(3)); // over max: the oldest (A) goes
    expect(store.take(A)).toBeUndefined();
    expect(store.take(B)?.ticket).toEqual(Uint8Array.of(2));
    expect(store.take(B)).toBeUndefined();
    now = 101;
    expect(store.take('C')).toBeUndefined();
  });
});

describe('resumed handshakes over libp2p', () => {
  it('resume once, then a replayed ticket falls back to the full handshake', async () => {
    const a = await startNode('memory', cleanup);
    const b = await startNode('memory', cleanup);
    const credsA = await createHandshakeCredentials(a.identity);
    const credsB = await createHandshakeCredentials(b.identity);
    const tickets = createTicketIssuer();
    const responded: P2pHandshake[] = [];
    await b.node.handle(HANDSHAKE_PROTOCOL, (stream, connection) => {
      void runHandshake(stream, { role: 'responder', credentials: credsB, remotePeer: connection.remotePeer.toString(), tickets }).then((r) => responded.push(r));
    });
    const run = async (ticket?: P2pHandshake['ticket']): Promise<P2pHandshake> => {
      const stream = await a.node.dialProtocol(b.node.getMultiaddrs()[0]!, HANDSHAKE_PROTOCOL);
      return runHandshake(stream, { role: 'initiator', credentials: credsA, remotePeer: b.node.peerId.toString(), ...(ticket ? { ticket } : {}) });
    };
    const full = await run();
    expect(full.resumed).toBe(false);
    expect(full.ticket).toBeDefined();
    const copy = { ticket: full.ticket!.ticket.slice(), secret: full.ticket!.secret.slice(), expiresAt: full.ticket!.expiresAt };

    const resumed = await run(full.ticket);
    await vi.waitFor(() => expect(responded).toHaveLength(2));
    expect(resumed.resumed).toBe(true);
    expect(responded[1]!.resumed).toBe(true);
    expect(resumed.result.suite).toBe('x25519-chacha20poly1305'); // PSK + fresh X25519, no ML-KEM
    expect(resumed.result.peer).toMatchObject({ kind: 'psk' });
    expect(resumed.result.sendKey).toEqual(responded[1]!.result.receiveKey);
    expect(resumed.result.sendKey).not.toEqual(full.result.sendKey); // fresh keys
    expect(resumed.ticket).toBeDefined(); // a new ticket for next time

    const replay = await run(copy);
    await vi.waitFor(() => expect(responded).toHaveLength(3));
    expect(replay).toMatchObject({ resumed: false, resumeRejected: 'replayed' });
    expect(replay.result.suite).toBe('x25519-mlkem768-chacha20poly1305');
    expect(replay.result.sendKey).toEqual(responded[2]!.result.receiveKey);
    const garbage = await run({ ticket: new Uint8Array(120).fill(0xee), secret: new Uint8Array(32).fill(1), expiresAt: Date.now() + 1000 });
    expect(garbage).toMatchObject({ resumed: false, resumeRejected: 'malformed' });
    await vi.waitFor(() => expect(responded).toHaveLength(4));
    expect(tickets.counters).toMatchObject({ issued: 4, accepted: 1, rejected: { replayed: 1, malformed: 1 } });
  });
});

async function network(identity = generateIdentity(), listen = listenAddress('memory')): Promise<P2pNetwork> {
  const net = await createP2pNetwork({ listen: [listen], streams: ['chat'] }, { identity, accessList: createAccessList() });
  await net.start();
  cleanup.push(() => net.stop());
  return net;
}

describe.each(['memory', 'tcp'] as const)('network resumption over %s', (transport) => {
  it('a reconnect resumes and messages flow both ways; a restarted responder makes it a full handshake', async () => {
    // lo initiates (p2p.md §3: the lower peer id) and holds the ticket; hi is the responder.
    const [idLo, idHi] = [generateIdentity(), generateIdentity()].sort((p, q) => (peerIdFromIdentity(p) < peerIdFromIdentity(q) ? -1 : 1)) as [Identity, Identity];
    const hiListen = listenAddress(transport);
    const lo = await network(idLo, listenAddress(transport));
    let hi = await network(idHi, hiListen);
    await lo.connect(hi.peerId, hi.multiaddrs());
    await vi.waitFor(() => expect(hi.established()).toEqual([lo.peerId]));
    expect(lo.peers()[0]).toMatchObject({ resumed: false, capabilities: { resumption: true } });

    await lo.disconnect(hi.peerId);
    await vi.waitFor(() => expect(hi.established()).toEqual([]));
    await lo.connect(hi.peerId, hi.multiaddrs());
    await vi.waitFor(() => expect(hi.established()).toEqual([lo.peerId]));
    expect(lo.peers().find((p) => p.peer === hi.peerId)).toMatchObject({ resumed: true, suite: 'x25519-chacha20poly1305' });
    expect(hi.peers().find((p) => p.peer === lo.peerId)).toMatchObject({ resumed: true });
    expect(lo.counters().resumed).toBe(1);
    expect(hi.counters()).toMatchObject({ resumed: 1, ticketsIssued: 2, ticketsAccepted: 1 });
    const atHi = collect(hi, 2);
    const atLo = collect(lo, 2);
    for (let i = 0; i < 2; i++) {
      await lo.send(hi.peerId, 'chat', text(`to-hi-${i}`), { ack: true });
      await hi.send(lo.peerId, 'chat', text(`to-lo-${i}`));
    }
    expect((await atHi).map((m) => str(m.data))).toEqual(['to-hi-0', 'to-hi-1']);
    expect((await atLo).map((m) => str(m.data))).toEqual(['to-lo-0', 'to-lo-1']);

    await hi.stop();
    hi = await network(idHi, hiListen); // same identity (and memory address): a new ticket key
    await vi.waitFor(() => expect(lo.established()).toEqual([]));
    await lo.connect(hi.peerId, hi.multiaddrs());
    await vi.waitFor(() => expect(hi.established()).toEqual([lo.peerId]));
    expect(lo.peers().find((p) => p.peer === hi.peerId)).toMatchObject({ resumed: false, suite: 'x25519-mlkem768-chacha20poly1305' });
    expect(lo.counters().resumeRejected).toBe(1);
    expect(hi.counters().ticketsRejected['unknown-key']).toBe(1);
  });

  it('no resumption when one side does not advertise it', async () => {
    const x = await createP2pNetwork({ listen: [listenAddress(transport)], streams: ['chat'], features: { resumption: false } }, { identity: generateIdentity(), accessList: createAccessList() });
    await x.start();
    cleanup.push(() => x.stop());
    const y = await network(generateIdentity(), listenAddress(transport));
    for (let i = 0; i < 2; i++) {
      await x.connect(y.peerId, y.multiaddrs());
      await vi.waitFor(() => expect(y.established()).toEqual([x.peerId]));
      await x.disconnect(y.peerId);
      await vi.waitFor(() => expect(y.established()).toEqual([]));
    }
    expect(x.counters()).toMatchObject({ resumed: 0, ticketsIssued: 0 });
    expect(y.counters()).toMatchObject({ resumed: 0, ticketsIssued: 0 });
  });
});
