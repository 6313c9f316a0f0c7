// The application handshake inside a libp2p stream: both sides get matching per-direction keys,
// a certificate whose key is not the Noise-authenticated peer id is refused with
// P2P_IDENTITY_MISMATCH on the other side, and garbage instead of an Init fails cleanly.
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '@edgebox/crypto';
import { encodeFrame } from '@edgebox/framing';
import { HANDSHAKE_PROTOCOL, TYPE_HANDSHAKE } from '../src/constants.js';
import { createHandshakeCredentials, runHandshake, type P2pHandshake } from '../src/handshake.js';
import { createSession, OPEN_OK } from '../src/session.js';
import { startNode } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('application handshake', () => {
  it.each(['memory', 'tcp'] as const)('derives matching keys over %s and binds the peer ids', async (transport) => {
    const a = await startNode(transport, cleanup);
    const b = await startNode(transport, cleanup);
    const credsA = await createHandshakeCredentials(a.identity);
    const credsB = await createHandshakeCredentials(b.identity);
    const responded = new Promise<P2pHandshake>((resolve, reject) => {
      void b.node.handle(HANDSHAKE_PROTOCOL, (stream, connection) => {
        runHandshake(stream, { role: 'responder', credentials: credsB, remotePeer: connection.remotePeer.toString() }).then(resolve, reject);
      });
    });
    const stream = await a.node.dialProtocol(b.node.getMultiaddrs()[0]!, HANDSHAKE_PROTOCOL);
    const { result: ra, capabilities: capsOfB } = await runHandshake(stream, { role: 'initiator', credentials: credsA, remotePeer: b.node.peerId.toString() });
    const { result: rb, capabilities: capsOfA } = await responded;
    expect(capsOfA).toMatchObject({ version: 1, acks: true, priorities: true, resumption: true });
    expect(capsOfB).toMatchObject({ version: 1, acks: true, priorities: true, resumption: true });
    expect(ra.sendKey).toEqual(rb.receiveKey);
    expect(ra.receiveKey).toEqual(rb.sendKey);
    expect(ra.transcriptHash).toEqual(rb.transcriptHash);
    expect(ra.peer.kind === 'certificate' && ra.peer.commonName).toBe(b.node.peerId.toString());
    const sa = createSession(ra);
    const sb = createSession(rb);
    const frame = sa.seal('chat', new TextEncoder().encode('hello'));
    expect(sb.open('chat', frame[1]!, frame[2]!, 0, frame.subarray(12))).toBe(OPEN_OK);
    expect(new TextDecoder().decode(sb.opened)).toBe('hello');
  });

  it('refuses a handshake identity that is not the peer id Noise authenticated', async () => {
    const a = await startNode('memory', cleanup);
    const b = await startNode('memory', cleanup);
    const impostor = await createHandshakeCredentials(generateIdentity()); // a's libp2p key, another handshake key
    const credsB = await createHandshakeCredentials(b.identity);
    const responded = new Promise<unknown>((resolve) => {
      void b.node.handle(HANDSHAKE_PROTOCOL, (stream, connection) => {
        runHandshake(stream, { role: 'responder', credentials: credsB, remotePeer: connection.remotePeer.toString() }).then(resolve, resolve);
      });
    });
    const stream = await a.node.dialProtocol(b.node.getMultiaddrs()[0]!, HANDSHAKE_PROTOCOL);
    await expect(runHandshake(stream, { role: 'initiator', credentials: impostor, remotePeer: b.node.peerId.toString() })).rejects.toMatchObject({ code: 'P2P_HANDSHAKE' });
    expect(await responded).toMatchObject({ code: 'P2P_IDENTITY_MISMATCH', details: { remotePeer: a.node.peerId.toString(), presented: impostor.peerId } });
  });

  it('the initiator refuses a responder presenting another identity', async () => {
    const a = await startNode('memory', cleanup);
    const b = await startNode('memory', cleanup);
    const credsA = await createHandshakeCredentials(a.identity);
    const impostor = await createHandshakeCredentials(generateIdentity());
    void b.node.handle(HANDSHAKE_PROTOCOL, (stream, connection) => {
      runHandshake(stream, { role: 'responder', credentials: impostor, remotePeer: connection.remotePeer.toString() }).catch(() => undefined);
    });
    const stream = await a.node.dialProtocol(b.node.getMultiaddrs()[0]!, HANDSHAKE_PROTOCOL);
    await expect(runHandshake(stream, { role: 'initiator', credentials: credsA, remotePeer: b.node.peerId.toString() })).rejects.toMatchObject({
      code: 'P2P_IDENTITY_MISMATCH',
    });
  });

  it('fails with P2P_HANDSHAKE on garbage and on silence, without crashing', async () => {
    const a = await startNode('memory', cleanup);
    const b = await startNode('memory', cleanup);
    const credsB = await createHandshakeCredentials(b.identity);
    const outcomes: unknown[] = [];
    void b.node.handle(HANDSHAKE_PROTOCOL, (stream, connection) => {
      runHandshake(stream, { role: 'responder', credentials: credsB, remotePeer: connection.remotePeer.toString(), timeoutMs: 500 }).then(
        (r) => outcomes.push(r),
        (e: unknown) => outcomes.push(e),
      );
    });
    const garbage = await a.node.dialProtocol(b.node.getMultiaddrs()[0]!, HANDSHAKE_PROTOCOL);
    garbage.send(encodeFrame({ type: TYPE_HANDSHAKE, payload: new Uint8Array(300).fill(7) }));
    const silent = await a.node.dialProtocol(b.node.getMultiaddrs()[0]!, HANDSHAKE_PROTOCOL);
    await expect.poll(() => outcomes.length, { timeout: 5000 }).toBe(2);
    for (const o of outcomes) expect(o).toMatchObject({ code: 'P2P_HANDSHAKE' });
    expect(silent.status).not.toBe('open');
  });
});
