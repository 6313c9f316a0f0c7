// A test PKI for handshake tests and the bench: a CA, certificates for an initiator and a
// responder, plus the bad cases (other CA, expired, revoked, stolen certificate).
// TEMPORARY stand-in certificate format + trust store (Ed25519-signed JSON) until the
// package's certificates module lands; only the HandshakeTrustStore contract matters here.
import { ed25519 } from '@noble/curves/ed25519.js';
import { CryptoError } from '../src/errors.js';
import type { HandshakeCertificateCredentials, HandshakeTrustStore } from '../src/handshake-types.js';

const te = new TextEncoder();
const td = new TextDecoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const DAY = 86_400_000;

interface Ca {
  name: string;
  key: Uint8Array;
  pub: Uint8Array;
}

function makeCa(name: string, seed: number): Ca {
  const key = new Uint8Array(32).fill(seed);
  return { name, key, pub: ed25519.getPublicKey(key) };
}

function issue(ca: Ca, cn: string, key: Uint8Array, serial: string, notBefore: number, notAfter: number): Uint8Array {
  const body = JSON.stringify({ cn, pub: hex(ed25519.getPublicKey(key)), serial, notBefore, notAfter, issuer: ca.name });
  const sig = hex(ed25519.sign(te.encode(body), ca.key));
  return te.encode(JSON.stringify({ body, sig }));
}

function trustStore(cas: Ca[], revoked: Set<string>): HandshakeTrustStore {
  return {
    verify(der, { now }) {
      let body: { cn: string; pub: string; serial: string; notBefore: number; notAfter: number; issuer: string };
      let sig: string;
      try {
        const outer = JSON.parse(td.decode(der)) as { body: string; sig: string };
        body = JSON.parse(outer.body) as typeof body;
        sig = outer.sig;
        if (!ed25519.verify(Buffer.from(sig, 'hex'), te.encode(outer.body), cas.find((c) => c.name === body.issuer)?.pub ?? new Uint8Array(32))) {
          throw new CryptoError('CRYPTO_CERT_UNTRUSTED', `certificate ${body.cn} not signed by a trusted CA`);
        }
      } catch (err) {
        if (err instanceof CryptoError) throw err;
        throw new CryptoError('CRYPTO_CERT_UNTRUSTED', 'certificate does not parse or verify');
      }
      if (now.getTime() < body.notBefore || now.getTime() > body.notAfter) throw new CryptoError('CRYPTO_CERT_EXPIRED', `certificate ${body.cn} expired`);
      if (revoked.has(body.serial)) throw new CryptoError('CRYPTO_CERT_REVOKED', `certificate ${body.cn} revoked`);
      return { commonName: body.cn, publicKey: new Uint8Array(Buffer.from(body.pub, 'hex')), serialHex: body.serial };
    },
  };
}

export interface TestPki {
  trustStore: HandshakeTrustStore;
  initiator: HandshakeCertificateCredentials;
  responder: HandshakeCertificateCredentials;
  otherCa: HandshakeCertificateCredentials;
  expired: HandshakeCertificateCredentials;
  revoked: HandshakeCertificateCredentials;
  /** The responder's certificate with somebody else's private key. */
  stolen: HandshakeCertificateCredentials;
}

/**
 * Build the test PKI, valid around `nowMs`.
 *
 * @example const pki = await createTestPki(Date.now())
 */
export async function createTestPki(nowMs = Date.now()): Promise<TestPki> {
  const ca = makeCa('edgebox test CA', 1);
  const other = makeCa('other CA', 2);
  const store = trustStore([ca], new Set(['0f']));
  const cred = (c: Ca, cn: string, seed: number, serial: string, nb = nowMs - DAY, na = nowMs + 365 * DAY): HandshakeCertificateCredentials => {
    const key = new Uint8Array(32).fill(seed);
    return { kind: 'certificate', certificate: issue(c, cn, key, serial, nb, na), privateKey: key, trustStore: store };
  };
  const responder = cred(ca, 'responder.edgebox', 11, '01');
  return {
    trustStore: store,
    initiator: cred(ca, 'initiator.edgebox', 10, '02'),
    responder,
    otherCa: cred(other, 'intruder.other', 12, '03'),
    expired: cred(ca, 'expired.edgebox', 13, '04', nowMs - 30 * DAY, nowMs - DAY),
    revoked: cred(ca, 'revoked.edgebox', 14, '0f'),
    stolen: { ...responder, privateKey: new Uint8Array(32).fill(99) },
  };
}
