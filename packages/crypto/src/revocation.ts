/**
 * Certificate revocation lists (RFC 5280 §5): the CA signs a CRL naming revoked serials; a
 * trust store loads it once (signature checked against the CA, async) and afterwards looks
 * serials up synchronously in a Set.
 */
import { CryptoError } from './errors.js';
import {
  assertDate,
  assertDays,
  CRL_DEFAULT_NEXT_UPDATE_DAYS,
  CRL_MAX_DER_BYTES,
  DAY_MS,
  derToPem,
  ED25519_ALGORITHM,
  normalizeSerialHex,
  pemToDer,
  subtleProvider,
  wholeSeconds,
  x509,
} from './certificates.js';
import { signingKeyFor, type CertificateAuthority } from './certificate-authority.js';

/** RFC 5280 §5.3.1 reason codes (by name). */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'privilegeWithdrawn';

/** One revoked certificate. */
export interface RevokedCertificateEntry {
  /** The certificate's serial, hex (case and leading zeros do not matter). */
  readonly serialHex: string;
  /** When it was revoked (default: the CRL's `now`). */
  readonly revokedAt?: Date;
  readonly reason?: RevocationReason;
}

/** Options of createRevocationList. */
export interface RevocationListInit {
  /** thisUpdate (default: now). Also the CRL number, so later lists supersede earlier ones. */
  readonly now?: Date;
  /** nextUpdate = now + this many days (default 30). */
  readonly nextUpdateDays?: number;
}

/** What a trust store keeps of a loaded CRL. */
export interface LoadedRevocationList {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Normalized serials (lowercase hex, no leading zeros). */
  readonly serials: ReadonlySet<string>;
  readonly crl: x509.X509Crl;
}

const REASONS: Record<RevocationReason, x509.X509CrlReason> = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  cACompromise: x509.X509CrlReason.cACompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
  certificateHold: x509.X509CrlReason.certificateHold,
  privilegeWithdrawn: x509.X509CrlReason.privilegeWithdrawn,
};

const OID_CRL_NUMBER = '2.5.29.20';

/** DER INTEGER of a non-negative safe integer (for the cRLNumber extension). */
function derInteger(n: number): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`; // keep it positive
  const body = Buffer.from(hex, 'hex');
  return Uint8Array.from([0x02, body.length, ...body]);
}

const SERIAL_RE = /^[0-9a-fA-F]{1,40}$/;

/**
 * Create a CRL signed by `ca` listing `revoked` (each serial checked as 1..40 hex digits).
 * Carries authorityKeyIdentifier and a cRLNumber equal to thisUpdate in seconds, so a newer
 * list always has a larger number. Returns PEM.
 *
 * @example
 * const crlPem = await createRevocationList(ca, [{ serialHex: cert.serialHex, reason: 'keyCompromise' }]);
 * await trustStore.addRevocationList(crlPem);
 */
export async function createRevocationList(
  ca: CertificateAuthority,
  revoked: readonly RevokedCertificateEntry[],
  init: RevocationListInit = {},
): Promise<string> {
  const now = init.now ?? new Date();
  assertDate(now, 'now');
  const nextUpdateDays = init.nextUpdateDays ?? CRL_DEFAULT_NEXT_UPDATE_DAYS;
  assertDays(nextUpdateDays, 'nextUpdateDays');
  const thisUpdate = wholeSeconds(now.getTime());
  const entries: x509.X509CrlEntryParams[] = revoked.map((entry, i) => {
    if (typeof entry.serialHex !== 'string' || !SERIAL_RE.test(entry.serialHex)) {
      throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `revoked[${i}].serialHex ${JSON.stringify(entry.serialHex)} is not 1..40 hex digits`);
    }
    const revokedAt = entry.revokedAt ?? thisUpdate;
    assertDate(revokedAt, `revoked[${i}].revokedAt`);
    const reason = entry.reason === undefined ? undefined : REASONS[entry.reason];
    if (entry.reason !== undefined && reason === undefined) {
      throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `revoked[${i}].reason ${JSON.stringify(entry.reason)} is not an RFC 5280 reason`);
    }
    const serial = normalizeSerialHex(entry.serialHex);
    return {
      // DER INTEGER content: a leading 00 keeps a serial with its top bit set positive.
      serialNumber: (serial.length % 2 === 1 ? `0${serial}` : serial).replace(/^([89a-f])/, '00$1'),
      revocationDate: wholeSeconds(revokedAt.getTime()),
      ...(reason === undefined ? {} : { reason }),
    };
  });
  const caCert = new x509.X509Certificate(ca.certificateDer);
  const caKey = await subtleProvider.subtle.importKey('raw', ca.publicKey, ED25519_ALGORITHM, true, ['verify']);
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: caCert.subjectName,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + nextUpdateDays * DAY_MS),
      signingAlgorithm: ED25519_ALGORITHM,
      signingKey: await signingKeyFor(ca),
      entries,
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(caKey, false, subtleProvider),
        new x509.Extension(OID_CRL_NUMBER, false, derInteger(Math.floor(thisUpdate.getTime() / 1000))),
      ],
    },
    subtleProvider,
  );
  return derToPem(new Uint8Array(crl.rawData), 'X509 CRL');
}

/**
 * Parse a CRL (PEM "X509 CRL" or DER), size-checked first. Does NOT check the signature:
 * the trust store does that against the issuing CA. Raises CRYPTO_CERT_INVALID.
 */
export function parseRevocationList(input: string | Uint8Array): LoadedRevocationList {
  let der: Uint8Array;
  if (typeof input === 'string') {
    if (input.length > 2 * CRL_MAX_DER_BYTES) {
      throw new CryptoError('CRYPTO_CERT_INVALID', `CRL PEM length ${input.length} chars > max ${2 * CRL_MAX_DER_BYTES}`);
    }
    der = pemToDer(input, 'X509 CRL');
  } else if (input instanceof Uint8Array) {
    der = input;
  } else {
    throw new CryptoError('CRYPTO_CERT_INVALID', `CRL is a ${typeof input}, expected PEM or DER`);
  }
  if (der.length === 0 || der.length > CRL_MAX_DER_BYTES) {
    throw new CryptoError('CRYPTO_CERT_INVALID', `CRL length ${der.length} bytes outside 1..${CRL_MAX_DER_BYTES}`);
  }
  try {
    const crl = new x509.X509Crl(der);
    const serials = new Set<string>();
    for (const entry of crl.entries) serials.add(normalizeSerialHex(entry.serialNumber));
    return { issuer: crl.issuer, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, serials, crl };
  } catch (cause) {
    throw new CryptoError('CRYPTO_CERT_INVALID', 'CRL does not parse as an X.509 CRL', { cause });
  }
}
