/**
 * The appliance certificate authority: create a self-signed Ed25519 CA, save/load it as PEM,
 * and issue client/server/peer certificates for Ed25519 public keys (RFC 5280 profile:
 * basicConstraints, keyUsage, extKeyUsage, key identifiers, optional subjectAltName).
 * Async because @peculiar/x509 signs through WebCrypto; verification lives in trust-store.ts.
 */
import { createPublicKey, type KeyObject, type webcrypto } from 'node:crypto';
import { CryptoError } from './errors.js';
import { importIdentityPem, rawFromEd25519PublicKey } from './identity.js';
import { ED25519_PUBLIC_KEY_BYTES } from './constants.js';
import {
  assertCommonName,
  assertDate,
  assertDays,
  CA_DEFAULT_VALIDITY_DAYS,
  CERT_BACKDATE_MS,
  CERT_DEFAULT_VALIDITY_DAYS,
  commonNameToName,
  DAY_MS,
  derToPem,
  ED25519_ALGORITHM,
  parseCertificate,
  pemToDer,
  randomSerialHex,
  subjectAltNamesToJson,
  subtleProvider,
  usageOids,
  wholeSeconds,
  x509,
  type CertificateUsage,
  type SubjectAltNames,
} from './certificates.js';

/** An appliance CA: its certificate and (PKCS#8 PEM) private key. */
export interface CertificateAuthority {
  readonly commonName: string;
  /** The self-signed CA certificate, PEM. This is what trust stores load. */
  readonly certificatePem: string;
  readonly certificateDer: Uint8Array;
  /** The CA's Ed25519 private key, PKCS#8 PEM. Store with mode 0600. */
  readonly privateKeyPem: string;
  /** Raw 32-byte Ed25519 public key of the CA. */
  readonly publicKey: Uint8Array;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lowercase hex SHA-256 of the certificate DER. */
  readonly fingerprintSha256: string;
}

/** Options of createCertificateAuthority. */
export interface CertificateAuthorityInit {
  /** The CA's subject CN, 1..64 characters. */
  readonly commonName: string;
  /** Lifetime in days (default 3650). */
  readonly validityDays?: number;
  /** Issue time (default: now); the CA is valid from `now` minus 5 minutes. */
  readonly now?: Date;
}

/** The two PEM strings that make up a stored CA. */
export interface CertificateAuthorityPem {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** Options of issueCertificate. */
export interface IssueCertificateInit {
  /** The subject CN, 1..64 characters (the peer name the handshake reports). */
  readonly commonName: string;
  /** The subject's Ed25519 public key: 32 raw bytes or a KeyObject (a private one gives its public half). */
  readonly publicKey: Uint8Array | KeyObject;
  /** client -> clientAuth, server -> serverAuth, peer -> both. */
  readonly usage: CertificateUsage;
  /** Lifetime in days (default 365), counted from notBefore. */
  readonly validityDays?: number;
  /** Start of validity (default: now minus 5 minutes, for peers with slow clocks). */
  readonly notBefore?: Date;
  /** Issue time (default: now); only used for the default notBefore. */
  readonly now?: Date;
  readonly subjectAltNames?: SubjectAltNames;
}

/** A certificate issued by the CA. */
export interface IssuedCertificate {
  readonly pem: string;
  readonly der: Uint8Array;
  readonly commonName: string;
  readonly usage: CertificateUsage;
  /** Lowercase hex serial (16 random bytes, positive). */
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lowercase hex SHA-256 of `der`. */
  readonly fingerprintSha256: string;
}

// The signing key of every CA object we built or imported, kept off the public object so it
// is never serialized by accident. A CA object from elsewhere (structurally typed) falls back
// to importing its privateKeyPem.
const signingKeys = new WeakMap<CertificateAuthority, webcrypto.CryptoKey>();

async function importSigningKey(privateKeyPem: string): Promise<webcrypto.CryptoKey> {
  const der = pemToDer(privateKeyPem, 'PRIVATE KEY');
  try {
    return await subtleProvider.subtle.importKey('pkcs8', der, ED25519_ALGORITHM, false, ['sign']);
  } catch (cause) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'CA privateKeyPem is not an Ed25519 PKCS#8 key', { cause });
  } finally {
    der.fill(0); // the DER copy holds the seed
  }
}

