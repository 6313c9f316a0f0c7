// Interop: the system OpenSSL CLI must read our CA, leaves and CRLs, see the Ed25519 keys and
// extensions, and verify the chain (and refuse a revoked leaf when given the CRL). Our trust
// store must in turn accept a leaf OpenSSL itself issued from our CA key.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  createRevocationList,
  createTrustStore,
  generateIdentity,
  issueCertificate,
  isCryptoError,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../src/index.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

async function openssl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(OPENSSL, args, { timeout: 10_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
  }
}

let dir: string;
let ca: CertificateAuthority;
let leaf: IssuedCertificate;
let revoked: IssuedCertificate;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgebox-certs-'));
  ca = await createCertificateAuthority({ commonName: 'edgebox OpenSSL CA' });
  leaf = await issueCertificate(ca, {
    commonName: 'box-7',
    publicKey: generateIdentity().publicKey,
    usage: 'peer',
    subjectAltNames: { dns: ['box-7.lan'], ip: ['192.0.2.7'] },
  });
  revoked = await issueCertificate(ca, { commonName: 'box-lost', publicKey: generateIdentity().publicKey, usage: 'client' });
  await writeFile(file('ca.pem'), ca.certificatePem);
  await writeFile(file('ca.key'), ca.privateKeyPem, { mode: 0o600 });
  await writeFile(file('leaf.pem'), leaf.pem);
  await writeFile(file('revoked.pem'), revoked.pem);
  await writeFile(file('crl.pem'), await createRevocationList(ca, [{ serialHex: revoked.serialHex, reason: 'keyCompromise' }]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openssl reads what we write', () => {
  it('x509 -text shows the CA: Ed25519, CA:TRUE critical, keyCertSign + cRLSign, key id', async () => {
    const { stdout, code } = await openssl('x509', '-in', file('ca.pem'), '-noout', '-text');
    expect(code).toBe(0);
    expect(stdout).toContain('Signature Algorithm: ED25519');
    expect(stdout).toContain('Public Key Algorithm: ED25519');
    expect(stdout).toContain('Subject: CN = edgebox OpenSSL CA');
    expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(stdout).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(stdout).toContain('X509v3 Subject Key Identifier');
  });

  it('x509 -text shows the leaf: Ed25519, CA:FALSE, digitalSignature, both EKUs, SAN, AKI', async () => {
    const { stdout, code } = await openssl('x509', '-in', file('leaf.pem'), '-noout', '-text');
    expect(code).toBe(0);
    expect(stdout).toContain('Public Key Algorithm: ED25519');
    expect(stdout).toContain('Issuer: CN = edgebox OpenSSL CA');
    expect(stdout).toContain('Subject: CN = box-7');
    expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(stdout).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(stdout).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(stdout).toMatch(/X509v3 Subject Alternative Name:\s+DNS:box-7\.lan, IP Address:192\.0\.2\.7/);
    expect(stdout).toContain('X509v3 Authority Key Identifier');
    const serial = await openssl('x509', '-in', file('leaf.pem'), '-noout', '-serial');
    expect(serial.stdout.trim().toLowerCase()).toBe(`serial=${leaf.serialHex}`);
    const fp = await openssl('x509', '-in', file('leaf.pem'), '-noout', '-fingerprint', '-sha256');
    expect(fp.stdout.trim().split('=')[1]?.replace(/:/g, '').toLowerCase()).toBe(leaf.fingerprintSha256);
  });

  it('crl -text reads the CRL and lists the revoked serial', async () => {
    const { stdout, code } = await openssl('crl', '-in', file('crl.pem'), '-noout', '-text');
    expect(code).toBe(0);
    expect(stdout).toContain('Issuer: CN = edgebox OpenSSL CA');
    expect(stdout).toContain(`Serial Number: ${revoked.serialHex.toUpperCase()}`);
    expect(stdout).toContain('Key Compromise');
    expect(stdout).toContain('X509v3 CRL Number');
    const verify = await openssl('crl', '-in', file('crl.pem'), '-CAfile', file('ca.pem'), '-noout');
    expect(verify.code).toBe(0);
    expect(verify.stdout + verify.stderr).toContain('verify OK');
  });

  it('verify -CAfile says OK for the leaf, and refuses the revoked one with -crl_check', async () => {
    const ok = await openssl('verify', '-CAfile', file('ca.pem'), file('leaf.pem'));
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(`${file('leaf.pem')}: OK`);
    const purpose = await openssl('verify', '-CAfile', file('ca.pem'), '-purpose', 'sslserver', file('leaf.pem'));
    expect(purpose.stdout.trim()).toBe(`${file('leaf.pem')}: OK`);
    const withCrl = await openssl('verify', '-CAfile', file('ca.pem'), '-CRLfile', file('crl.pem'), '-crl_check', file('leaf.pem'));
    expect(withCrl.stdout.trim()).toBe(`${file('leaf.pem')}: OK`);
    const bad = await openssl('verify', '-CAfile', file('ca.pem'), '-CRLfile', file('crl.pem'), '-crl_check', file('revoked.pem'));
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('certificate revoked');
  });
});

describe('we read what openssl writes', () => {
  it('accepts a leaf OpenSSL issued from our CA key, refuses one it self-signed', async () => {
    await run(OPENSSL, ['genpkey', '-algorithm', 'ed25519', '-out', file('ossl.key')]);
    await writeFile(file('ext.cnf'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    await run(OPENSSL, ['req', '-new', '-key', file('ossl.key'), '-subj', '/CN=ossl-leaf', '-out', file('ossl.csr')]);
    await run(OPENSSL, [
      'x509', '-req', '-in', file('ossl.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
      '-days', '30', '-extfile', file('ext.cnf'), '-out', file('ossl.pem'),
    ]);
    const store = await createTrustStore({ authorities: [ca.certificatePem] });
    const v = store.verify(await readFile(file('ossl.pem'), 'utf8'), { usage: 'client' });
    expect(v.commonName).toBe('ossl-leaf');
    expect(v.usage).toBe('client');

    await run(OPENSSL, ['req', '-x509', '-new', '-key', file('ossl.key'), '-subj', '/CN=edgebox OpenSSL CA', '-days', '1', '-out', file('self.pem')]);
    let err: unknown;
    try {
      store.verify(await readFile(file('self.pem'), 'utf8'));
    } catch (e) {
      err = e;
    }
    expect(isCryptoError(err)).toBe(true);
  });

  it('refuses a non-Ed25519 certificate as INVALID', async () => {
    await run(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ec.key'), '-subj', '/CN=ec', '-days', '1', '-out', file('ec.pem')]);
    const store = await createTrustStore({ authorities: [ca.certificatePem] });
    let err: unknown;
    try {
      store.verify(await readFile(file('ec.pem'), 'utf8'));
    } catch (e) {
      err = e;
    }
    expect(isCryptoError(err, 'CRYPTO_CERT_INVALID')).toBe(true);
    expect((err as Error).message).toContain('key type ec is not ed25519');
  });
});
