// The appliance PKI the certificate-mode handshake tests and the bench run on: the REAL
// createCertificateAuthority / issueCertificate / createRevocationList / createTrustStore,
// valid around a given time. Besides the good initiator (client) and responder (server)
// credentials it holds the bad cases: a certificate from another CA (and from an impostor CA
// with the same name), expired, not yet valid, revoked (on the trusted CA's CRL), the wrong
// usage, a stolen certificate (presented without its private key) and a tampered one.
import {
  createCertificateAuthority,
  issueCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../src/certificate-authority.js';
import { createRevocationList } from '../src/revocation.js';
import { createTrustStore, type TrustStore } from '../src/trust-store.js';
import { generateIdentity } from '../src/identity.js';
import type { CertificateUsage } from '../src/certificates.js';
import type { HandshakeCertificateCredentials } from '../src/handshake-types.js';

const DAY_MS = 86_400_000;

/** One peer's credentials plus the issued certificate behind them. */
export interface PkiPeer {
  readonly credentials: HandshakeCertificateCredentials;
  readonly issued: IssuedCertificate;
}

export interface HandshakePki {
  readonly ca: CertificateAuthority;
  /** Trusts `ca` with a CRL revoking `revoked`. */
  readonly trustStore: TrustStore;
  readonly initiator: PkiPeer;
  readonly responder: PkiPeer;
  /** usage 'peer': acceptable on either side. */
  readonly peer: PkiPeer;
  /** Issued by a different CA ("other CA"). */
  readonly otherCa: PkiPeer;
  /** Issued by a CA with the trusted CA's name but another key. */
  readonly impostorCa: PkiPeer;
  readonly expired: PkiPeer;
  readonly notYetValid: PkiPeer;
  readonly revoked: PkiPeer;
  /** A server certificate used by an initiator / a client certificate used by a responder. */
  readonly serverAsClient: PkiPeer;
  readonly clientAsServer: PkiPeer;
  /** The responder's certificate with somebody else's private key. */
  readonly stolenResponder: HandshakeCertificateCredentials;
  /** The initiator's certificate with somebody else's private key. */
  readonly stolenInitiator: HandshakeCertificateCredentials;
  /** The initiator's / responder's certificate with the common name edited to the other's. */
  readonly tamperedInitiator: HandshakeCertificateCredentials;
  readonly tamperedResponder: HandshakeCertificateCredentials;
}

/**
 * Build the PKI valid around `nowMs`: CAs from `nowMs` - 5 min for 10 years, leaves from
 * `nowMs` - 1 day for a year unless the case says otherwise.
 *
 * @example const pki = await createHandshakePki(T0);
 */
export async function createHandshakePki(nowMs = Date.now()): Promise<HandshakePki> {
  const now = new Date(nowMs);
  const ca = await createCertificateAuthority({ commonName: 'edgebox test CA', now });
  const other = await createCertificateAuthority({ commonName: 'other CA', now });
  const impostor = await createCertificateAuthority({ commonName: 'edgebox test CA', now });

  const issue = async (by: CertificateAuthority, commonName: string, usage: CertificateUsage, notBeforeMs = nowMs - DAY_MS, validityDays = 365) => {
    const id = generateIdentity();
    const issued = await issueCertificate(by, { commonName, publicKey: id.publicKey, usage, notBefore: new Date(notBeforeMs), validityDays });
    return { issued, privateKey: id.privateKey };
  };
  const leaves = {
    initiator: await issue(ca, 'initiator.edgebox', 'client'),
    responder: await issue(ca, 'responder.edgebox', 'server'),
    peer: await issue(ca, 'peer.edgebox', 'peer'),
    otherCa: await issue(other, 'intruder.other', 'peer'),
    impostorCa: await issue(impostor, 'impostor.edgebox', 'peer'),
    expired: await issue(ca, 'expired.edgebox', 'peer', nowMs - 30 * DAY_MS, 7),
    notYetValid: await issue(ca, 'future.edgebox', 'peer', nowMs + DAY_MS),
    revoked: await issue(ca, 'revoked.edgebox', 'peer'),
    serverAsClient: await issue(ca, 'server-only.edgebox', 'server'),
    clientAsServer: await issue(ca, 'client-only.edgebox', 'client'),
  };
  const crl = await createRevocationList(ca, [{ serialHex: leaves.revoked.issued.serialHex, reason: 'keyCompromise' }], { now });
  // Every peer verifies with the same trust store (the appliance's).
  const trustStore = await createTrustStore({ authorities: [ca.certificatePem], revocationLists: [crl] });
  const all = {} as Record<keyof typeof leaves, PkiPeer>;
  for (const name of Object.keys(leaves) as (keyof typeof leaves)[]) {
    const { issued, privateKey } = leaves[name];
    all[name] = { issued, credentials: { kind: 'certificate', certificate: issued.der, privateKey, trustStore } };
  }

  const thief = generateIdentity();
  // Same-length edit, so the DER stays well-formed: only the CA signature stops matching.
  const rename = (p: PkiPeer, from: string, to: string): HandshakeCertificateCredentials => {
    const der = p.issued.der.slice();
    der.set(new TextEncoder().encode(to), Buffer.from(der).indexOf(from));
    return { ...p.credentials, certificate: der };
  };
  return {
    ca,
    trustStore,
    ...all,
    stolenResponder: { ...all.responder.credentials, privateKey: thief.privateKey },
    stolenInitiator: { ...all.initiator.credentials, privateKey: thief.privateKey },
    tamperedInitiator: rename(all.initiator, 'initiator.edgebox', 'responder.edgebox'),
    tamperedResponder: rename(all.responder, 'responder.edgebox', 'initiator.edgebox'),
  };
}
