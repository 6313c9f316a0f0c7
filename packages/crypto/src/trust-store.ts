/**
 * The trust store: the appliance CAs a node trusts plus their revocation lists, and a
 * SYNCHRONOUS verify() for leaf certificates (the handshake state machine calls it inline).
 *
 * verify() order, cheapest and most telling first (RFC 5280 §6.1, one-level path):
 *   1. size, parse, canonical DER, Ed25519 key          -> CRYPTO_CERT_INVALID
 *   2. not a CA, no unknown critical ext, keyUsage, EKU -> CRYPTO_CERT_INVALID
 *   3. issuer names a trusted CA whose key verifies it  -> CRYPTO_CERT_UNTRUSTED
 *   4. now within the leaf's and the CA's validity      -> CRYPTO_CERT_EXPIRED
 *   5. serial not on that CA's loaded CRL               -> CRYPTO_CERT_REVOKED
 * CRL signatures are checked once, when a list is loaded (async), never per verify().
 */
import type { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { CryptoError } from './errors.js';
import {
  allowsUsage,
  assertDate,
  normalizeSerialHex,
  parseCertificate,
  subtleProvider,
  TRUST_STORE_MAX_AUTHORITIES,
  usageFromOids,
  x509,
  type CertificateUsage,
  type ParsedCertificate,
} from './certificates.js';
import { parseRevocationList, type LoadedRevocationList } from './revocation.js';

/** A certificate that verify() accepted. */
export interface VerifiedCertificate {
  readonly commonName: string;
  /** Raw 32-byte Ed25519 public key of the subject. */
  readonly publicKey: Uint8Array;
  /** Lowercase hex serial. */
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lowercase hex SHA-256 of the DER. */
  readonly fingerprintSha256: string;
  readonly issuerCommonName: string;
  /** The usage its extKeyUsage grants (client, server, or peer = both). */
  readonly usage: CertificateUsage;
  readonly subjectAltNames: { readonly dns: readonly string[]; readonly ip: readonly string[] };
}

/** Options of TrustStore.verify. */
export interface VerifyCertificateOptions {
  /** The time to check validity at (default: now). */
  readonly now?: Date;
  /** Required usage: client -> clientAuth, server -> serverAuth, peer -> both. Default: any. */
  readonly usage?: CertificateUsage;
}

/** One trusted CA as the store reports it. */
export interface TrustedAuthoritySummary {
  readonly commonName: string;
  readonly fingerprintSha256: string;
  readonly notAfter: Date;
  /** Revocation list state: undefined when none is loaded for this CA. */
  readonly revocationList?: { readonly thisUpdate: Date; readonly nextUpdate: Date | undefined; readonly revokedCount: number };
}

/** Trusted CAs + revocation lists; verify() is synchronous. */
export interface TrustStore {
  /**
   * Verify a leaf certificate (DER bytes or PEM). Returns what it certifies or raises a
   * CryptoError: CRYPTO_CERT_INVALID, _UNTRUSTED, _EXPIRED or _REVOKED; never another error.
   */
  verify(certificate: Uint8Array | string, options?: VerifyCertificateOptions): VerifiedCertificate;
  /**
   * Load (or replace) the CRL of one trusted CA, checking its signature. A list older than
   * the one loaded for that CA is refused (CRYPTO_CERT_INVALID); one not signed by a trusted
   * CA is refused with CRYPTO_CERT_UNTRUSTED.
   */
  addRevocationList(crl: string | Uint8Array): Promise<void>;
  /** The trusted CAs and their revocation state (JSON-friendly, for status pages). */
  authorities(): TrustedAuthoritySummary[];
}

/** Options of createTrustStore. */
export interface TrustStoreInit {
  /** Trusted CA certificates, PEM (at most 64). Each must be an Ed25519 CA:true certificate. */
  readonly authorities: readonly string[];
  /** Revocation lists (PEM), each signed by one of `authorities`. */
  readonly revocationLists?: readonly string[];
}

interface Authority {
  readonly parsed: ParsedCertificate;
  readonly peculiar: x509.X509Certificate;
  readonly node: NodeX509Certificate;
  crl: LoadedRevocationList | undefined;
}

function fail(code: 'CRYPTO_CERT_INVALID' | 'CRYPTO_CERT_UNTRUSTED' | 'CRYPTO_CERT_EXPIRED' | 'CRYPTO_CERT_REVOKED', message: string, details: Record<string, unknown>): never {
  throw new CryptoError(code, message, { details });
}

class TrustStoreImpl implements TrustStore {
  // Keyed by subject (as node:crypto prints it): a leaf's issuer string looks its CA up in O(1).
  // A list, because a rotated CA may keep its name while its key changes.
  private readonly bySubject = new Map<string, Authority[]>();
  private readonly all: Authority[] = [];

  constructor(authorities: readonly string[]) {
    if (!Array.isArray(authorities) || authorities.length === 0 || authorities.length > TRUST_STORE_MAX_AUTHORITIES) {
      throw new CryptoError(
        'CRYPTO_INVALID_ARGUMENT',
        `authorities count ${Array.isArray(authorities) ? authorities.length : typeof authorities} outside 1..${TRUST_STORE_MAX_AUTHORITIES}`,
      );
    }
    authorities.forEach((pem, i) => {
      const parsed = parseCertificate(pem, `authorities[${i}]`);
      if (!parsed.isCa) {
        throw new CryptoError('CRYPTO_CERT_INVALID', `authorities[${i}] ${JSON.stringify(parsed.commonName)} is not a CA certificate (basicConstraints CA:true missing)`);
      }
      if (this.all.some((a) => a.parsed.fingerprintSha256 === parsed.fingerprintSha256)) return; // duplicate
      const authority: Authority = { parsed, peculiar: new x509.X509Certificate(parsed.der), node: parsed.node, crl: undefined };
      this.all.push(authority);
      const list = this.bySubject.get(parsed.subject);
      if (list === undefined) this.bySubject.set(parsed.subject, [authority]);
      else list.push(authority);
    });
  }

  verify(certificate: Uint8Array | string, options: VerifyCertificateOptions = {}): VerifiedCertificate {
    const now = options.now ?? new Date();
    assertDate(now, 'options.now'); // an Invalid Date would compare false and pass every check
    const leaf = parseCertificate(certificate);
    const cn = leaf.commonName;
    if (leaf.isCa) {
      fail('CRYPTO_CERT_INVALID', `certificate ${JSON.stringify(cn)} is a CA certificate (CA:true), expected a leaf`, { commonName: cn });
    }
    if (leaf.keyUsage !== undefined) {
      const ku = leaf.keyUsage;
      if ((ku & x509.KeyUsageFlags.digitalSignature) === 0 || (ku & x509.KeyUsageFlags.keyCertSign) !== 0) {
        fail('CRYPTO_CERT_INVALID', `certificate ${JSON.stringify(cn)} keyUsage ${ku} must include digitalSignature and not keyCertSign`, { commonName: cn, keyUsage: ku });
      }
    }
    const granted = usageFromOids(leaf.extendedKeyUsage);
    if (granted === undefined || (options.usage !== undefined && !allowsUsage(leaf.extendedKeyUsage, options.usage))) {
      fail('CRYPTO_CERT_INVALID', `certificate ${JSON.stringify(cn)} usage ${granted ?? 'none'} does not allow ${options.usage ?? 'client or server'}`, {
        commonName: cn,
        usage: granted ?? null,
        required: options.usage ?? null,
      });
    }
    const authority = this.issuerOf(leaf);
    const t = now.getTime();
    if (t < leaf.notBefore.getTime()) {
      fail('CRYPTO_CERT_EXPIRED', `certificate ${JSON.stringify(cn)} is not yet valid: notBefore ${leaf.notBefore.toISOString()} > now ${now.toISOString()}`, {
        commonName: cn,
        notBefore: leaf.notBefore.toISOString(),
        now: now.toISOString(),
      });
    }
    if (t > leaf.notAfter.getTime()) {
      fail('CRYPTO_CERT_EXPIRED', `certificate ${JSON.stringify(cn)} expired: notAfter ${leaf.notAfter.toISOString()} < now ${now.toISOString()}`, {
        commonName: cn,
        notAfter: leaf.notAfter.toISOString(),
        now: now.toISOString(),
      });
    }
    const ca = authority.parsed;
    if (t < ca.notBefore.getTime() || t > ca.notAfter.getTime()) {
      fail('CRYPTO_CERT_EXPIRED', `issuing CA ${JSON.stringify(ca.commonName)} is outside its validity ${ca.notBefore.toISOString()}..${ca.notAfter.toISOString()} at now ${now.toISOString()}`, {
        commonName: cn,
        issuer: ca.commonName,
        now: now.toISOString(),
      });
    }
    if (authority.crl?.serials.has(normalizeSerialHex(leaf.serialHex)) === true) {
      fail('CRYPTO_CERT_REVOKED', `certificate ${JSON.stringify(cn)} serial ${leaf.serialHex} is revoked by CA ${JSON.stringify(ca.commonName)}`, {
        commonName: cn,
        serialHex: leaf.serialHex,
        issuer: ca.commonName,
      });
    }
    return {
      commonName: cn,
      publicKey: leaf.publicKey,
      serialHex: leaf.serialHex,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      fingerprintSha256: leaf.fingerprintSha256,
      issuerCommonName: ca.commonName,
      usage: granted,
      subjectAltNames: leaf.subjectAltNames,
    };
  }

  /** The trusted CA whose name is the leaf's issuer and whose key verifies its signature. */
  private issuerOf(leaf: ParsedCertificate): Authority {
    const candidates = this.bySubject.get(leaf.issuer);
    if (candidates === undefined) {
      fail('CRYPTO_CERT_UNTRUSTED', `certificate ${JSON.stringify(leaf.commonName)} issuer ${JSON.stringify(leaf.issuerCommonName)} is not a trusted CA`, {
        commonName: leaf.commonName,
        issuer: leaf.issuerCommonName,
      });
    }
    for (const authority of candidates) {
      let ok: boolean;
      try {
        ok = leaf.node.verify(authority.node.publicKey);
      } catch {
        ok = false; // OpenSSL refusing the signature algorithm is a failed verification
      }
      if (ok) return authority;
    }
    return fail('CRYPTO_CERT_UNTRUSTED', `certificate ${JSON.stringify(leaf.commonName)} signature does not verify with trusted CA ${JSON.stringify(leaf.issuerCommonName)}`, {
      commonName: leaf.commonName,
      issuer: leaf.issuerCommonName,
    });
  }

  async addRevocationList(crlInput: string | Uint8Array): Promise<void> {
    const loaded = parseRevocationList(crlInput);
    const issuerCn = loaded.crl.issuerName.getField('CN')[0] ?? loaded.issuer;
    const candidates = this.all.filter((a) => a.peculiar.subject === loaded.issuer);
    if (candidates.length === 0) {
      fail('CRYPTO_CERT_UNTRUSTED', `CRL issuer ${JSON.stringify(issuerCn)} is not a trusted CA`, { issuer: issuerCn });
    }
    let authority: Authority | undefined;
    for (const candidate of candidates) {
      let ok: boolean;
      try {
        ok = await loaded.crl.verify({ publicKey: candidate.peculiar }, subtleProvider);
      } catch {
        ok = false;
      }
      if (ok) {
        authority = candidate;
        break;
      }
    }
    if (authority === undefined) {
      return fail('CRYPTO_CERT_UNTRUSTED', `CRL signature does not verify with trusted CA ${JSON.stringify(issuerCn)}`, { issuer: issuerCn });
    }
    const current = authority.crl;
    if (current !== undefined && loaded.thisUpdate.getTime() < current.thisUpdate.getTime()) {
      fail('CRYPTO_CERT_INVALID', `CRL of ${JSON.stringify(issuerCn)} thisUpdate ${loaded.thisUpdate.toISOString()} is older than the loaded ${current.thisUpdate.toISOString()}`, {
        issuer: issuerCn,
      });
    }
    authority.crl = loaded;
  }

  authorities(): TrustedAuthoritySummary[] {
    return this.all.map((a) => ({
      commonName: a.parsed.commonName,
      fingerprintSha256: a.parsed.fingerprintSha256,
      notAfter: a.parsed.notAfter,
      ...(a.crl === undefined
        ? {}
        : { revocationList: { thisUpdate: a.crl.thisUpdate, nextUpdate: a.crl.nextUpdate, revokedCount: a.crl.serials.size } }),
    }));
  }
}

/**
 * Build a trust store from CA certificates (PEM) and their CRLs. Each CRL's signature is
 * checked against its CA here, once; a CRL no trusted CA signed is refused
 * (CRYPTO_CERT_UNTRUSTED).
 *
 * @example
 * const trustStore = await createTrustStore({ authorities: [caPem], revocationLists: [crlPem] });
 * const peer = trustStore.verify(certDer, { usage: 'client' }); // sync; throws CRYPTO_CERT_*
 * console.log(peer.commonName, peer.serialHex);
 */
export async function createTrustStore(init: TrustStoreInit): Promise<TrustStore> {
  const store = new TrustStoreImpl(init.authorities);
  for (const crl of init.revocationLists ?? []) await store.addRevocationList(crl);
  return store;
}
