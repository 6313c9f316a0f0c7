// Certificate-mode handshakes (handshake.md §4.1): good mutual authentication, wrong CA,
// expired, revoked, stolen certificate (no private key), authorize() hook, both directions.
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import type { HandshakeCertificateCredentials } from '../src/handshake-types.js';
import { T0, codeOf, runHandshake, seededRandom } from './handshake-helpers.js';
import { createTestPki, type TestPki } from './handshake-pki.js';

const now = (): number => T0;
const peerAddress = '192.0.2.9:443';
let pki: TestPki;

beforeAll(async () => {
  pki = await createTestPki(T0);
});

function initiator(credentials: HandshakeCertificateCredentials, seed = 'ci') {
  return createHandshakeInitiator({ credentials, now, random: seededRandom(seed) });
}
function responder(certificate: HandshakeCertificateCredentials = pki.responder) {
  return createHandshakeResponder({ certificate, now, cookie: { mode: 'never' } });
}

/** Run until the responder judges the initiator's Finish; return its error code. */
function responderRefuses(cred: HandshakeCertificateCredentials): string {
  const i = initiator(cred);
  const r = responder();
  const { send } = i.receive(r.receive(i.start(), { peerAddress }).send!);
  return codeOf(() => r.receive(send!, { peerAddress }));
}

/** The initiator judges a responder using `cred`; return its error code. */
function initiatorRefuses(cred: HandshakeCertificateCredentials): string {
  const i = initiator(pki.initiator);
  const response = responder(cred).receive(i.start(), { peerAddress }).send!;
  const code = codeOf(() => i.receive(response));
  expect(i.state).toBe('failed');
  return code;
}

describe('handshake certificate mode', () => {
  it('good mutual authentication: both peers identified, keys match', () => {
    const run = runHandshake(initiator(pki.initiator), responder(), peerAddress);
    expect(run.initiator.peer).toMatchObject({ kind: 'certificate', commonName: 'responder.edgebox', serialHex: '01' });
    expect(run.responder.peer).toMatchObject({ kind: 'certificate', commonName: 'initiator.edgebox', serialHex: '02' });
    expect(run.initiator.sendKey).toEqual(run.responder.receiveKey);
    expect(run.initiator.receiveKey).toEqual(run.responder.sendKey);
    expect(run.initiator.transcriptHash).toEqual(run.responder.transcriptHash);
    expect(run.response.length).toBeLessThan(3 * run.init.length);
  });

  it('initiator certificate hidden: its certificate bytes never appear in clear', () => {
    const run = runHandshake(initiator(pki.initiator), responder(), peerAddress);
    const needle = Buffer.from(pki.initiator.certificate.subarray(20, 60));
    for (const m of [run.init, run.response, run.finish]) expect(Buffer.from(m).includes(needle)).toBe(false);
  });

  it('wrong CA -> CRYPTO_CERT_UNTRUSTED (both directions)', () => {
    expect(responderRefuses(pki.otherCa)).toBe('CRYPTO_CERT_UNTRUSTED');
    expect(initiatorRefuses(pki.otherCa)).toBe('CRYPTO_CERT_UNTRUSTED');
  });

  it('expired certificate -> CRYPTO_CERT_EXPIRED', () => {
    expect(responderRefuses(pki.expired)).toBe('CRYPTO_CERT_EXPIRED');
    expect(initiatorRefuses(pki.expired)).toBe('CRYPTO_CERT_EXPIRED');
  });

  it('revoked certificate -> CRYPTO_CERT_REVOKED', () => {
    expect(responderRefuses(pki.revoked)).toBe('CRYPTO_CERT_REVOKED');
    expect(initiatorRefuses(pki.revoked)).toBe('CRYPTO_CERT_REVOKED');
  });

  it('stolen certificate (someone else\'s certificate without its private key) -> CRYPTO_HANDSHAKE_AUTH', () => {
    expect(initiatorRefuses(pki.stolen)).toBe('CRYPTO_HANDSHAKE_AUTH');
    expect(responderRefuses({ ...pki.initiator, privateKey: new Uint8Array(32).fill(42) })).toBe('CRYPTO_HANDSHAKE_AUTH');
  });

  it('authorize() can refuse a valid peer -> CRYPTO_HANDSHAKE_AUTH', () => {
    const i = createHandshakeInitiator({ credentials: { ...pki.initiator, authorize: (p) => p.commonName === 'someone.else' }, now });
    const response = responder().receive(i.start(), { peerAddress }).send!;
    expect(codeOf(() => i.receive(response))).toBe('CRYPTO_HANDSHAKE_AUTH');
  });

  it('mode mismatches: certificate Init to a PSK-only responder, PSK Init to a certificate-only responder', () => {
    const pskOnly = createHandshakeResponder({ psk: { lookup: () => new Uint8Array(32) }, now, cookie: { mode: 'never' } });
    expect(codeOf(() => pskOnly.receive(initiator(pki.initiator).start(), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_AUTH');
    const p = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'x', psk: new Uint8Array(32) }, now });
    expect(codeOf(() => responder().receive(p.start(), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_AUTH');
  });

  it('bad local credentials are programming errors', () => {
    expect(codeOf(() => initiator({ ...pki.initiator, privateKey: new Uint8Array(5) }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => initiator({ ...pki.initiator, certificate: new Uint8Array(0) }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => createHandshakeResponder({ now }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => createHandshakeInitiator({ credentials: { kind: 'psk', pskId: '', psk: new Uint8Array(32) } }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'a', psk: new Uint8Array(8) } }))).toBe('CRYPTO_INVALID_ARGUMENT');
  });
});
