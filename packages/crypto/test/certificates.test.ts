// The appliance PKI end to end: create a CA, issue, verify, expire, revoke, refuse what a
// trust store must refuse. Every failure is asserted by its CryptoError code.
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import {
  createCertificateAuthority,
  createRevocationList,
  createTrustStore,
  exportCertificateAuthority,
  generateIdentity,
  importCertificateAuthority,
  inspectCertificate,
  issueCertificate,
  isCryptoError,
  pemToDer,
  type CertificateAuthority,
  type CryptoErrorCode,
  type HandshakeTrustStore,
  type IssuedCertificate,
  type TrustStore,
} from '../src/index.js';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T12:00:00Z');

function codeOf(fn: () => unknown): CryptoErrorCode | string {
  try {
    fn();
  } catch (err) {
    return isCryptoError(err) ? err.code : `not a CryptoError: ${String(err)}`;
  }
  return 'no error';
}

async function codeOfAsync(fn: () => Promise<unknown>): Promise<CryptoErrorCode | string> {
  try {
    await fn();
  } catch (err) {
    return isCryptoError(err) ? err.code : `not a CryptoError: ${String(err)}`;
  }
  return 'no error';
}

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let peer: IssuedCertificate;
let store: TrustStore;
const id = generateIdentity();

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'edgebox test CA', now: new Date(NOW.getTime() - 30 * DAY) });
  otherCa = await createCertificateAuthority({ commonName: 'other CA', now: new Date(NOW.getTime() - 30 * DAY) });
  peer = await issueCertificate(ca, {
    commonName: 'box-1',
    publicKey: id.publicKey,
    usage: 'peer',
    now: new Date(NOW.getTime() - DAY),
    subjectAltNames: { dns: ['box-1.lan'], ip: ['10.0.0.1', 'fd00::1'] },
  });
  store = await createTrustStore({ authorities: [ca.certificatePem] });
});