/** The CA's signing key (internal: revocation.ts signs CRLs with it; not exported by the package). */
export async function signingKeyFor(ca: CertificateAuthority): Promise<webcrypto.CryptoKey> {
  const cached = signingKeys.get(ca);
  if (cached !== undefined) return cached;
  const key = await importSigningKey(ca.privateKeyPem);
  signingKeys.set(ca, key);
  return key;
}

function toPublicCryptoKey(raw: Uint8Array): Promise<webcrypto.CryptoKey> {
  return subtleProvider.subtle.importKey('raw', raw, ED25519_ALGORITHM, true, ['verify']);
}

/** Build the public CA object from a parsed certificate and register its signing key. */
function authorityFrom(certificatePem: string, privateKeyPem: string, key: webcrypto.CryptoKey): CertificateAuthority {
  const parsed = parseCertificate(certificatePem, 'CA certificate');
  const ca: CertificateAuthority = Object.freeze({
    commonName: parsed.commonName,
    certificatePem,
    certificateDer: parsed.der,
    privateKeyPem,
    publicKey: parsed.publicKey,
    serialHex: parsed.serialHex,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    fingerprintSha256: parsed.fingerprintSha256,
  });
  signingKeys.set(ca, key);
  return ca;
}

/**
 * Create a new self-signed Ed25519 appliance CA (basicConstraints CA:true critical, keyUsage
 * keyCertSign + cRLSign critical, subjectKeyIdentifier).
 *
 * @example
 * const ca = await createCertificateAuthority({ commonName: 'edgebox appliance CA' });
 * writeFileSync('ca.pem', ca.certificatePem);
 * writeFileSync('ca.key', ca.privateKeyPem, { mode: 0o600 });
 */
export async function createCertificateAuthority(init: CertificateAuthorityInit): Promise<CertificateAuthority> {
  assertCommonName(init.commonName);
  const validityDays = init.validityDays ?? CA_DEFAULT_VALIDITY_DAYS;
  assertDays(validityDays, 'validityDays');
  const now = init.now ?? new Date();
  assertDate(now, 'now');
  const subtle = subtleProvider.subtle;
  const keys = (await subtle.generateKey(ED25519_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = wholeSeconds(now.getTime() - CERT_BACKDATE_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: commonNameToName(init.commonName),
      notBefore,
      notAfter: wholeSeconds(notBefore.getTime() + validityDays * DAY_MS),
      signingAlgorithm: ED25519_ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true), // pathLen 0: this CA issues leaves only
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, subtleProvider),
      ],
    },
    subtleProvider,
  );
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = derToPem(pkcs8, 'PRIVATE KEY');
  pkcs8.fill(0);
  // Keep a non-extractable copy for signing; the extractable pair goes out of scope here.
  const signingKey = await importSigningKey(privateKeyPem);
  return authorityFrom(derToPem(new Uint8Array(cert.rawData)), privateKeyPem, signingKey);
}

/**
 * The PEM strings to store a CA (certificate + PKCS#8 private key).
 *
 * @example const { certificatePem, privateKeyPem } = exportCertificateAuthority(ca);
 */
