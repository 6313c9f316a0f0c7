// Certificate-mode handshakes (handshake.md §4.1) on the real appliance PKI
// (createCertificateAuthority, issueCertificate, createRevocationList, createTrustStore):
// good mutual authentication, wrong CA, expired, revoked, wrong usage, stolen certificate
// (no private key), tampered certificate and tampered messages, the authorize() hook, both
// directions, and the local credential checks.
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import { derToPem } from '../src/certificates.js';
import { rawFromEd25519PublicKey } from '../src/identity.js';
import type { HandshakeCertificateCredentials } from '../src/handshake-types.js';
import type { CryptoError } from '../src/errors.js';
import { T0, codeOf, runHandshake, seededRandom } from './handshake-helpers.js';
import { createHandshakePki, type HandshakePki } from './handshake-pki-fixture.js';

const now = (): number => T0;
const peerAddress = '192.0.2.9:443';
let pki: HandshakePki;

beforeAll(async () => {
  pki = await createHandshakePki(T0);
});

function initiator(credentials: HandshakeCertificateCredentials, seed = 'ci') {
  return createHandshakeInitiator({ credentials, now, random: seededRandom(seed) });
}
function responder(certificate: HandshakeCertificateCredentials = pki.responder.credentials) {
  return createHandshakeResponder({ certificate, now, cookie: { mode: 'never' } });
}

function errorOf(fn: () => unknown): CryptoError {
  try {
    fn();
  } catch (err) {
    return err as CryptoError;
  }
  throw new Error('expected a CryptoError, nothing was thrown');
}