describe('createCertificateAuthority', () => {
  it('creates a self-signed Ed25519 CA valid for validityDays', async () => {
    const now = new Date('2026-01-01T00:00:00.123Z');
    const c = await createCertificateAuthority({ commonName: 'short CA', validityDays: 10, now });
    const info = inspectCertificate(c.certificatePem);
    expect(info).toMatchObject({ commonName: 'short CA', issuerCommonName: 'short CA', isCa: true, usage: undefined });
    expect(info.publicKey).toEqual(c.publicKey);
    expect(c.notBefore.toISOString()).toBe('2025-12-31T23:55:00.000Z');
    expect(c.notAfter.getTime() - c.notBefore.getTime()).toBe(10 * DAY);
    expect(c.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(c.serialHex).toMatch(/^[4-7][0-9a-f]{31}$/);
  });

  it('refuses bad arguments', async () => {
    expect(await codeOfAsync(() => createCertificateAuthority({ commonName: '' }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createCertificateAuthority({ commonName: 'x'.repeat(65) }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createCertificateAuthority({ commonName: 'a\nb' }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createCertificateAuthority({ commonName: 'ok', validityDays: 0 }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createCertificateAuthority({ commonName: 'ok', now: new Date(NaN) }))).toBe('CRYPTO_INVALID_ARGUMENT');
  });

  it('round-trips through export/import and keeps issuing verifiable certificates', async () => {
    const loaded = await importCertificateAuthority(exportCertificateAuthority(ca));
    expect(loaded.fingerprintSha256).toBe(ca.fingerprintSha256);
    const cert = await issueCertificate(loaded, { commonName: 'after-reload', publicKey: generateIdentity().publicKey, usage: 'server', now: NOW });
    expect(store.verify(cert.der, { now: NOW, usage: 'server' }).issuerCommonName).toBe('edgebox test CA');
  });

  it('issues with a structurally-typed CA object (key imported from its PEM)', async () => {
    const plain: CertificateAuthority = { ...ca };
    const cert = await issueCertificate(plain, { commonName: 'plain', publicKey: generateIdentity().publicKey, usage: 'client', now: NOW });
    expect(store.verify(cert.pem, { now: NOW, usage: 'client' }).commonName).toBe('plain');
  });

  it('refuses to import a mismatched key or a leaf as CA', async () => {
    const wrongKey = { certificatePem: ca.certificatePem, privateKeyPem: otherCa.privateKeyPem };
    expect(await codeOfAsync(() => importCertificateAuthority(wrongKey))).toBe('CRYPTO_INVALID_ARGUMENT');
    const leafAsCa = { certificatePem: peer.pem, privateKeyPem: ca.privateKeyPem };
    expect(await codeOfAsync(() => importCertificateAuthority(leafAsCa))).toBe('CRYPTO_CERT_INVALID');
    const garbageKey = { certificatePem: ca.certificatePem, privateKeyPem: 'nope' };
    expect(await codeOfAsync(() => importCertificateAuthority(garbageKey))).toBe('CRYPTO_INVALID_ARGUMENT');
  });
});

describe('issueCertificate', () => {
  it('issues a verifiable certificate for a raw key with SANs', () => {
    const v = store.verify(peer.der, { now: NOW, usage: 'client' });
    expect(v).toMatchObject({
      commonName: 'box-1',
      serialHex: peer.serialHex,
      issuerCommonName: 'edgebox test CA',
      fingerprintSha256: peer.fingerprintSha256,
      usage: 'peer',
      subjectAltNames: { dns: ['box-1.lan'], ip: ['10.0.0.1', 'fd00::1'] },
    });
    expect(v.publicKey).toEqual(id.publicKey);
    expect(v.notBefore).toEqual(peer.notBefore);
    expect(v.notAfter.getTime() - v.notBefore.getTime()).toBe(365 * DAY);
    expect(peer.serialHex).toMatch(/^[4-7][0-9a-f]{31}$/);
    expect(store.verify(peer.der, { now: NOW, usage: 'server' }).commonName).toBe('box-1');
    expect(store.verify(peer.der, { now: NOW, usage: 'peer' }).commonName).toBe('box-1');
  });

  it('accepts a KeyObject (public or private) as the subject key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const a = await issueCertificate(ca, { commonName: 'ko-pub', publicKey, usage: 'server', now: NOW });
    const b = await issueCertificate(ca, { commonName: 'ko-priv', publicKey: privateKey, usage: 'server', now: NOW });
    expect(store.verify(a.der, { now: NOW }).publicKey).toEqual(store.verify(b.der, { now: NOW }).publicKey);
  });

  it('gives every certificate a distinct serial', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 8; i++) {
      serials.add((await issueCertificate(ca, { commonName: `s${i}`, publicKey: id.publicKey, usage: 'client', now: NOW })).serialHex);
    }
    expect(serials.size).toBe(8);
  });

  it('refuses bad arguments', async () => {
    const base = { commonName: 'x', publicKey: id.publicKey, usage: 'client' as const, now: NOW };
    const bad = async (over: Record<string, unknown>): Promise<string> => codeOfAsync(() => issueCertificate(ca, { ...base, ...over } as never));
    expect(await bad({ publicKey: new Uint8Array(31) })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ publicKey: 'key' })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ publicKey: generateKeyPairSync('x25519').publicKey })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ usage: 'admin' })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ validityDays: 1.5 })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ validityDays: 4000 })).toBe('CRYPTO_INVALID_ARGUMENT'); // beyond the CA's notAfter
    expect(await bad({ notBefore: 'yesterday' })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ subjectAltNames: { dns: ['bad name'] } })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ subjectAltNames: { ip: ['10.0.0.256'] } })).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await bad({ subjectAltNames: { dns: Array.from({ length: 33 }, (_, i) => `h${i}.lan`) } })).toBe('CRYPTO_INVALID_ARGUMENT');
  });
});

