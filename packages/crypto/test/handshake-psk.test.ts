// PSK-mode handshakes: good run, wrong PSK, unknown id, classical only when both agree.
import { describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import { T0, codeOf, runHandshake, seededRandom } from './handshake-helpers.js';

const psk = new Uint8Array(32).fill(0x42);
const now = (): number => T0;

function responder(over: Parameters<typeof createHandshakeResponder>[0] | object = {}) {
  return createHandshakeResponder({ psk: { lookup: (id) => (id === 'site-a' ? psk : undefined) }, now, random: seededRandom('r'), ...over });
}

describe('handshake PSK mode', () => {
  it('good PSK handshake: matching per-direction keys, ids and transcript', () => {
    const i = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'site-a', psk }, now, random: seededRandom('i') });
    const run = runHandshake(i, responder());
    const a = run.initiator;
    const b = run.responder;
    expect(a.suite).toBe('x25519-mlkem768-chacha20poly1305');
    expect(a.sendKey).toEqual(b.receiveKey);
    expect(a.receiveKey).toEqual(b.sendKey);
    expect(a.sendKey).not.toEqual(a.receiveKey);
    expect(a.sendNoncePrefix).toEqual(b.receiveNoncePrefix);
    expect(a.localSessionId).toBe(b.remoteSessionId);
    expect(b.localSessionId).toBe(a.remoteSessionId);
    expect(a.transcriptHash).toEqual(b.transcriptHash);
    expect(a.peer).toEqual({ kind: 'psk', pskId: 'site-a' });
    expect(b.peer).toEqual({ kind: 'psk', pskId: 'site-a' });
    expect(i.state).toBe('done');
    expect(run.init.length).toBe(1257 + 'site-a'.length);
    expect(run.response.length).toBe(1137 + 2 + 49);
    expect(run.finish.length).toBe(63);
  });

  it('wrong PSK -> CRYPTO_HANDSHAKE_AUTH', () => {
    const i = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'site-a', psk: new Uint8Array(32).fill(1) }, now });
    const r = responder();
    const resp = r.receive(i.start(), { peerAddress: 'x' }).send!;
    expect(codeOf(() => i.receive(resp))).toBe('CRYPTO_HANDSHAKE_AUTH');
  });

  it('unknown PSK id -> CRYPTO_HANDSHAKE_AUTH', () => {
    const i = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'nobody', psk }, now });
    expect(codeOf(() => responder().receive(i.start(), { peerAddress: 'x' }))).toBe('CRYPTO_HANDSHAKE_AUTH');
  });

  it('classical suites only when both sides list them', () => {
    const suites = ['x25519-aes256gcm'] as const;
    const i = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'site-a', psk }, now, suites });
    const run = runHandshake(i, responder({ suites: ['x25519-mlkem768-chacha20poly1305', 'x25519-aes256gcm'] }));
    expect(run.initiator.suite).toBe('x25519-aes256gcm');
    expect(run.init.length).toBe(1200);
    const i2 = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'site-a', psk }, now, suites });
    expect(codeOf(() => responder().receive(i2.start(), { peerAddress: 'x' }))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
  });
});