/** Run until the responder judges the initiator's Finish; return its error code. */
function responderRefuses(cred: HandshakeCertificateCredentials): string {
  const i = initiator(cred);
  const r = responder();
  const { send } = i.receive(r.receive(i.start(), { peerAddress }).send!);
  const err = errorOf(() => r.receive(send!, { peerAddress }));
  // judged after the Finish authenticated: fatal, the pending handshake is gone
  expect(err.details?.['fatal']).toBe(true);
  expect(r.pendingCount).toBe(0);
  expect(codeOf(() => r.receive(send!, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_STATE');
  return err.code;
}

/** The initiator judges a responder using `cred`; return its error code. */
function initiatorRefuses(cred: HandshakeCertificateCredentials): string {
  const i = initiator(pki.initiator.credentials);
  const response = responder(cred).receive(i.start(), { peerAddress }).send!;
  const err = errorOf(() => i.receive(response));
  expect(err.details?.['fatal']).toBe(true);
  expect(i.state).toBe('failed');
  return err.code;
}

describe('handshake certificate mode (real appliance PKI)', () => {
  it('good mutual authentication: both peers identified by their CA-issued certificates, keys match', () => {
    const run = runHandshake(initiator(pki.initiator.credentials), responder(), peerAddress);
    expect(run.initiator.peer).toEqual({
      kind: 'certificate',
      commonName: 'responder.edgebox',
      publicKey: expect.any(Uint8Array),
      serialHex: pki.responder.issued.serialHex,
      fingerprintSha256: pki.responder.issued.fingerprintSha256,
      notAfter: pki.responder.issued.notAfter,
    });
    expect(run.responder.peer).toMatchObject({
      kind: 'certificate',
      commonName: 'initiator.edgebox',
      serialHex: pki.initiator.issued.serialHex,
      fingerprintSha256: pki.initiator.issued.fingerprintSha256,
    });
    expect(run.initiator.sendKey).toEqual(run.responder.receiveKey);
    expect(run.initiator.receiveKey).toEqual(run.responder.sendKey);
    expect(run.initiator.transcriptHash).toEqual(run.responder.transcriptHash);
    // the reported key is the certificate's, i.e. the peer's identity key
    expect((run.responder.peer as { publicKey: Uint8Array }).publicKey).toEqual(rawFromEd25519PublicKey(pki.initiator.credentials.privateKey));
    expect((run.initiator.peer as { publicKey: Uint8Array }).publicKey).toEqual(rawFromEd25519PublicKey(pki.responder.credentials.privateKey));
    expect(run.response.length).toBeLessThan(3 * run.init.length);
  });

  it('a usage "peer" certificate is accepted on either side', () => {
    const a = runHandshake(initiator(pki.peer.credentials), responder(), peerAddress);
    expect(a.responder.peer).toMatchObject({ commonName: 'peer.edgebox' });
    const b = runHandshake(initiator(pki.initiator.credentials, 'cp'), responder(pki.peer.credentials), peerAddress);
    expect(b.initiator.peer).toMatchObject({ commonName: 'peer.edgebox' });
  });

  it('initiator certificate hidden: its certificate bytes never appear in clear', () => {
    const run = runHandshake(initiator(pki.initiator.credentials), responder(), peerAddress);
    const der = pki.initiator.issued.der;
    const needle = Buffer.from(der.subarray(der.length - 80, der.length - 40));
    for (const m of [run.init, run.response, run.finish]) expect(Buffer.from(m).includes(needle)).toBe(false);
  });

  it('wrong CA -> CRYPTO_CERT_UNTRUSTED (both directions; other name and same-name impostor)', () => {
    expect(responderRefuses(pki.otherCa.credentials)).toBe('CRYPTO_CERT_UNTRUSTED');
    expect(initiatorRefuses(pki.otherCa.credentials)).toBe('CRYPTO_CERT_UNTRUSTED');
    expect(responderRefuses(pki.impostorCa.credentials)).toBe('CRYPTO_CERT_UNTRUSTED');
    expect(initiatorRefuses(pki.impostorCa.credentials)).toBe('CRYPTO_CERT_UNTRUSTED');
  });

  it('expired or not yet valid certificate -> CRYPTO_CERT_EXPIRED (checked at the handshake clock)', () => {
    expect(responderRefuses(pki.expired.credentials)).toBe('CRYPTO_CERT_EXPIRED');
    expect(initiatorRefuses(pki.expired.credentials)).toBe('CRYPTO_CERT_EXPIRED');
    expect(responderRefuses(pki.notYetValid.credentials)).toBe('CRYPTO_CERT_EXPIRED');
    // the good responder certificate, judged by an initiator whose clock is past its notAfter
    const late = pki.responder.issued.notAfter.getTime() + 1000;
    const i = createHandshakeInitiator({ credentials: pki.initiator.credentials, now: () => late });
    const r = createHandshakeResponder({ certificate: pki.responder.credentials, now: () => late, cookie: { mode: 'never' } });
    const err = errorOf(() => i.receive(r.receive(i.start(), { peerAddress }).send!));
    expect(err.code).toBe('CRYPTO_CERT_EXPIRED');
    expect(err.message).toContain('responder.edgebox');
  });

  it('revoked certificate (on the CA-signed CRL) -> CRYPTO_CERT_REVOKED', () => {
    expect(responderRefuses(pki.revoked.credentials)).toBe('CRYPTO_CERT_REVOKED');
    expect(initiatorRefuses(pki.revoked.credentials)).toBe('CRYPTO_CERT_REVOKED');
  });

  it('wrong usage: a server-only certificate as initiator, a client-only one as responder -> CRYPTO_CERT_INVALID', () => {
    expect(responderRefuses(pki.serverAsClient.credentials)).toBe('CRYPTO_CERT_INVALID');
    expect(initiatorRefuses(pki.clientAsServer.credentials)).toBe('CRYPTO_CERT_INVALID');
  });

  it("stolen certificate (someone else's certificate without its private key) -> CRYPTO_HANDSHAKE_AUTH", () => {
    expect(initiatorRefuses(pki.stolenResponder)).toBe('CRYPTO_HANDSHAKE_AUTH');
    expect(responderRefuses(pki.stolenInitiator)).toBe('CRYPTO_HANDSHAKE_AUTH');
  });

  it('tampered certificate (common name edited) -> CRYPTO_CERT_UNTRUSTED: the CA signature no longer verifies', () => {
    expect(Buffer.from(pki.tamperedInitiator.certificate).includes('responder.edgebox')).toBe(true);
    expect(responderRefuses(pki.tamperedInitiator)).toBe('CRYPTO_CERT_UNTRUSTED');
    expect(initiatorRefuses(pki.tamperedResponder)).toBe('CRYPTO_CERT_UNTRUSTED');
  });

  it('tampered certificate-mode Response / Finish: refused without aborting, the genuine ones complete', () => {
    const i = initiator(pki.initiator.credentials, 'tm');
    const r = responder();
    const response = r.receive(i.start(), { peerAddress }).send!;
    for (const at of [20, 1200, response.length - 90, response.length - 1]) {
      const bad = response.slice();
      bad[at]! ^= 0x40;
      const err = errorOf(() => i.receive(bad));
      expect(err.code).toMatch(/^CRYPTO_HANDSHAKE_(AUTH|STATE|MALFORMED|DOWNGRADE)$/);
      expect(err.details?.['fatal']).toBe(false);
      expect(i.state).toBe('awaiting-response');
    }
    const { send, result } = i.receive(response);
    expect(result?.peer).toMatchObject({ commonName: 'responder.edgebox' });
    for (const at of [30, send!.length - 70, send!.length - 1]) {
      const bad = send!.slice();
      bad[at]! ^= 0x01;
      const err = errorOf(() => r.receive(bad, { peerAddress }));
      expect(err.code).toBe('CRYPTO_HANDSHAKE_AUTH');
      expect(err.details?.['fatal']).toBe(false);
    }
    expect(r.receive(send!, { peerAddress }).result?.peer).toMatchObject({ commonName: 'initiator.edgebox' });
  });

  it('authorize() can refuse a valid peer -> CRYPTO_HANDSHAKE_AUTH', () => {
    const i = createHandshakeInitiator({ credentials: { ...pki.initiator.credentials, authorize: (p) => p.commonName === 'someone.else' }, now });
    const response = responder().receive(i.start(), { peerAddress }).send!;
    expect(codeOf(() => i.receive(response))).toBe('CRYPTO_HANDSHAKE_AUTH');
    const seen: string[] = [];
    const r = responder({ ...pki.responder.credentials, authorize: (p) => (seen.push(p.serialHex), false) });
    const j = initiator(pki.initiator.credentials, 'az');
    const { send } = j.receive(r.receive(j.start(), { peerAddress }).send!);
    expect(codeOf(() => r.receive(send!, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_AUTH');
    expect(seen).toEqual([pki.initiator.issued.serialHex]);
  });

  it('mode mismatches: certificate Init to a PSK-only responder, PSK Init to a certificate-only responder', () => {
    const pskOnly = createHandshakeResponder({ psk: { lookup: () => new Uint8Array(32) }, now, cookie: { mode: 'never' } });
    expect(codeOf(() => pskOnly.receive(initiator(pki.initiator.credentials).start(), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_AUTH');
    const p = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'x', psk: new Uint8Array(32) }, now });
    expect(codeOf(() => responder().receive(p.start(), { peerAddress }))).toBe('CRYPTO_HANDSHAKE_AUTH');
  });

  it('bad local credentials are programming errors (CRYPTO_INVALID_ARGUMENT)', () => {
    const good = pki.initiator.credentials;
    const bad: unknown[] = [
      { ...good, privateKey: new Uint8Array(32) }, // a raw seed: use identityFromSeed(seed).privateKey
      { ...good, privateKey: generateKeyPairSync('x25519').privateKey },
      { ...good, privateKey: generateKeyPairSync('ed25519').publicKey },
      { ...good, certificate: new Uint8Array(0) },
      { ...good, certificate: new Uint8Array(1501) },
      { ...good, certificate: derToPem(pki.initiator.issued.der) }, // PEM: convert with pemToDer
      { ...good, trustStore: undefined },
    ];
    for (const credentials of bad) {
      expect(codeOf(() => initiator(credentials as HandshakeCertificateCredentials))).toBe('CRYPTO_INVALID_ARGUMENT');
      expect(codeOf(() => responder(credentials as HandshakeCertificateCredentials))).toBe('CRYPTO_INVALID_ARGUMENT');
    }
    expect(codeOf(() => createHandshakeResponder({ now }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => createHandshakeInitiator({ credentials: { kind: 'psk', pskId: '', psk: new Uint8Array(32) } }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'a', psk: new Uint8Array(8) } }))).toBe('CRYPTO_INVALID_ARGUMENT');
  });
});