describe('TrustStore.verify', () => {
  it('is usable as the handshake trust store', () => {
    const hs: HandshakeTrustStore = store;
    expect(hs.verify(peer.der, { now: NOW, usage: 'server' }).serialHex).toBe(peer.serialHex);
  });

  it('refuses a certificate from another CA as UNTRUSTED', async () => {
    const foreign = await issueCertificate(otherCa, { commonName: 'intruder', publicKey: id.publicKey, usage: 'peer', now: NOW });
    expect(codeOf(() => store.verify(foreign.der, { now: NOW }))).toBe('CRYPTO_CERT_UNTRUSTED');
  });

  it('refuses a certificate from a CA with the trusted name but another key as UNTRUSTED', async () => {
    const impostor = await createCertificateAuthority({ commonName: 'edgebox test CA', now: new Date(NOW.getTime() - DAY) });
    const forged = await issueCertificate(impostor, { commonName: 'box-1', publicKey: id.publicKey, usage: 'peer', now: NOW });
    let err: unknown;
    try {
      store.verify(forged.der, { now: NOW });
    } catch (e) {
      err = e;
    }
    expect(isCryptoError(err, 'CRYPTO_CERT_UNTRUSTED')).toBe(true);
    expect((err as Error).message).toContain('signature does not verify');
  });

  it('trusts either of two CAs sharing a name (rotation)', async () => {
    const rotated = await createCertificateAuthority({ commonName: 'edgebox test CA', now: new Date(NOW.getTime() - DAY) });
    const both = await createTrustStore({ authorities: [ca.certificatePem, rotated.certificatePem, ca.certificatePem] });
    expect(both.authorities()).toHaveLength(2);
    const fromRotated = await issueCertificate(rotated, { commonName: 'new', publicKey: id.publicKey, usage: 'peer', now: NOW });
    expect(both.verify(fromRotated.der, { now: NOW }).commonName).toBe('new');
    expect(both.verify(peer.der, { now: NOW }).commonName).toBe('box-1');
  });

  it('refuses expired and not-yet-valid certificates as EXPIRED, naming the dates', () => {
    const before = new Date(peer.notBefore.getTime() - 1000);
    const after = new Date(peer.notAfter.getTime() + 1000);
    expect(codeOf(() => store.verify(peer.der, { now: before }))).toBe('CRYPTO_CERT_EXPIRED');
    expect(codeOf(() => store.verify(peer.der, { now: after }))).toBe('CRYPTO_CERT_EXPIRED');
    expect(() => store.verify(peer.der, { now: before })).toThrow(`not yet valid: notBefore ${peer.notBefore.toISOString()} > now ${before.toISOString()}`);
    expect(() => store.verify(peer.der, { now: after })).toThrow(`expired: notAfter ${peer.notAfter.toISOString()} < now ${after.toISOString()}`);
    // the edges are inclusive
    expect(store.verify(peer.der, { now: peer.notBefore }).commonName).toBe('box-1');
    expect(store.verify(peer.der, { now: peer.notAfter }).commonName).toBe('box-1');
  });

  it('honours an explicit notBefore (not yet valid)', async () => {
    const future = await issueCertificate(ca, { commonName: 'future', publicKey: id.publicKey, usage: 'client', notBefore: new Date(NOW.getTime() + DAY), validityDays: 2 });
    expect(codeOf(() => store.verify(future.der, { now: NOW }))).toBe('CRYPTO_CERT_EXPIRED');
    expect(store.verify(future.der, { now: new Date(NOW.getTime() + 2 * DAY) }).commonName).toBe('future');
  });

  it('refuses a leaf while its CA is outside its own validity', async () => {
    const lateCa = await createCertificateAuthority({ commonName: 'late CA', validityDays: 30, now: new Date(NOW.getTime() + DAY) });
    const leaf = await issueCertificate(lateCa, { commonName: 'early-leaf', publicKey: id.publicKey, usage: 'client', notBefore: NOW, validityDays: 5 });
    const s = await createTrustStore({ authorities: [lateCa.certificatePem] });
    expect(codeOf(() => s.verify(leaf.der, { now: NOW }))).toBe('CRYPTO_CERT_EXPIRED');
    expect(() => s.verify(leaf.der, { now: NOW })).toThrow('issuing CA "late CA" is outside its validity');
    expect(s.verify(leaf.der, { now: new Date(NOW.getTime() + 2 * DAY) }).commonName).toBe('early-leaf');
  });

  it('refuses a usage mismatch as INVALID', async () => {
    const client = await issueCertificate(ca, { commonName: 'client-only', publicKey: id.publicKey, usage: 'client', now: NOW });
    const server = await issueCertificate(ca, { commonName: 'server-only', publicKey: id.publicKey, usage: 'server', now: NOW });
    expect(store.verify(client.der, { now: NOW, usage: 'client' }).usage).toBe('client');
    expect(codeOf(() => store.verify(client.der, { now: NOW, usage: 'server' }))).toBe('CRYPTO_CERT_INVALID');
    expect(codeOf(() => store.verify(client.der, { now: NOW, usage: 'peer' }))).toBe('CRYPTO_CERT_INVALID');
    expect(store.verify(server.der, { now: NOW, usage: 'server' }).usage).toBe('server');
    expect(codeOf(() => store.verify(server.der, { now: NOW, usage: 'client' }))).toBe('CRYPTO_CERT_INVALID');
    expect(() => store.verify(server.der, { now: NOW, usage: 'client' })).toThrow('usage server does not allow client');
  });

  it('refuses a CA certificate presented as a leaf', () => {
    expect(codeOf(() => store.verify(ca.certificateDer, { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
    expect(() => store.verify(ca.certificatePem, { now: NOW })).toThrow('is a CA certificate');
  });

  it('refuses an invalid now instead of passing every date check', () => {
    expect(codeOf(() => store.verify(peer.der, { now: new Date(NaN) }))).toBe('CRYPTO_INVALID_ARGUMENT');
  });

  it('defaults now to the current time', async () => {
    const fresh = await issueCertificate(ca, { commonName: 'fresh', publicKey: id.publicKey, usage: 'client' });
    expect(store.verify(fresh.der).commonName).toBe('fresh');
  });

  it('refuses oversized, empty and non-certificate input as INVALID', () => {
    expect(codeOf(() => store.verify(new Uint8Array(8193), { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
    expect(codeOf(() => store.verify(new Uint8Array(0), { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
    expect(codeOf(() => store.verify('x'.repeat(20_000), { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
    expect(codeOf(() => store.verify('not pem', { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
    expect(codeOf(() => store.verify(42 as never, { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
    expect(codeOf(() => store.verify(peer.der.subarray(0, peer.der.length - 1), { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
    const trailing = new Uint8Array(peer.der.length + 1);
    trailing.set(peer.der);
    expect(codeOf(() => store.verify(trailing, { now: NOW }))).toBe('CRYPTO_CERT_INVALID');
  });
});

describe('revocation', () => {
  it('refuses a revoked certificate as REVOKED and keeps others valid', async () => {
    const victim = await issueCertificate(ca, { commonName: 'victim', publicKey: id.publicKey, usage: 'peer', now: NOW });
    const crl = await createRevocationList(ca, [{ serialHex: victim.serialHex.toUpperCase(), reason: 'keyCompromise', revokedAt: NOW }, { serialHex: 'ff01' }], {
      now: NOW,
    });
    const s = await createTrustStore({ authorities: [ca.certificatePem], revocationLists: [crl] });
    expect(codeOf(() => s.verify(victim.der, { now: NOW }))).toBe('CRYPTO_CERT_REVOKED');
    expect(s.verify(peer.der, { now: NOW }).commonName).toBe('box-1');
    expect(s.authorities()[0]?.revocationList).toEqual({ thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 30 * DAY), revokedCount: 2 });
  });

  it('reloads a newer CRL with addRevocationList and refuses an older one', async () => {
    const s = await createTrustStore({ authorities: [ca.certificatePem, otherCa.certificatePem] });
    expect(s.verify(peer.der, { now: NOW }).commonName).toBe('box-1');
    await s.addRevocationList(await createRevocationList(ca, [{ serialHex: peer.serialHex }], { now: NOW }));
    expect(codeOf(() => s.verify(peer.der, { now: NOW }))).toBe('CRYPTO_CERT_REVOKED');
    // un-revoked in a newer list
    await s.addRevocationList(await createRevocationList(ca, [], { now: new Date(NOW.getTime() + 1000), nextUpdateDays: 7 }));
    expect(s.verify(peer.der, { now: NOW }).commonName).toBe('box-1');
    const old = await createRevocationList(ca, [{ serialHex: peer.serialHex }], { now: new Date(NOW.getTime() - DAY) });
    expect(await codeOfAsync(() => s.addRevocationList(old))).toBe('CRYPTO_CERT_INVALID');
    expect(s.verify(peer.der, { now: NOW }).commonName).toBe('box-1');
    // DER input works too
    await s.addRevocationList(pemToDer(await createRevocationList(ca, [{ serialHex: peer.serialHex }], { now: new Date(NOW.getTime() + 2000) }), 'X509 CRL'));
    expect(codeOf(() => s.verify(peer.der, { now: NOW }))).toBe('CRYPTO_CERT_REVOKED');
  });

  it('refuses a CRL signed by an untrusted CA', async () => {
    const crl = await createRevocationList(otherCa, [{ serialHex: peer.serialHex }], { now: NOW });
    expect(await codeOfAsync(() => createTrustStore({ authorities: [ca.certificatePem], revocationLists: [crl] }))).toBe('CRYPTO_CERT_UNTRUSTED');
    expect(await codeOfAsync(() => store.addRevocationList(crl))).toBe('CRYPTO_CERT_UNTRUSTED');
  });

  it('refuses a CRL naming a trusted CA but signed by another key', async () => {
    const impostor = await createCertificateAuthority({ commonName: 'edgebox test CA', now: NOW });
    const crl = await createRevocationList(impostor, [{ serialHex: peer.serialHex }], { now: NOW });
    let err: unknown;
    try {
      await store.addRevocationList(crl);
    } catch (e) {
      err = e;
    }
    expect(isCryptoError(err, 'CRYPTO_CERT_UNTRUSTED')).toBe(true);
    expect((err as Error).message).toContain('CRL signature does not verify');
    expect(store.verify(peer.der, { now: NOW }).commonName).toBe('box-1');
  });

  it('refuses malformed CRLs and bad entries', async () => {
    expect(await codeOfAsync(() => store.addRevocationList('garbage'))).toBe('CRYPTO_CERT_INVALID');
    expect(await codeOfAsync(() => store.addRevocationList(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])))).toBe('CRYPTO_CERT_INVALID');
    expect(await codeOfAsync(() => store.addRevocationList(new Uint8Array(0)))).toBe('CRYPTO_CERT_INVALID');
    expect(await codeOfAsync(() => store.addRevocationList(7 as never))).toBe('CRYPTO_CERT_INVALID');
    expect(await codeOfAsync(() => createRevocationList(ca, [{ serialHex: 'xyz' }]))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createRevocationList(ca, [{ serialHex: '01', reason: 'bored' as never }]))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createRevocationList(ca, [], { nextUpdateDays: -1 }))).toBe('CRYPTO_INVALID_ARGUMENT');
  });
});

describe('createTrustStore', () => {
  it('refuses bad authority lists', async () => {
    expect(await codeOfAsync(() => createTrustStore({ authorities: [] }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createTrustStore({ authorities: Array.from({ length: 65 }, () => ca.certificatePem) }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(await codeOfAsync(() => createTrustStore({ authorities: [peer.pem] }))).toBe('CRYPTO_CERT_INVALID');
    expect(await codeOfAsync(() => createTrustStore({ authorities: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'] }))).toBe(
      'CRYPTO_CERT_INVALID',
    );
  });
});
