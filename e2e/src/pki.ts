/**
 * Test PKI for the e2e scenarios, on @edgebox/crypto's real appliance PKI: an appliance CA
 * issues a server and a client certificate; a second, rogue CA issues a client certificate
 * the real CA never signed. Everything is written as PEM files to a directory (keys 0600),
 * and loaded back as handshake credentials by the peer processes (certificate DER, Ed25519
 * private KeyObject, trust store of the CA and its optional CRL).
 *
 *   <dir>/ca.pem                 the appliance CA certificate (what every peer trusts)
 *   <dir>/ca.key                 its private key (PKCS#8)
 *   <dir>/server.pem|.key        usage server, CN server.e2e.edgebox
 *   <dir>/client.pem|.key        usage client, CN client.e2e.edgebox
 *   <dir>/rogue-ca.pem|.key      a different CA
 *   <dir>/rogue-client.pem|.key  usage client, CN rogue.e2e.edgebox, issued by the rogue CA
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createTrustStore,
  exportIdentityPem,
  generateIdentity,
  importIdentityPem,
  issueCertificate,
  pemToDer,
} from '@edgebox/crypto';
import type { CertificateAuthority, CertificateUsage, HandshakeCertificateCredentials } from '@edgebox/crypto';

/** Files of one peer's credentials. */
export interface CredentialFiles {
  /** The CA certificate(s) to trust, PEM (one or more blocks). */
  caFile: string;
  /** Our certificate, PEM. */
  certFile: string;
  /** Our Ed25519 private key, PKCS#8 PEM. */
  keyFile: string;
  /** Optional revocation list of the CA, PEM. */
  crlFile?: string;
}

/** What createTestPki wrote. */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  /** The server, trusting the appliance CA. */
  readonly server: CredentialFiles;
  /** The client, trusting the appliance CA. */
  readonly client: CredentialFiles;
  /** A client whose certificate the rogue CA issued, though it trusts the appliance CA. */
  readonly rogueClient: CredentialFiles;
  readonly commonNames: { readonly server: string; readonly client: string; readonly rogueClient: string };
}

/** A PEM file that cannot be used (unreadable, or not the expected content). */
export class PkiFileError extends Error {
  readonly code = 'E2E_PKI_FILE';
}

const COMMON_NAMES = { server: 'server.e2e.edgebox', client: 'client.e2e.edgebox', rogueClient: 'rogue.e2e.edgebox' } as const;

async function writeKey(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o600 });
  await chmod(path, 0o600); // writeFile keeps the mode of an existing file
}

async function writeLeaf(dir: string, name: string, ca: CertificateAuthority, commonName: string, usage: CertificateUsage): Promise<{ certFile: string; keyFile: string }> {
  const id = generateIdentity();
  const issued = await issueCertificate(ca, { commonName, publicKey: id.publicKey, usage, validityDays: 30 });
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(certFile, issued.pem);
  await writeKey(keyFile, exportIdentityPem(id).privateKeyPem);
  return { certFile, keyFile };
}

/**
 * Creates the appliance CA, a rogue CA and their certificates in `dir` (created if missing).
 *
 * @example
 * const pki = await createTestPki(await mkdtemp(join(tmpdir(), 'e2e-pki-')));
 * peer('server', ['server', '--ca', pki.server.caFile, '--cert', pki.server.certFile, '--key', pki.server.keyFile]);
 */
export async function createTestPki(dir: string): Promise<TestPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority({ commonName: 'edgebox e2e CA' });
  const rogue = await createCertificateAuthority({ commonName: 'rogue e2e CA' });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.certificatePem);
  await writeKey(join(dir, 'ca.key'), ca.privateKeyPem);
  await writeFile(join(dir, 'rogue-ca.pem'), rogue.certificatePem);
  await writeKey(join(dir, 'rogue-ca.key'), rogue.privateKeyPem);
  const server = await writeLeaf(dir, 'server', ca, COMMON_NAMES.server, 'server');
  const client = await writeLeaf(dir, 'client', ca, COMMON_NAMES.client, 'client');
  const rogueClient = await writeLeaf(dir, 'rogue-client', rogue, COMMON_NAMES.rogueClient, 'client');
  return {
    dir,
    caFile,
    server: { caFile, ...server },
    client: { caFile, ...client },
    rogueClient: { caFile, ...rogueClient },
    commonNames: COMMON_NAMES,
  };
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new PkiFileError(`${what} ${path} cannot be read: ${(cause as Error).message}`, { cause });
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Loads certificate-mode handshake credentials from files: our certificate as DER, our
 * Ed25519 key as a KeyObject, and a trust store of the CA file's certificates (+ CRL).
 * Bad content raises @edgebox/crypto's CryptoError (CRYPTO_CERT_INVALID,
 * CRYPTO_INVALID_ARGUMENT); an unreadable file raises PkiFileError (E2E_PKI_FILE).
 *
 * @example
 * const creds = await loadCertificateCredentials({ caFile, certFile, keyFile });
 * const responder = createHandshakeResponder({ certificate: creds });
 */
export async function loadCertificateCredentials(files: CredentialFiles): Promise<HandshakeCertificateCredentials> {
  const caPem = await readPem(files.caFile, 'CA file');
  const authorities = caPem.match(CERT_BLOCK) ?? [];
  if (authorities.length === 0) throw new PkiFileError(`CA file ${files.caFile} holds no CERTIFICATE block`);
  const revocationLists = files.crlFile === undefined ? [] : [await readPem(files.crlFile, 'CRL file')];
  const certificate = pemToDer(await readPem(files.certFile, 'certificate file'));
  const { privateKey } = importIdentityPem(await readPem(files.keyFile, 'key file'));
  const trustStore = await createTrustStore({ authorities, revocationLists });
  return { kind: 'certificate', certificate, privateKey, trustStore };
}
