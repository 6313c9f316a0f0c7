/**
 * First-start PKI for a tunnel section whose certificate files live in the data dir and do not
 * exist yet (the default config): a CA and one certificate for this end, both valid for
 * loopback use. Nothing is generated when any of the files exists (an operator's PKI is never
 * overwritten) or when they lie outside the data dir.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { createCertificateAuthority, exportIdentityPem, generateIdentity, issueCertificate } from '@edgebox/crypto';

/**
 * Generates the tunnel PKI files when all are missing and inside `dataDir`; true when it did.
 *
 * @example await ensureTunnelPki({ ca: '/d/tunnel/ca.pem', cert: '/d/tunnel/cert.pem', key: '/d/tunnel/key.pem' }, 'dest', '/d');
 */
export async function ensureTunnelPki(pki: { ca: string; cert: string; key: string }, role: 'source' | 'dest', dataDir: string): Promise<boolean> {
  const files = [pki.ca, pki.cert, pki.key].map((f) => resolve(f));
  const root = resolve(dataDir) + sep;
  if (!files.every((f) => f.startsWith(root))) return false;
  const exists = await Promise.all(files.map((f) => access(f).then(() => true, () => false)));
  if (exists.some((e) => e)) return false;
  const ca = await createCertificateAuthority({ commonName: 'edgebox appliance CA' });
  const identity = generateIdentity();
  const cert = await issueCertificate(ca, {
    commonName: `edgebox-${role}`,
    publicKey: identity.publicKey,
    usage: role === 'dest' ? 'server' : 'client',
    subjectAltNames: { dns: ['localhost'], ip: ['127.0.0.1', '::1'] },
  });
  for (const f of files) await mkdir(dirname(f), { recursive: true, mode: 0o700 });
  // The CA key stays beside the CA so `edgebox-tunnel certs issue --ca <dir>` can issue a peer's certificate.
  await writeFile(resolve(dirname(files[0]!), 'ca.key'), ca.privateKeyPem, { mode: 0o600 });
  await writeFile(files[2]!, exportIdentityPem(identity).privateKeyPem, { mode: 0o600 });
  await writeFile(files[1]!, cert.pem, { mode: 0o644 });
  await writeFile(files[0]!, ca.certificatePem, { mode: 0o644 });
  return true;
}
