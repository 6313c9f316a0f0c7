// The fast DER walker (src/certificate-der.ts) against the reference: @peculiar/x509's full
// ASN.1 parser must read the same names, dates, serial and extensions from every certificate.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeBasicConstraintsCa,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeOid,
  decodeSubjectAltNames,
  readCertificateFields,
} from '../src/certificate-der.js';
import { createCertificateAuthority, createTrustStore, inspectCertificate, pemToDer, type CertificateAuthority } from '../src/index.js';

const alg = { name: 'Ed25519' };
let ca: CertificateAuthority;
let caKey: webcrypto.CryptoKey;
let subjectKey: webcrypto.CryptoKey;

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'der CA' });
  caKey = await webcrypto.subtle.importKey('pkcs8', pemToDer(ca.privateKeyPem, 'PRIVATE KEY'), alg, false, ['sign']);
  subjectKey = ((await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair).publicKey;
});

interface Build {
  subject: x509.Name;
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  extensions: x509.Extension[];
}

async function build(b: Build): Promise<Uint8Array> {
  const cert = await x509.X509CertificateGenerator.create(
    { ...b, issuer: new x509.X509Certificate(ca.certificateDer).subjectName, publicKey: subjectKey, signingKey: caKey, signingAlgorithm: alg },
    webcrypto,
  );
  return new Uint8Array(cert.rawData);
}

/** What the reference parser reads. */
function reference(der: Uint8Array) {
  const c = new x509.X509Certificate(der);
  const ku = c.getExtension(x509.KeyUsagesExtension);
  const eku = c.getExtension(x509.ExtendedKeyUsageExtension);
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    serialHex: c.serialNumber.toLowerCase(),
    subjectCommonName: c.subjectName.getField('CN')[0],
    issuerCommonName: c.issuerName.getField('CN')[0],
    notBefore: c.notBefore.getTime(),
    notAfter: c.notAfter.getTime(),
    oids: c.extensions.map((e) => `${e.type}/${e.critical}`),
    ca: bc?.ca === true,
    keyUsage: ku?.usages,
    eku: eku?.usages.map(String),
    dns: san?.names.items.filter((n) => n.type === 'dns').map((n) => n.value) ?? [],
  };
}

function ours(der: Uint8Array) {
  const f = readCertificateFields(der);
  const ext = (oid: string) => f.extensions.find((e) => e.oid === oid)?.value;
  const ku = ext('2.5.29.15');
  const eku = ext('2.5.29.37');
  const bc = ext('2.5.29.19');
  const san = ext('2.5.29.17');
  return {
    serialHex: f.serialHex,
    subjectCommonName: f.subjectCommonName,
    issuerCommonName: f.issuerCommonName,
    notBefore: f.notBefore.getTime(),
    notAfter: f.notAfter.getTime(),
    oids: f.extensions.map((e) => `${e.oid}/${e.critical}`),
    ca: bc === undefined ? false : decodeBasicConstraintsCa(bc),
    keyUsage: ku === undefined ? undefined : decodeKeyUsage(ku),
    eku: eku === undefined ? undefined : decodeExtKeyUsage(eku),
    dns: san === undefined ? [] : decodeSubjectAltNames(san).dns,
  };
}

