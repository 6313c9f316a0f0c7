/**
 * Shared ground of the appliance PKI (certificate-authority.ts, revocation.ts, trust-store.ts):
 * limits, the usage vocabulary, PEM <-> DER, serial numbers, fingerprints, and one strict
 * certificate parser that turns any malformed input into CRYPTO_CERT_INVALID.
 *
 * Every key in this PKI is Ed25519 (RFC 8410). Generation goes through @peculiar/x509 on the
 * node:crypto WebCrypto provider (async); verification goes through node:crypto's
 * X509Certificate (sync, OpenSSL) so a handshake state machine can call it inline.
 */
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the
// Reflect metadata polyfill installed before the library module is evaluated.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { CryptoError } from './errors.js';
import { rawFromEd25519PublicKey } from './identity.js';
import {
  decodeBasicConstraintsCa,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltNames,
  readCertificateFields,
} from './certificate-der.js';

export { x509 };

/** Largest certificate accepted anywhere (DER bytes); ours are ~300-500 bytes. */
export const CERT_MAX_DER_BYTES = 8192;
/** Largest revocation list accepted (DER bytes), ~25 000 entries. */
export const CRL_MAX_DER_BYTES = 1_048_576;
/** Most trust anchors one trust store holds. */
export const TRUST_STORE_MAX_AUTHORITIES = 64;
/** X.520 upper bound for a common name (ub-common-name). */
export const CERT_COMMON_NAME_MAX_CHARS = 64;
/** Most subject alternative names per certificate. */
export const CERT_MAX_SUBJECT_ALT_NAMES = 32;
/** Default lifetime of an appliance CA. */
export const CA_DEFAULT_VALIDITY_DAYS = 3650;
/** Default lifetime of an issued certificate. */
export const CERT_DEFAULT_VALIDITY_DAYS = 365;
/** Default distance from a CRL's thisUpdate to its nextUpdate. */
export const CRL_DEFAULT_NEXT_UPDATE_DAYS = 30;
/** Issued certificates start this much before `now` so peers with slow clocks accept them. */
export const CERT_BACKDATE_MS = 5 * 60_000;

/** The only key and signature algorithm of the appliance PKI. */
export const ED25519_ALGORITHM = { name: 'Ed25519' } as const;

/** What a certificate may be used for: TLS-style client, server, or both ("peer"). */
export type CertificateUsage = 'client' | 'server' | 'peer';

/** Subject alternative names carried by a certificate. */
export interface SubjectAltNames {
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
}

export const DAY_MS = 86_400_000;
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** Extensions a verifier here understands; any other critical one makes a certificate invalid. */
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const KNOWN_EXTENSIONS = new Set([
  OID_BASIC_CONSTRAINTS,
  OID_KEY_USAGE,
  OID_EXT_KEY_USAGE,
  OID_SUBJECT_ALT_NAME,
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
]);

/** The WebCrypto provider handed to every @peculiar/x509 call (no global provider is set). */
export const subtleProvider: webcrypto.Crypto = webcrypto;

/** EKU OIDs for a usage. */
export function usageOids(usage: CertificateUsage): string[] {
  if (usage === 'client') return [OID_CLIENT_AUTH];
  if (usage === 'server') return [OID_SERVER_AUTH];
  return [OID_SERVER_AUTH, OID_CLIENT_AUTH];
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----/;

/**
 * Decode the first PEM block with `label` (default CERTIFICATE) to DER bytes. Raises
 * CRYPTO_CERT_INVALID when there is no such block or its base64 is malformed.
 *
 * @example const der = pemToDer(readFileSync('ca.pem', 'utf8'));
 */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Uint8Array {
  if (typeof pem !== 'string') {
    throw new CryptoError('CRYPTO_CERT_INVALID', `PEM input is a ${typeof pem}, expected a string`);
  }
  const start = pem.indexOf(`-----BEGIN ${label}-----`);
  const m = start < 0 ? null : PEM_RE.exec(pem.slice(start));
  if (m === null || m[1] !== label) {
    throw new CryptoError('CRYPTO_CERT_INVALID', `PEM input has no "${label}" block`, { details: { label } });
  }
  const body = (m[2] ?? '').replace(/[\r\n]/g, '');
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    throw new CryptoError('CRYPTO_CERT_INVALID', `PEM "${label}" block is not valid base64`, { details: { label } });
  }
  const der = Buffer.from(body, 'base64');
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * Encode DER bytes as one PEM block (64-column base64), label default CERTIFICATE.
 *
 * @example writeFileSync('leaf.pem', derToPem(issued.der));
 */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Lowercase hex SHA-256 of `der` (the certificate fingerprint used across the appliance). */
export function fingerprintSha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * 16 random bytes as a positive DER INTEGER without a leading zero octet (RFC 5280 §4.1.2.2:
 * positive, ≤ 20 octets): top bit cleared so it is positive, second bit set so the first
 * octet is never zero and the encoding is exactly 16 bytes.
 */
export function randomSerialHex(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40;
  return b.toString('hex');
}

/** Canonical form used to compare serials from certificates and CRLs: lowercase, no leading zeros. */
export function normalizeSerialHex(serialHex: string): string {
  const s = serialHex.toLowerCase().replace(/^0+/, '');
  return s.length === 0 ? '0' : s;
}

/** Check a common name: 1..64 characters, no control characters. */
export function assertCommonName(commonName: unknown, field = 'commonName'): asserts commonName is string {
  if (typeof commonName !== 'string' || commonName.length === 0 || commonName.length > CERT_COMMON_NAME_MAX_CHARS) {
    throw new CryptoError(
      'CRYPTO_INVALID_ARGUMENT',
      `${field} ${JSON.stringify(commonName)} must be a string of 1..${CERT_COMMON_NAME_MAX_CHARS} characters`,
    );
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
  if (/[\u0000-\u001f\u007f]/.test(commonName)) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `${field} ${JSON.stringify(commonName)} contains control characters`);
  }
}

