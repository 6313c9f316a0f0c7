// Downgrade protection (handshake.md §6): stripped offers, forced classical choices, and
// classical only when both sides are configured for it.
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import { decodeInit, encodeInit, initPaddingFor } from '../src/handshake-messages.js';
import { HS_INIT_MIN_BYTES, type HandshakeSuite } from '../src/handshake-constants.js';
import { T0, codeOf, runHandshake, seededRandom } from './handshake-helpers.js';
import { createHandshakePki, type HandshakePki } from './handshake-pki-fixture.js';

const psk = new Uint8Array(32).fill(4);
const now = (): number => T0;
const peerAddress = 'mitm-test';

function initiator(suites?: readonly HandshakeSuite[], seed = 'd') {
  return createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now, random: seededRandom(seed), ...(suites ? { suites } : {}) });
}
function responder(suites?: readonly HandshakeSuite[]) {
  return createHandshakeResponder({ psk: { lookup: () => psk }, now, cookie: { mode: 'never' }, ...(suites ? { suites } : {}) });
}

/** A man in the middle rewrites the offer to classical only (and drops the ML-KEM key). */
function stripOffer(init: Uint8Array): Uint8Array {
  const d = decodeInit(init);
  const fields = { ...d, suiteIds: [0x11], mlkemPublicKey: undefined };
  return encodeInit({ ...fields, paddingBytes: initPaddingFor(fields, HS_INIT_MIN_BYTES), cookie: undefined }).bytes;
}

const BOTH: HandshakeSuite[] = ['x25519-mlkem768-chacha20poly1305', 'x25519-chacha20poly1305'];

describe('handshake downgrade protection', () => {
  it('stripped offer against a hybrid-requiring responder -> CRYPTO_HANDSHAKE_DOWNGRADE', () => {
    const i = initiator();
    expect(codeOf(() => responder().receive(stripOffer(i.start()), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
  });

  it('stripped offer accepted by a classical-capable responder breaks authentication at the initiator', () => {
    const i = initiator(BOTH);
    const response = responder(BOTH).receive(stripOffer(i.start()), { peerAddress }).send!;
    expect(codeOf(() => i.receive(response))).toBe('CRYPTO_HANDSHAKE_AUTH');
    // a hybrid-only initiator refuses the classical choice before even trying
    const h = initiator(undefined, 'h');
    const response2 = responder(BOTH).receive(stripOffer(h.start()), { peerAddress }).send!;
    expect(codeOf(() => h.receive(response2))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
  });

  it('forced classical (suite byte rewritten in the Response) -> DOWNGRADE or AUTH', () => {
    const i = initiator();
    const response = responder(BOTH).receive(i.start(), { peerAddress }).send!;
    const forced = response.slice();
    forced[2] = 0x11;
    expect(codeOf(() => i.receive(forced))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
    // a rewrite to another suite the initiator allows fails the transcript instead
    const j = initiator(['x25519-mlkem768-chacha20poly1305', 'x25519-mlkem768-aes256gcm'], 'j');
    const response2 = responder().receive(j.start(), { peerAddress }).send!;
    const other = response2.slice();
    other[2] = 0x02;
    expect(codeOf(() => j.receive(other))).toBe('CRYPTO_HANDSHAKE_AUTH');
    expect(j.receive(response2).result!.suite).toBe('x25519-mlkem768-chacha20poly1305');
  });

  it('an honest classical-only initiator is refused by a hybrid-only responder (never silently)', () => {
    const i = initiator(['x25519-chacha20poly1305']);
    expect(codeOf(() => responder().receive(i.start(), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
  });

  it('no common suite -> CRYPTO_HANDSHAKE_VERSION; unknown version byte -> VERSION', () => {
    const i = initiator(['x25519-mlkem768-aes256gcm']);
    const init = i.start();
    expect(codeOf(() => responder(['x25519-mlkem768-chacha20poly1305']).receive(init, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_VERSION');
    const v = init.slice();
    v[0] = 2;
    expect(codeOf(() => responder().receive(v, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_VERSION');
    const d = decodeInit(init);
    const noCommonVersion = encodeInit({ ...d, versions: [7], cookie: undefined }).bytes;
    expect(codeOf(() => responder().receive(noCommonVersion, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_VERSION');
    const hybridWithoutKey = encodeInit({ ...d, mlkemPublicKey: undefined, paddingBytes: 1184, cookie: undefined }).bytes;
    expect(codeOf(() => responder().receive(hybridWithoutKey, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_MALFORMED');
  });

  it('the best common suite is chosen in the initiator preference order', () => {
    const i = initiator(['x25519-mlkem768-aes256gcm', 'x25519-mlkem768-chacha20poly1305', 'x25519-aes256gcm']);
    const run = runHandshake(i, responder(['x25519-mlkem768-chacha20poly1305', 'x25519-mlkem768-aes256gcm', 'x25519-aes256gcm']));
    expect(run.initiator.suite).toBe('x25519-mlkem768-aes256gcm');
    expect(run.responder.aead).toBe('aes-256-gcm');
  });

  it('bad policies are programming errors', () => {
    expect(codeOf(() => initiator([]))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => initiator(['nope' as HandshakeSuite]))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => initiator(['x25519-aes256gcm', 'x25519-aes256gcm']))).toBe('CRYPTO_INVALID_ARGUMENT');
  });
});

describe('handshake downgrade protection, certificate mode (real appliance PKI)', () => {
  let pki: HandshakePki;
  beforeAll(async () => {
    pki = await createHandshakePki(T0);
  });
  const certInitiator = (suites: readonly HandshakeSuite[] | undefined, seed: string) =>
    createHandshakeInitiator({ credentials: pki.initiator.credentials, now, random: seededRandom(seed), ...(suites ? { suites } : {}) });
  const certResponder = (suites?: readonly HandshakeSuite[]) =>
    createHandshakeResponder({ certificate: pki.responder.credentials, now, cookie: { mode: 'never' }, ...(suites ? { suites } : {}) });

  it('stripped offer: a hybrid-only responder refuses (DOWNGRADE); a classical-capable one is caught by the signed transcript (AUTH)', () => {
    expect(codeOf(() => certResponder().receive(stripOffer(certInitiator(undefined, 'c1').start()), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
    const i = certInitiator(BOTH, 'c2');
    const response = certResponder(BOTH).receive(stripOffer(i.start()), { peerAddress }).send!;
    expect(codeOf(() => i.receive(response))).toBe('CRYPTO_HANDSHAKE_AUTH');
    expect(i.state).toBe('awaiting-response');
  });

  it('forced classical suite byte in a certificate-mode Response -> DOWNGRADE; the honest run is hybrid', () => {
    const i = certInitiator(undefined, 'c3');
    const response = certResponder(BOTH).receive(i.start(), { peerAddress }).send!;
    const forced = response.slice();
    forced[2] = 0x11;
    expect(codeOf(() => i.receive(forced))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
    expect(i.receive(response).result!.suite).toBe('x25519-mlkem768-chacha20poly1305');
  });

  it('classical certificate mode only when both sides list it', () => {
    const run = runHandshake(certInitiator(['x25519-chacha20poly1305'], 'c4'), certResponder(BOTH));
    expect(run.initiator.suite).toBe('x25519-chacha20poly1305');
    expect(run.responder.peer).toMatchObject({ commonName: 'initiator.edgebox' });
    expect(codeOf(() => certResponder().receive(certInitiator(['x25519-chacha20poly1305'], 'c5').start(), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_DOWNGRADE');
  });
});