export function exportCertificateAuthority(ca: CertificateAuthority): CertificateAuthorityPem {
  return { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
}

/**
 * Load a stored CA. Checks that the certificate is an Ed25519 CA certificate and that the
 * private key belongs to it (CRYPTO_CERT_INVALID / CRYPTO_INVALID_ARGUMENT otherwise).
 *
 * @example
 * const ca = await importCertificateAuthority({
 *   certificatePem: readFileSync('ca.pem', 'utf8'), privateKeyPem: readFileSync('ca.key', 'utf8'),
 * });
 */
export async function importCertificateAuthority(pem: CertificateAuthorityPem): Promise<CertificateAuthority> {
  const parsed = parseCertificate(pem.certificatePem, 'CA certificate');
  if (!parsed.isCa) {
    throw new CryptoError('CRYPTO_CERT_INVALID', `CA certificate ${JSON.stringify(parsed.commonName)} has no basicConstraints CA:true`);
  }
  const identity = importIdentityPem(pem.privateKeyPem);
  if (!Buffer.from(identity.publicKey).equals(parsed.publicKey)) {
    throw new CryptoError(
      'CRYPTO_INVALID_ARGUMENT',
      `CA private key does not match certificate ${JSON.stringify(parsed.commonName)} (public keys differ)`,
    );
  }
  return authorityFrom(pem.certificatePem, pem.privateKeyPem, await importSigningKey(pem.privateKeyPem));
}

function rawPublicKey(publicKey: Uint8Array | KeyObject): Uint8Array {
  if (publicKey instanceof Uint8Array) {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
      throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `publicKey length ${publicKey.length} != ${ED25519_PUBLIC_KEY_BYTES}`);
    }
    return publicKey;
  }
  if (typeof publicKey === 'object' && publicKey !== null && 'asymmetricKeyType' in publicKey) {
    return rawFromEd25519PublicKey(publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey);
  }
  throw new CryptoError('CRYPTO_INVALID_ARGUMENT', 'publicKey must be 32 raw Ed25519 bytes or a KeyObject');
}

/**
 * Issue a certificate for an Ed25519 public key: random 16-byte serial, basicConstraints
 * CA:false (critical), keyUsage digitalSignature (critical), extKeyUsage per `usage`,
 * subject and authority key identifiers, optional subjectAltName. The validity may not end
 * after the CA's.
 *
 * @example
 * const id = generateIdentity();
 * const cert = await issueCertificate(ca, { commonName: 'box-17', publicKey: id.publicKey, usage: 'peer' });
 * // cert.der goes into the handshake credentials, cert.serialHex into the inventory
 */
export async function issueCertificate(ca: CertificateAuthority, init: IssueCertificateInit): Promise<IssuedCertificate> {
  assertCommonName(init.commonName);
  if (init.usage !== 'client' && init.usage !== 'server' && init.usage !== 'peer') {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `usage ${JSON.stringify(init.usage)} must be client, server or peer`);
  }
  const validityDays = init.validityDays ?? CERT_DEFAULT_VALIDITY_DAYS;
  assertDays(validityDays, 'validityDays');
  const now = init.now ?? new Date();
  assertDate(now, 'now');
  const nb = init.notBefore ?? new Date(now.getTime() - CERT_BACKDATE_MS);
  assertDate(nb, 'notBefore');
  const notBefore = wholeSeconds(nb.getTime());
  const notAfter = wholeSeconds(notBefore.getTime() + validityDays * DAY_MS);
  if (notAfter.getTime() > ca.notAfter.getTime()) {
    throw new CryptoError(
      'CRYPTO_INVALID_ARGUMENT',
      `certificate notAfter ${notAfter.toISOString()} > CA notAfter ${ca.notAfter.toISOString()}: shorten validityDays`,
    );
  }
  const san = init.subjectAltNames === undefined ? [] : subjectAltNamesToJson(init.subjectAltNames);
  const subjectKey = await toPublicCryptoKey(rawPublicKey(init.publicKey));
  const caKey = await toPublicCryptoKey(ca.publicKey);
  const serialHex = randomSerialHex();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usageOids(init.usage), false),
    await x509.SubjectKeyIdentifierExtension.create(subjectKey, false, subtleProvider),
    await x509.AuthorityKeyIdentifierExtension.create(caKey, false, subtleProvider),
  ];
  if (san.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(san, false));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialHex,
      subject: commonNameToName(init.commonName),
      issuer: new x509.X509Certificate(ca.certificateDer).subjectName, // the CA's exact subject bytes
      notBefore,
      notAfter,
      publicKey: subjectKey,
      signingKey: await signingKeyFor(ca),
      signingAlgorithm: ED25519_ALGORITHM,
      extensions,
    },
    subtleProvider,
  );
  const parsed = parseCertificate(new Uint8Array(cert.rawData), 'issued certificate');
  return {
    pem: derToPem(parsed.der),
    der: parsed.der,
    commonName: parsed.commonName,
    usage: init.usage,
    serialHex: parsed.serialHex,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    fingerprintSha256: parsed.fingerprintSha256,
  };
}
