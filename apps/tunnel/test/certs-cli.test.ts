// `certs ca|issue|show|verify|revoke` run in-process with captured streams against files in a
// temp dir; the system OpenSSL CLI (a CI package, .ci/run) checks what we wrote independently:
// the chain verifies, usages are what --role asked for, and a revoked leaf fails -crl_check.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandshakeInitiator, createHandshakeResponder, createTrustStore, importIdentityPem, inspectCertificate, pemToDer } from '@edgebox/crypto';
import { runCertsCommand } from '../src/certs-cli.js';
import { acceptStreamHandshake, initiateStreamHandshake } from '../src/handshake.js';
import { streamPair } from '../src/stream-pair.js';

const execFileP = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function certs(...args: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCertsCommand(args, { stdout, stderr });
  stdout.end();
  stderr.end();
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}

async function openssl(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileP(OPENSSL, args, { timeout: 10_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

let dir: string;
const p = (...parts: string[]): string => join(dir, ...parts);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgebox-certs-cli-'));
  expect((await certs('ca', '--out', p('ca'), '--name', 'lab CA', '--days', '30')).code).toBe(0);
  expect((await certs('issue', '--ca', p('ca'), '--name', 'box-source', '--out', p('source'), '--role', 'source')).code).toBe(0);
  expect((await certs('issue', '--ca', p('ca'), '--name', 'box-dest', '--out', p('dest'), '--role', 'dest', '--dns', 'dest.lab', '--ip', '10.0.0.2')).code).toBe(0);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('certs ca', () => {
  it('writes the CA certificate, a 0600 key, an empty CRL and a ledger that OpenSSL reads', async () => {
    expect(await mode(p('ca', 'ca.key'))).toBe(0o600);
    expect(await mode(p('ca', 'ca.pem'))).toBe(0o644);
    expect(JSON.parse(await readFile(p('ca', 'revoked.json'), 'utf8'))).toEqual([]);
    const issued = JSON.parse(await readFile(p('ca', 'issued.json'), 'utf8')) as { commonName: string; usage: string }[];
    expect(issued.map((e) => [e.commonName, e.usage])).toEqual([
      ['box-source', 'client'],
      ['box-dest', 'server'],
    ]);
    const text = await openssl('x509', '-in', p('ca', 'ca.pem'), '-noout', '-text');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Subject: CN ?= ?lab CA/);
    expect(text.stdout).toMatch(/CA:TRUE/);
    expect(text.stdout).toMatch(/ED25519/);
    const crl = await openssl('crl', '-in', p('ca', 'crl.pem'), '-noout', '-text', '-CAfile', p('ca', 'ca.pem'));
    expect(crl.stdout).toMatch(/No Revoked Certificates/);
  });

  it('refuses to overwrite an existing CA without --force, naming the files, and leaves it unchanged', async () => {
    const before = await readFile(p('ca', 'ca.key'), 'utf8');
    const r = await certs('ca', '--out', p('ca'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(p('ca', 'ca.key'));
    expect(r.stderr).toContain('--force');
    expect(await readFile(p('ca', 'ca.key'), 'utf8')).toBe(before);
  });

  it('overwrites with --force (a fresh key) and keeps the key private', async () => {
    expect((await certs('ca', '--out', p('ca2'), '--name', 'second CA')).code).toBe(0);
    const before = await readFile(p('ca2', 'ca.key'), 'utf8');
    const r = await certs('ca', '--out', p('ca2'), '--name', 'second CA', '--force');
    expect(r.code).toBe(0);
    expect(await readFile(p('ca2', 'ca.key'), 'utf8')).not.toBe(before);
    expect(await mode(p('ca2', 'ca.key'))).toBe(0o600);
  });

  it('rejects bad --days with the value and the range', async () => {
    const r = await certs('ca', '--out', p('bad'), '--days', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--days "0"');
    expect(r.stderr).toContain('1..36500');
  });
});

describe('certs issue', () => {
  it('writes cert.pem, a 0600 key.pem that belongs to it, and the CA copy; OpenSSL verifies the chain', async () => {
    expect(await mode(p('source', 'key.pem'))).toBe(0o600);
    expect(await readFile(p('source', 'ca.pem'), 'utf8')).toBe(await readFile(p('ca', 'ca.pem'), 'utf8'));
    const info = inspectCertificate(await readFile(p('source', 'cert.pem'), 'utf8'));
    const identity = importIdentityPem(await readFile(p('source', 'key.pem'), 'utf8'));
    expect(Buffer.from(identity.publicKey)).toEqual(Buffer.from(info.publicKey));
    const v = await openssl('verify', '-CAfile', p('ca', 'ca.pem'), p('source', 'cert.pem'));
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/: OK/);
  });

  it('--role source grants clientAuth only, --role dest serverAuth only (with SANs)', async () => {
    const src = await openssl('x509', '-in', p('source', 'cert.pem'), '-noout', '-ext', 'extendedKeyUsage');
    expect(src.stdout).toContain('TLS Web Client Authentication');
    expect(src.stdout).not.toContain('TLS Web Server Authentication');
    const dst = await openssl('x509', '-in', p('dest', 'cert.pem'), '-noout', '-ext', 'extendedKeyUsage,subjectAltName');
    expect(dst.stdout).toContain('TLS Web Server Authentication');
    expect(dst.stdout).not.toContain('TLS Web Client Authentication');
    expect(dst.stdout).toContain('DNS:dest.lab');
    expect(dst.stdout).toContain('IP Address:10.0.0.2');
  });

  it('without --role issues a certificate usable on both sides', async () => {
    expect((await certs('issue', '--ca', p('ca'), '--name', 'both', '--out', p('both'))).code).toBe(0);
    expect(inspectCertificate(await readFile(p('both', 'cert.pem'), 'utf8')).usage).toBe('peer');
  });

  it('refuses to overwrite an issued key without --force', async () => {
    const before = await readFile(p('source', 'key.pem'), 'utf8');
    const r = await certs('issue', '--ca', p('ca'), '--name', 'box-source', '--out', p('source'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(p('source', 'key.pem'));
    expect(await readFile(p('source', 'key.pem'), 'utf8')).toBe(before);
  });

  it('warns when the CA key is readable by others, and still issues', async () => {
    await certs('ca', '--out', p('loose'), '--name', 'loose CA');
    await chmod(p('loose', 'ca.key'), 0o644);
    const r = await certs('issue', '--ca', p('loose'), '--name', 'x', '--out', p('loose-x'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: private key ${p('loose', 'ca.key')} has mode 0644, readable beyond its owner: chmod 600 ${p('loose', 'ca.key')}\n`);
    expect((await certs('issue', '--ca', p('ca2'), '--name', 'y', '--out', p('tight-y'))).stderr).toBe('');
  });

  it('names what is wrong: a missing CA directory, a lifetime beyond the CA, a bad role, a missing option', async () => {
    const noCa = await certs('issue', '--ca', p('nowhere'), '--name', 'x', '--out', p('x'));
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toContain(`${p('nowhere', 'ca.pem')} does not exist`);
    expect(noCa.stderr).toContain('certs ca --out');
    const long = await certs('issue', '--ca', p('ca'), '--name', 'x', '--out', p('x'), '--days', '365');
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/notAfter .* > CA notAfter/);
    const role = await certs('issue', '--ca', p('ca'), '--name', 'x', '--out', p('x'), '--role', 'middle');
    expect(role.stderr).toContain('--role "middle" must be source or dest');
    const name = await certs('issue', '--ca', p('ca'), '--out', p('x'));
    expect(name.stderr).toContain('needs --name');
  });
});

/** The tunnel handshake between a source and a dest holding these CLI-made files (CA dir's CRL at the dest). */
async function handshake(sourceDir: string, destDir: string): Promise<{ source: unknown; dest: unknown }> {
  const load = async (d: string) => ({
    certificate: pemToDer(await readFile(join(d, 'cert.pem'), 'utf8')),
    privateKey: importIdentityPem(await readFile(join(d, 'key.pem'), 'utf8')).privateKey,
  });
  const ca = await readFile(join(sourceDir, 'ca.pem'), 'utf8');
  const crl = await readFile(p('ca', 'crl.pem'), 'utf8');
  const src = await load(sourceDir);
  const dst = await load(destDir);
  const initiator = createHandshakeInitiator({ credentials: { kind: 'certificate', ...src, trustStore: await createTrustStore({ authorities: [ca] }) } });
  const responder = createHandshakeResponder({ certificate: { kind: 'certificate', ...dst, trustStore: await createTrustStore({ authorities: [ca], revocationLists: [crl] }) } });
  const [a, b] = streamPair();
  const [source, dest] = await Promise.all([
    initiateStreamHandshake(a, initiator, { timeoutMs: 5_000 }).then((r) => r.result.peer, (e: unknown) => e),
    acceptStreamHandshake(b, responder, { timeoutMs: 5_000 }).then((r) => r.result.peer, (e: unknown) => e),
  ]);
  a.destroy();
  b.destroy();
  return { source, dest };
}

describe('certs drive the tunnel handshake', () => {
  it('a source (clientAuth) and a dest (serverAuth) issued here authenticate each other', async () => {
    const { source, dest } = await handshake(p('source'), p('dest'));
    expect(source).toMatchObject({ kind: 'certificate', commonName: 'box-dest' });
    expect(dest).toMatchObject({ kind: 'certificate', commonName: 'box-source' });
  });

  it('a dest certificate on the source side is refused (roles are not interchangeable)', async () => {
    const { source, dest } = await handshake(p('dest'), p('source'));
    expect([source, dest].some((r) => (r as { code?: string }).code === 'TUNNEL_HANDSHAKE')).toBe(true);
  });
});

describe('certs show', () => {
  it('prints subject, issuer, serial, usage and fingerprint; --json is machine-readable', async () => {
    const text = await certs('show', p('dest', 'cert.pem'));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/subject: +box-dest/);
    expect(text.stdout).toMatch(/issuer: +lab CA/);
    expect(text.stdout).toMatch(/usage: +server \(role dest\)/);
    const json = await certs('show', p('dest', 'cert.pem'), '--json');
    const info = JSON.parse(json.stdout) as Record<string, unknown>;
    const fp = (await openssl('x509', '-in', p('dest', 'cert.pem'), '-noout', '-fingerprint', '-sha256')).stdout;
    expect(info).toMatchObject({ commonName: 'box-dest', issuerCommonName: 'lab CA', usage: 'server', isCa: false });
    expect(fp.split('=')[1]!.trim().replaceAll(':', '').toLowerCase()).toBe(info.fingerprintSha256);
    const serial = (await openssl('x509', '-in', p('dest', 'cert.pem'), '-noout', '-serial')).stdout;
    expect(serial.split('=')[1]!.trim().toLowerCase()).toBe(info.serialHex);
  });

  it('refuses a file that is not a certificate, naming it', async () => {
    const r = await certs('show', p('source', 'key.pem'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${p('source', 'key.pem')} is not an edgebox certificate`);
  });
});

describe('certs verify', () => {
  it('accepts a valid certificate with its own key, and reports as JSON', async () => {
    const r = await certs('verify', '--ca', p('ca'), p('source', 'cert.pem'), '--key', p('source', 'key.pem'), '--role', 'source');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK "box-source"');
    expect(r.stdout).toContain('private key matches');
    const j = await certs('verify', '--ca', p('ca', 'ca.pem'), p('dest', 'cert.pem'), '--json');
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: true, commonName: 'box-dest', usage: 'server', crl: null });
  });

  it('refuses a certificate from another CA: wrong CA', async () => {
    const r = await certs('verify', '--ca', p('ca2'), p('source', 'cert.pem'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('REFUSED (wrong CA)');
  });

  it('refuses an expired certificate (checked --at a later time): expired', async () => {
    const r = await certs('verify', '--ca', p('ca'), p('source', 'cert.pem'), '--at', new Date(Date.now() + 40 * 86_400_000).toISOString(), '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('REFUSED (expired)');
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, reason: 'expired', code: 'CRYPTO_CERT_EXPIRED' });
  });

  it('refuses a key that is not the certificate\'s, and a certificate used in the wrong role', async () => {
    const key = await certs('verify', '--ca', p('ca'), p('source', 'cert.pem'), '--key', p('dest', 'key.pem'));
    expect(key.code).toBe(1);
    expect(key.stderr).toContain('REFUSED (wrong key)');
    const role = await certs('verify', '--ca', p('ca'), p('source', 'cert.pem'), '--role', 'dest');
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('REFUSED (invalid)');
    expect(role.stderr).toContain('does not allow server');
  });

  it('refuses a CRL signed by another CA instead of ignoring it', async () => {
    const r = await certs('verify', '--ca', p('ca'), p('source', 'cert.pem'), '--crl', p('ca2', 'crl.pem'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`CRL ${p('ca2', 'crl.pem')} refused`);
  });
});

describe('certs revoke', () => {
  it('puts the serial on a re-signed CRL that verify, the trust store and OpenSSL all honour', async () => {
    expect((await certs('issue', '--ca', p('ca'), '--name', 'box-lost', '--out', p('lost'), '--role', 'source')).code).toBe(0);
    expect((await certs('verify', '--ca', p('ca'), p('lost', 'cert.pem'))).code).toBe(0);
    const r = await certs('revoke', '--ca', p('ca'), p('lost', 'cert.pem'), '--reason', 'keyCompromise');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('now lists 1 certificate');

    const v = await certs('verify', '--ca', p('ca'), p('lost', 'cert.pem'));
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('REFUSED (revoked)');
    expect((await certs('verify', '--ca', p('ca'), p('source', 'cert.pem'))).code).toBe(0);

    const crlPem = await readFile(p('ca', 'crl.pem'), 'utf8');
    const lostPem = await readFile(p('lost', 'cert.pem'), 'utf8');
    const store = await createTrustStore({ authorities: [await readFile(p('ca', 'ca.pem'), 'utf8')], revocationLists: [crlPem] });
    expect(() => store.verify(lostPem)).toThrow(/is revoked/);

    const ossl = await openssl('verify', '-crl_check', '-CRLfile', p('ca', 'crl.pem'), '-CAfile', p('ca', 'ca.pem'), p('lost', 'cert.pem'));
    expect(ossl.code).not.toBe(0);
    expect(ossl.stdout + ossl.stderr).toMatch(/certificate revoked/);
    const text = await openssl('crl', '-in', p('ca', 'crl.pem'), '-noout', '-text');
    expect(text.stdout).toContain('Key Compromise');

    // and a dest loading the new CRL refuses the revoked source in the handshake
    const { dest } = await handshake(p('lost'), p('dest'));
    expect(dest).toMatchObject({ code: 'TUNNEL_HANDSHAKE', details: { cause: 'CRYPTO_CERT_REVOKED' } });
  });

  it('is idempotent and keeps earlier entries when revoking the next one', async () => {
    const again = await certs('revoke', '--ca', p('ca'), p('lost', 'cert.pem'));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already revoked');
    expect((await certs('revoke', '--ca', p('ca'), p('both', 'cert.pem'))).code).toBe(0);
    const ledger = JSON.parse(await readFile(p('ca', 'revoked.json'), 'utf8')) as { commonName: string }[];
    expect(ledger.map((e) => e.commonName)).toEqual(['box-lost', 'both']);
    expect((await certs('verify', '--ca', p('ca'), p('lost', 'cert.pem'))).stderr).toContain('REFUSED (revoked)');
    expect((await certs('verify', '--ca', p('ca'), p('both', 'cert.pem'))).stderr).toContain('REFUSED (revoked)');
  });

  it('revokes by --serial a certificate whose file is gone with its device, found in issued.json', async () => {
    expect((await certs('issue', '--ca', p('ca'), '--name', 'box-stolen', '--out', p('stolen'), '--role', 'source')).code).toBe(0);
    const serial = (JSON.parse((await certs('show', p('stolen', 'cert.pem'), '--json')).stdout) as { serialHex: string }).serialHex;
    const colons = serial.toUpperCase().replace(/(..)(?=.)/g, '$1:'); // as other tools print it
    const r = await certs('revoke', '--ca', p('ca'), '--serial', colons, '--reason', 'keyCompromise');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`revoked "box-stolen" serial ${serial}`);
    expect((await certs('verify', '--ca', p('ca'), p('stolen', 'cert.pem'))).stderr).toContain('REFUSED (revoked)');
    const unknown = await certs('revoke', '--ca', p('ca'), '--serial', '0badc0de');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`serial 0badc0de is not in ${p('ca', 'issued.json')}`);
    expect((await certs('revoke', '--ca', p('ca'), '--serial', serial, p('stolen', 'cert.pem'))).stderr).toContain('not both');
    expect((await certs('revoke', '--ca', p('ca'), '--serial', 'xyz')).stderr).toContain('--serial "xyz" is not a hex serial');
  });

  it('show DIR lists what the CA issued with each state; --json too', async () => {
    const text = await certs('show', p('ca'));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/subject: +lab CA/);
    expect(text.stdout).toMatch(/issued: 5 \(2 valid, 3 revoked\)/);
    expect(text.stdout).toMatch(/revoked +client +until \S+ +box-lost/);
    expect(text.stdout).toMatch(/valid +server +until \S+ +box-dest/);
    const json = JSON.parse((await certs('show', p('ca'), '--json')).stdout) as { ca: { isCa: boolean }; issued: { commonName: string; state: string; reason?: string }[] };
    expect(json.ca.isCa).toBe(true);
    expect(json.issued.map((e) => [e.commonName, e.state])).toEqual([
      ['box-source', 'valid'],
      ['box-dest', 'valid'],
      ['both', 'revoked'],
      ['box-lost', 'revoked'],
      ['box-stolen', 'revoked'],
    ]);
    expect(json.issued.find((e) => e.commonName === 'box-stolen')?.reason).toBe('keyCompromise');
    expect((await certs('show', dir)).stderr).toContain(`${dir} is not a CA directory`);
  });

  it('refuses a certificate another CA issued, and a ledger that disagrees with the CRL', async () => {
    const foreign = await certs('revoke', '--ca', p('ca2'), p('source', 'cert.pem'));
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('was not issued by the CA');
    await writeFile(p('ca', 'revoked.json'), '[]\n');
    const mismatch = await certs('revoke', '--ca', p('ca'), p('dest', 'cert.pem'));
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/lists 3 revoked certificates but .* lists 0/);
  });
});

describe('usage errors', () => {
  it('exit 2 naming the unknown command, the option that does not belong, the missing file', async () => {
    expect((await certs()).code).toBe(2);
    expect((await certs('--help')).stdout).toContain('certs <command>');
    expect((await certs('mint')).stderr).toContain('unknown certs command "mint"');
    expect((await certs('show', p('dest', 'cert.pem'), '--force')).stderr).toContain('certs show does not take --force');
    expect((await certs('show', p('nothing.pem'))).stderr).toContain(`certificate ${p('nothing.pem')} does not exist`);
    expect((await certs('show')).stderr).toContain('takes exactly one certificate FILE, got 0');
    expect((await certs('verify', '--ca', p('ca'), p('dest', 'cert.pem'), '--at', 'soon')).stderr).toContain('--at "soon" is not a date');
  });
});

