// Certificates that are correctly signed by a trusted CA but break the profile a leaf must
// follow (RFC 5280 §4.2): the trust store refuses them as CRYPTO_CERT_INVALID. Built with
// @peculiar/x509 directly so every field can be wrong on purpose.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, createTrustStore, isCryptoError, pemToDer, type CertificateAuthority, type TrustStore } from '../src/index.js';

const alg = { name: 'Ed25519' };
let ca: CertificateAuthority;
let store: TrustStore;
let caKey: webcrypto.CryptoKey;
let subjectKey: webcrypto.CryptoKey;

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'profile CA' });
  store = await createTrustStore({ authorities: [ca.certificatePem] });
  caKey = await webcrypto.subtle.importKey('pkcs8', pemToDer(ca.privateKeyPem, 'PRIVATE KEY'), alg, false, ['sign']);
  subjectKey = ((await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair).publicKey;
});

async function sign(subject: x509.JsonName, extensions: x509.Extension[]): Promise<Uint8Array> {
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '0102',
      subject,
      issuer: new x509.X509Certificate(ca.certificateDer).subjectName,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      publicKey: subjectKey,
      signingKey: caKey,
      signingAlgorithm: alg,
      extensions,
    },
    webcrypto,
  );
  return new Uint8Array(cert.rawData);
}

const leafBasics = (): x509.Extension[] => [
  new x509.BasicConstraintsExtension(false, undefined, true),
  new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
];
const eku = (...oids: string[]): x509.Extension => new x509.ExtendedKeyUsageExtension(oids);

function refusal(der: Uint8Array, usage?: 'client' | 'server'): string {
  try {
    store.verify(der, usage === undefined ? {} : { usage });
    return 'accepted';
  } catch (err) {
    return isCryptoError(err) ? `${err.code}: ${err.message}` : `other error: ${String(err)}`;
  }
}

describe('leaf profile', () => {
  it('accepts a well-formed hand-built leaf (control)', async () => {
    const der = await sign([{ CN: ['ok'] }], [...leafBasics(), eku(x509.ExtendedKeyUsage.clientAuth)]);
    expect(refusal(der, 'client')).toBe('accepted');
  });

  it('refuses an unknown critical extension', async () => {
    const der = await sign([{ CN: ['crit'] }], [...leafBasics(), eku(x509.ExtendedKeyUsage.clientAuth), new x509.Extension('1.2.3.4.5', true, new Uint8Array([5, 0]))]);
    expect(refusal(der)).toMatch(/^CRYPTO_CERT_INVALID: .*unsupported critical extension 1\.2\.3\.4\.5/);
  });

  it('ignores an unknown non-critical extension', async () => {
    const der = await sign([{ CN: ['noncrit'] }], [...leafBasics(), eku(x509.ExtendedKeyUsage.serverAuth), new x509.Extension('1.2.3.4.5', false, new Uint8Array([5, 0]))]);
    expect(refusal(der, 'server')).toBe('accepted');
  });

  it('refuses a subject without a common name', async () => {
    const der = await sign([{ O: ['no cn'] }], [...leafBasics(), eku(x509.ExtendedKeyUsage.clientAuth)]);
    expect(refusal(der)).toMatch(/^CRYPTO_CERT_INVALID: .*no common name/);
  });

  it('refuses keyUsage without digitalSignature, or with keyCertSign', async () => {
    const a = await sign([{ CN: ['ku1'] }], [new x509.BasicConstraintsExtension(false), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true), eku(x509.ExtendedKeyUsage.clientAuth)]);
    expect(refusal(a)).toMatch(/^CRYPTO_CERT_INVALID: .*keyUsage/);
    const b = await sign([{ CN: ['ku2'] }], [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true), eku(x509.ExtendedKeyUsage.clientAuth)]);
    expect(refusal(b)).toMatch(/^CRYPTO_CERT_INVALID: .*keyUsage/);
  });

  it('refuses a leaf without client/server extKeyUsage', async () => {
    const none = await sign([{ CN: ['no-eku'] }], leafBasics());
    expect(refusal(none)).toMatch(/^CRYPTO_CERT_INVALID: .*usage none/);
    const other = await sign([{ CN: ['code'] }], [...leafBasics(), eku(x509.ExtendedKeyUsage.codeSigning)]);
    expect(refusal(other, 'client')).toMatch(/^CRYPTO_CERT_INVALID: .*usage none does not allow client/);
  });

  it('refuses a CA:true leaf even if signed by the trusted CA', async () => {
    const der = await sign([{ CN: ['sub-ca'] }], [new x509.BasicConstraintsExtension(true, 0, true), eku(x509.ExtendedKeyUsage.clientAuth)]);
    expect(refusal(der)).toMatch(/^CRYPTO_CERT_INVALID: .*is a CA certificate/);
  });
});