/** A one-attribute distinguished name CN=<commonName>, encoded as UTF8String (RFC 5280 §4.1.2.4). */
export function commonNameToName(commonName: string): x509.Name {
  return new x509.Name([{ CN: [{ utf8String: commonName }] }]);
}

/** Validate and convert subject alternative names for @peculiar/x509. */
export function subjectAltNamesToJson(san: SubjectAltNames): x509.JsonGeneralNames {
  const out: x509.JsonGeneralNames = [];
  for (const dns of san.dns ?? []) {
    if (typeof dns !== 'string' || dns.length === 0 || dns.length > 253 || !/^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(dns)) {
      throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `subjectAltNames.dns ${JSON.stringify(dns)} is not a DNS name`);
    }
    out.push({ type: 'dns', value: dns });
  }
  for (const ip of san.ip ?? []) {
    if (typeof ip !== 'string' || isIP(ip) === 0) {
      throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `subjectAltNames.ip ${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
    }
    out.push({ type: 'ip', value: ip });
  }
  if (out.length > CERT_MAX_SUBJECT_ALT_NAMES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `subjectAltNames count ${out.length} > max ${CERT_MAX_SUBJECT_ALT_NAMES}`);
  }
  return out;
}

/** Check a Date argument (a real, valid Date). */
export function assertDate(value: unknown, field: string): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `${field} ${String(value)} is not a valid Date`);
  }
}

/** Check a day count (positive integer, at most 100 years). */
export function assertDays(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 36_500) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `${field} ${String(value)} must be an integer of 1..36500 days`);
  }
}

/** X.509 times carry whole seconds: drop the milliseconds so what we report is what is encoded. */
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** Everything this package reads out of one certificate. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly node: NodeX509Certificate;
  readonly commonName: string;
  readonly issuerCommonName: string;
  /** Issuer and subject as node:crypto prints them: compared to chain a leaf to its CA. */
  readonly subject: string;
  readonly issuer: string;
  readonly publicKey: Uint8Array;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly fingerprintSha256: string;
  readonly isCa: boolean;
  /** keyUsage bit mask, undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** extKeyUsage OIDs, undefined when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly subjectAltNames: { dns: string[]; ip: string[] };
}

function invalid(message: string, cause?: unknown, details?: Record<string, unknown>): CryptoError {
  return new CryptoError('CRYPTO_CERT_INVALID', message, { cause, details });
}

/**
 * Bytes of a certificate given as DER or PEM, size-checked before any parsing.
 */
export function certificateInputToDer(certificate: Uint8Array | string, field = 'certificate'): Uint8Array {
  if (certificate instanceof Uint8Array) {
    if (certificate.length > 0 && certificate.length <= CERT_MAX_DER_BYTES) return certificate;
    throw invalid(`${field} length ${certificate.length} bytes outside 1..${CERT_MAX_DER_BYTES}`);
  }
  if (typeof certificate === 'string') {
    // base64 is 4/3 of the DER plus line breaks and armour: 2x bounds it comfortably.
    if (certificate.length > 2 * CERT_MAX_DER_BYTES) {
      throw invalid(`${field} PEM length ${certificate.length} chars > max ${2 * CERT_MAX_DER_BYTES}`);
    }
    return certificateInputToDer(pemToDer(certificate), field);
  }
  throw invalid(`${field} is a ${typeof certificate}, expected DER bytes or a PEM string`);
}

/**
 * Parse one certificate strictly: node:crypto (OpenSSL) must parse it and re-encode exactly
 * the same bytes (no trailing data, DER not BER), the key must be Ed25519, @peculiar/x509 must
 * read its names and extensions, and no unknown extension may be critical. Any failure is
 * CRYPTO_CERT_INVALID, never another error.
 */
export function parseCertificate(certificate: Uint8Array | string, field = 'certificate'): ParsedCertificate {
  const der = certificateInputToDer(certificate, field);
  try {
    return parseDer(der, field);
  } catch (cause) {
    // node:crypto getters (publicKey, subject) and the ASN.1 layer throw their own errors on
    // hostile input; only our own code leaves this function.
    if (cause instanceof CryptoError) throw cause;
    throw invalid(`${field} does not parse as an X.509 certificate`, cause);
  }
}

function parseDer(der: Uint8Array, field: string): ParsedCertificate {
  const node = new NodeX509Certificate(der);
  if (!Buffer.from(der.buffer, der.byteOffset, der.byteLength).equals(node.raw)) {
    throw invalid(`${field} is not canonical DER (length ${der.length}, re-encoded ${node.raw.length})`);
  }
  const key = node.publicKey;
  if (key.asymmetricKeyType !== 'ed25519') {
    throw invalid(`${field} key type ${key.asymmetricKeyType ?? 'unknown'} is not ed25519`, undefined, { keyType: key.asymmetricKeyType });
  }
  // OpenSSL accepted and re-encoded these exact bytes; the walker reads what it does not expose.
  const fields = readCertificateFields(der);
  const commonName = fields.subjectCommonName;
  if (commonName === undefined || commonName.length === 0) throw invalid(`${field} subject has no common name`);
  let isCa = false;
  let keyUsage: number | undefined;
  let extendedKeyUsage: string[] | undefined;
  let subjectAltNames: { dns: string[]; ip: string[] } = { dns: [], ip: [] };
  for (const ext of fields.extensions) {
    switch (ext.oid) {
      case OID_BASIC_CONSTRAINTS:
        isCa = decodeBasicConstraintsCa(ext.value);
        break;
      case OID_KEY_USAGE:
        keyUsage = decodeKeyUsage(ext.value);
        break;
      case OID_EXT_KEY_USAGE:
        extendedKeyUsage = decodeExtKeyUsage(ext.value);
        break;
      case OID_SUBJECT_ALT_NAME:
        subjectAltNames = decodeSubjectAltNames(ext.value);
        break;
      default:
        if (ext.critical && !KNOWN_EXTENSIONS.has(ext.oid)) {
          throw invalid(`${field} has unsupported critical extension ${ext.oid}`, undefined, { extension: ext.oid });
        }
    }
  }
  return {
    der,
    node,
    commonName,
    issuerCommonName: fields.issuerCommonName ?? '',
    subject: node.subject,
    issuer: node.issuer,
    publicKey: rawFromEd25519PublicKey(key),
    serialHex: fields.serialHex,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    fingerprintSha256: fingerprintSha256(der),
    isCa,
    keyUsage,
    extendedKeyUsage,
    subjectAltNames,
  };
}

/** True when a certificate's extended key usage allows `usage`. */
export function allowsUsage(extendedKeyUsage: readonly string[] | undefined, usage: CertificateUsage): boolean {
  if (extendedKeyUsage === undefined) return false; // we always issue EKU: its absence is suspect
  return usageOids(usage).every((oid) => extendedKeyUsage.includes(oid));
}

/** The usage a certificate's EKU grants (undefined when neither client nor server). */
export function usageFromOids(extendedKeyUsage: readonly string[] | undefined): CertificateUsage | undefined {
  const client = extendedKeyUsage?.includes(OID_CLIENT_AUTH) === true;
  const server = extendedKeyUsage?.includes(OID_SERVER_AUTH) === true;
  if (client && server) return 'peer';
  if (client) return 'client';
  if (server) return 'server';
  return undefined;
}

/** What inspectCertificate reports (no trust decision). */
export interface CertificateInfo {
  readonly commonName: string;
  readonly issuerCommonName: string;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly fingerprintSha256: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** basicConstraints CA:true. */
  readonly isCa: boolean;
  /** The usage extKeyUsage grants; undefined for a CA or a certificate without client/server EKU. */
  readonly usage: CertificateUsage | undefined;
  readonly subjectAltNames: { readonly dns: readonly string[]; readonly ip: readonly string[] };
}

/**
 * Read a certificate (DER or PEM) without deciding whether to trust it: for `certs inspect`
 * and inventories. Raises CRYPTO_CERT_INVALID for anything that is not an Ed25519 certificate.
 *
 * @example const info = inspectCertificate(readFileSync('leaf.pem', 'utf8')); // info.notAfter
 */
export function inspectCertificate(certificate: Uint8Array | string): CertificateInfo {
  const p = parseCertificate(certificate);
  return {
    commonName: p.commonName,
    issuerCommonName: p.issuerCommonName,
    serialHex: p.serialHex,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    fingerprintSha256: p.fingerprintSha256,
    publicKey: p.publicKey,
    isCa: p.isCa,
    usage: usageFromOids(p.extendedKeyUsage),
    subjectAltNames: p.subjectAltNames,
  };
}