const cnEncodings = ['utf8String', 'printableString', 'bmpString', 'ia5String'] as const;
const printable = fc.stringMatching(/^[A-Za-z0-9 '()+,./:=?-]{1,40}$/);

describe('DER walker agrees with @peculiar/x509', () => {
  it('on random names, encodings, dates (UTCTime and GeneralizedTime), serials and extensions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          cn: fc.oneof(printable, fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' })),
          encoding: fc.constantFrom(...cnEncodings),
          // 1950..2100 covers both time encodings (GeneralizedTime from 2050, RFC 5280 §4.1.2.5)
          nb: fc.integer({ min: Date.UTC(1950, 0, 1) / 1000, max: Date.UTC(2100, 0, 1) / 1000 }),
          span: fc.integer({ min: 1, max: 100 * 365 * 86_400 }),
          serial: fc.uint8Array({ minLength: 1, maxLength: 20 }),
          ku: fc.integer({ min: 1, max: 511 }),
          kuCritical: fc.boolean(),
          ca: fc.boolean(),
          eku: fc.subarray(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.3', '2.999.1234567', '1.2.840.113549.1.1.1']),
          dns: fc.array(fc.domain(), { maxLength: 3 }),
          withSan: fc.boolean(),
        }),
        async (r) => {
          const encoding = r.encoding === 'printableString' || r.encoding === 'ia5String' ? (/^[\x20-\x7e]+$/.test(r.cn) ? r.encoding : 'utf8String') : r.encoding;
          const cn = r.encoding === 'bmpString' ? Array.from(r.cn, (ch) => ((ch.codePointAt(0) ?? 0) > 0xffff ? 'x' : ch)).join('') : r.cn;
          const serial = Uint8Array.from(r.serial);
          serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive, minimal
          const extensions: x509.Extension[] = [
            new x509.BasicConstraintsExtension(r.ca, undefined, true),
            new x509.KeyUsagesExtension(r.ku, r.kuCritical),
          ];
          if (r.eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(r.eku));
          if (r.withSan && r.dns.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(r.dns.map((value) => ({ type: 'dns' as const, value }))));
          const der = await build({
            subject: new x509.Name([{ CN: [{ [encoding]: cn }] }, { O: ['edgebox'] }]),
            notBefore: new Date(r.nb * 1000),
            notAfter: new Date((r.nb + r.span) * 1000),
            serialNumber: Buffer.from(serial).toString('hex'),
            extensions,
          });
          expect(ours(der)).toEqual(reference(der));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('decodes OIDs with multi-byte and joint-iso arcs', () => {
    const oid = (hex: string) => {
      const b = Buffer.from(hex, 'hex');
      return decodeOid(b, { tag: b[0] as number, start: 2, end: b.length });
    };
    expect(oid('0603550403')).toBe('2.5.4.3');
    expect(oid('06092a864886f70d010101')).toBe('1.2.840.113549.1.1.1');
    expect(oid('0603883703')).toBe('2.999.3');
    expect(oid('0601 00'.replace(' ', ''))).toBe('0.0');
    expect(() => oid('0602 2a86'.replace(' ', ''))).toThrow('truncated OID');
    expect(() => oid('0600')).toThrow('empty OID');
  });

  it('formats IPv4 and IPv6 subject alt names (RFC 5952 compression)', () => {
    const san = (...ips: number[][]) => {
      const items = ips.map((b) => Buffer.from([0x87, b.length, ...b]));
      const body = Buffer.concat(items);
      return decodeSubjectAltNames(Uint8Array.from([0x30, body.length, ...body])).ip;
    };
    const v6 = (...groups: number[]) => groups.flatMap((g) => [g >> 8, g & 0xff]);
    expect(san([10, 0, 0, 1])).toEqual(['10.0.0.1']);
    expect(san(v6(0, 0, 0, 0, 0, 0, 0, 0))).toEqual(['::']);
    expect(san(v6(0, 0, 0, 0, 0, 0, 0, 1))).toEqual(['::1']);
    expect(san(v6(0xfd00, 0, 0, 0, 0, 0, 0, 1))).toEqual(['fd00::1']);
    expect(san(v6(1, 0, 0, 2, 0, 0, 0, 3))).toEqual(['1:0:0:2::3']);
    expect(san(v6(1, 0, 2, 3, 4, 5, 6, 7))).toEqual(['1:0:2:3:4:5:6:7']);
    expect(san(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0))).toEqual(['2001:db8::']);
    expect(() => san([1, 2, 3])).toThrow('iPAddress of 3 bytes');
  });

  it('reads a certificate with GeneralizedTime validity through the public API', async () => {
    const der = await build({
      subject: new x509.Name([{ CN: [{ utf8String: 'far future' }] }]),
      notBefore: new Date('2049-12-31T23:59:59Z'),
      notAfter: new Date('2060-01-01T00:00:00Z'),
      serialNumber: '7f',
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.2'])],
    });
    const info = inspectCertificate(der);
    expect(info).toMatchObject({ commonName: 'far future', serialHex: '7f', usage: 'client', isCa: false });
    expect(info.notBefore.toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(info.notAfter.toISOString()).toBe('2060-01-01T00:00:00.000Z');
    const store = await createTrustStore({ authorities: [ca.certificatePem] });
    // the CA ends well before 2060: the leaf is outside the CA's validity by then
    expect(() => store.verify(der, { now: new Date('2055-01-01T00:00:00Z') })).toThrow(/issuing CA "der CA" is outside its validity/);
  });

  it('refuses a certificate listing one extension twice', async () => {
    const der = await build({
      subject: new x509.Name([{ CN: [{ utf8String: 'dup' }] }]),
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      serialNumber: '01',
      extensions: [new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.2']), new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1'])],
    });
    expect(() => readCertificateFields(der)).toThrow('extension 2.5.29.37 twice');
    expect(() => inspectCertificate(der)).toThrow(expect.objectContaining({ code: 'CRYPTO_CERT_INVALID' }));
  });
});
