/**
 * `edgebox-tunnel certs ca|issue|show|verify|revoke`: the tunnel's certificate tool, a thin
 * file layer over the @edgebox/crypto appliance PKI (certificate-authority.ts, revocation.ts,
 * trust-store.ts). Nothing cryptographic happens here: this file decides file names, modes,
 * refusals and messages.
 *
 * Files:
 *   CA dir     ca.pem (0644), ca.key (0600), crl.pem (0644), revoked.json (0644: the ledger
 *              the CRL is rebuilt from, because the package signs CRLs but does not list
 *              their entries back), issued.json (0644: what this CA issued, so a lost
 *              device's certificate can be revoked by serial and `show DIR` lists them)
 *   issue out  cert.pem (0644), key.pem (0600), ca.pem (0644, so a peer has its trust anchor)
 *
 * Exit codes: 0 done / valid, 1 verify refused the certificate (reason on stderr), 2 usage or
 * input error (a missing file, an existing file without --force, a bad option).
 * Cold path: runs once per command, allocates freely.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createCertificateAuthority,
  createRevocationList,
  createTrustStore,
  exportIdentityPem,
  generateIdentity,
  importCertificateAuthority,
  importIdentityPem,
  inspectCertificate,
  isCryptoError,
  issueCertificate,
  signMessage,
  verifySignature,
  type CertificateAuthority,
  type CertificateInfo,
  type CertificateUsage,
  type RevocationReason,
  type RevokedCertificateEntry,
} from '@edgebox/crypto';

/** The streams a certs command writes to. */
export interface CertsCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** File names inside a CA directory. */
export const CA_FILES = { certificate: 'ca.pem', privateKey: 'ca.key', crl: 'crl.pem', ledger: 'revoked.json', issued: 'issued.json' } as const;
/** File names inside an `issue --out` directory. */
export const ISSUED_FILES = { certificate: 'cert.pem', privateKey: 'key.pem', ca: 'ca.pem' } as const;

const EXIT_OK = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;
const PRIVATE_MODE = 0o600;
const PUBLIC_MODE = 0o644;
const DIR_MODE = 0o700;
const DEFAULT_CA_NAME = 'edgebox tunnel CA';
const DAY_MS = 86_400_000;
/** Default leaf lifetime (the package's CERT_DEFAULT_VALIDITY_DAYS, which it does not export). */
const LEAF_DEFAULT_DAYS = 365;
/** issueCertificate's notBefore backdate (CERT_BACKDATE_MS in the package). */
const LEAF_BACKDATE_MS = 5 * 60_000;

const USAGE = `usage: edgebox-tunnel certs <command> [options]

  ca --out DIR [--name N] [--days D] [--force]
      create a CA: DIR/ca.pem, DIR/ca.key (0600), an empty DIR/crl.pem, DIR/revoked.json,
      DIR/issued.json (the inventory issue appends to)
  issue --ca DIR --name N --out DIR [--days D] [--role source|dest] [--dns H]... [--ip A]... [--force]
      new key + certificate: OUT/cert.pem, OUT/key.pem (0600), OUT/ca.pem
      --days: default 365, or what is left of the CA's validity when that is less
      --role source: clientAuth (the handshake initiator), dest: serverAuth, none: both
  show FILE|DIR [--json]
      print a certificate's subject, issuer, serial, validity, usage, fingerprint;
      for a CA directory: the CA and every certificate it issued, valid, expired or revoked
  verify --ca DIR|CA.pem FILE [--crl F] [--key K] [--role source|dest] [--at ISO] [--json]
      exit 0 if the CA issued FILE, it is valid now (or at --at), not on the CRL
      (default DIR/crl.pem), usable for --role, and K is its private key; else exit 1
  revoke --ca DIR FILE|--serial HEX [--reason R] [--force]
      add the certificate's serial to DIR/revoked.json and re-sign DIR/crl.pem
      (--serial: a certificate in DIR/issued.json whose file is gone with its device)

exit codes: 0 ok, 1 verify refused the certificate, 2 usage or input error
`;

/** A usage or input error: message for stderr, exit code 2. */
class CertsUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertsUsageError';
  }
}

type Parsed = ReturnType<typeof parseCommand>;

const OPTIONS = {
  out: { type: 'string' },
  name: { type: 'string' },
  days: { type: 'string' },
  ca: { type: 'string' },
  role: { type: 'string' },
  dns: { type: 'string', multiple: true },
  ip: { type: 'string', multiple: true },
  crl: { type: 'string' },
  key: { type: 'string' },
  at: { type: 'string' },
  reason: { type: 'string' },
  serial: { type: 'string' },
  json: { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command accepts; anything else is a usage error naming the option. */
const ALLOWED: Record<string, readonly string[]> = {
  ca: ['out', 'name', 'days', 'force'],
  issue: ['ca', 'name', 'out', 'days', 'role', 'dns', 'ip', 'force'],
  show: ['json'],
  verify: ['ca', 'crl', 'key', 'role', 'at', 'json'],
  revoke: ['ca', 'serial', 'reason', 'force'],
};

const REASONS: readonly RevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
];

function parseCommand(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CertsUsageError((err as Error).message);
  }
}

function print(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Run one `certs` subcommand and return its exit code (0 ok, 1 verify refused, 2 usage or
 * input error). Never throws for user errors: the reason goes to `io.stderr`.
 *
 * @example
 * const code = await runCertsCommand(['issue', '--ca', '/etc/edgebox/ca', '--name', 'box-1',
 *   '--out', '/etc/edgebox/tunnel', '--role', 'source'], { stdout: process.stdout, stderr: process.stderr });
 * process.exitCode = code;
 */
export async function runCertsCommand(args: string[], io: CertsCommandIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    print(command === undefined ? io.stderr : io.stdout, USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  try {
    const allowed = ALLOWED[command];
    if (allowed === undefined) throw new CertsUsageError(`unknown certs command ${JSON.stringify(command)}: expected ca, issue, show, verify or revoke`);
    const parsed = parseCommand(rest);
    if (parsed.values.help === true) {
      print(io.stdout, USAGE);
      return EXIT_OK;
    }
    for (const key of Object.keys(parsed.values)) {
      if (!allowed.includes(key)) throw new CertsUsageError(`certs ${command} does not take --${key}`);
    }
    switch (command) {
      case 'ca':
        return await commandCa(parsed, io);
      case 'issue':
        return await commandIssue(parsed, io);
      case 'show':
        return await commandShow(parsed, io);
      case 'verify':
        return await commandVerify(parsed, io);
      default:
        return await commandRevoke(parsed, io);
    }
  } catch (err) {
    print(io.stderr, `certs ${command}: ${describeError(err)}`);
    return EXIT_USAGE;
  }
}

function describeError(err: unknown): string {
  if (err instanceof CertsUsageError) return err.message;
  if (isCryptoError(err)) return `${err.message} (${err.code})`;
  return (err as Error).message ?? String(err);
}

// -- option helpers -------------------------------------------------------------------------

function required(parsed: Parsed, name: 'out' | 'ca' | 'name', command: string): string {
  const v = parsed.values[name];
  if (v === undefined || v === '') throw new CertsUsageError(`certs ${command} needs --${name}`);
  return v;
}

function onePositional(parsed: Parsed, command: string, what: string): string {
  const p = parsed.positionals;
  if (p.length !== 1) throw new CertsUsageError(`certs ${command} takes exactly one ${what}, got ${p.length}${p.length > 0 ? ` (${p.join(' ')})` : ''}`);
  return p[0]!;
}

function parseDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,4}$/.test(value) || Number(value) > 36_500) {
    throw new CertsUsageError(`--days ${JSON.stringify(value)} must be a whole number of days, 1..36500`);
  }
  return Number(value);
}

function usageForRole(role: string | undefined): CertificateUsage {
  // The source initiates the handshake (a TLS-style client), the dest responds (a server).
  if (role === undefined) return 'peer';
  if (role === 'source') return 'client';
  if (role === 'dest') return 'server';
  throw new CertsUsageError(`--role ${JSON.stringify(role)} must be source or dest`);
}

// -- file helpers ---------------------------------------------------------------------------

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function readText(path: string, what: string, hint = ''): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CertsUsageError(`${what} ${path} does not exist${hint}`);
    if (code === 'EISDIR') throw new CertsUsageError(`${what} ${path} is a directory, expected a file`);
    throw new CertsUsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** Refuse to replace any of `paths` unless `force`: checked for all before writing any. */
async function refuseOverwrite(paths: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  const present: string[] = [];
  for (const p of paths) if (await exists(p)) present.push(p);
  if (present.length > 0) throw new CertsUsageError(`${present.join(', ')} already exist${present.length === 1 ? 's' : ''}: pass --force to overwrite`);
}

/**
 * Write through a temporary file created with its final mode and renamed into place, so a
 * private key is never readable by others, not even for a moment, and a crash leaves either
 * the old file or the new one.
 */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await chmod(tmp, mode); // the umask may have cleared bits of a public file
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CertsUsageError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    throw new CertsUsageError(`cannot create directory ${dir}: ${(err as Error).message}`);
  }
}

interface LedgerEntry {
  serialHex: string;
  commonName: string;
  revokedAt: string;
  reason?: RevocationReason;
}

/** What issue records in DIR/issued.json. */
interface IssuedEntry {
  serialHex: string;
  commonName: string;
  usage: CertificateUsage;
  notAfter: string;
  fingerprintSha256: string;
  issuedAt: string;
}

/** A JSON array file of records with string `serialHex` and a date field; [] when the file is missing. */
async function readJsonArray<T extends { serialHex: string }>(path: string, what: string, dateField: keyof T & string, shape: string): Promise<T[]> {
  if (!(await exists(path))) return [];
  const text = await readText(path, what);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CertsUsageError(`${what} ${path} is not JSON: ${(err as Error).message}`);
  }
  const ok =
    Array.isArray(data) &&
    data.every((e: unknown) => {
      if (typeof e !== 'object' || e === null) return false;
      const r = e as Record<string, unknown>;
      return typeof r.serialHex === 'string' && typeof r[dateField] === 'string' && !Number.isNaN(Date.parse(r[dateField]));
    });
  if (!ok) throw new CertsUsageError(`${what} ${path} must be a JSON array of ${shape}`);
  return data as T[];
}

function readLedger(caDir: string): Promise<LedgerEntry[]> {
  return readJsonArray<LedgerEntry>(join(caDir, CA_FILES.ledger), 'revocation ledger', 'revokedAt', '{serialHex, commonName, revokedAt, reason?}');
}

function readIssued(caDir: string): Promise<IssuedEntry[]> {
  return readJsonArray<IssuedEntry>(join(caDir, CA_FILES.issued), 'issued inventory', 'notAfter', '{serialHex, commonName, usage, notAfter, fingerprintSha256, issuedAt}');
}

function ledgerToEntries(ledger: readonly LedgerEntry[]): RevokedCertificateEntry[] {
  return ledger.map((e) => ({ serialHex: e.serialHex, revokedAt: new Date(e.revokedAt), ...(e.reason === undefined ? {} : { reason: e.reason }) }));
}

/** Warn (not refuse: the operator may be mid-fix) when a private key is readable by others. */
async function warnIfExposed(path: string, io: CertsCommandIo): Promise<void> {
  const mode = (await stat(path).catch(() => undefined))?.mode;
  if (mode !== undefined && (mode & 0o077) !== 0) {
    print(io.stderr, `warning: private key ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}, readable beyond its owner: chmod 600 ${path}`);
  }
}

async function loadCa(caDir: string, io: CertsCommandIo): Promise<CertificateAuthority> {
  const hint = ` (create a CA with: certs ca --out ${caDir})`;
  const certificatePem = await readText(join(caDir, CA_FILES.certificate), 'CA certificate', hint);
  const privateKeyPem = await readText(join(caDir, CA_FILES.privateKey), 'CA private key', hint);
  await warnIfExposed(join(caDir, CA_FILES.privateKey), io);
  try {
    return await importCertificateAuthority({ certificatePem, privateKeyPem });
  } catch (err) {
    throw new CertsUsageError(`CA in ${caDir} does not load: ${describeError(err)}`);
  }
}

function formatInfo(info: CertificateInfo, now: Date): string {
  const state =
    now.getTime() < info.notBefore.getTime() ? 'not yet valid' : now.getTime() > info.notAfter.getTime() ? 'expired' : 'within validity';
  const role = info.usage === 'client' ? ' (role source)' : info.usage === 'server' ? ' (role dest)' : info.usage === 'peer' ? ' (source or dest)' : '';
  const lines = [
    `subject:      ${info.commonName}`,
    `issuer:       ${info.issuerCommonName}`,
    `serial:       ${info.serialHex}`,
    `not before:   ${info.notBefore.toISOString()}`,
    `not after:    ${info.notAfter.toISOString()} (${state})`,
    `ca:           ${info.isCa ? 'yes' : 'no'}`,
    `usage:        ${info.usage ?? 'none'}${role}`,
    `key:          ed25519 ${Buffer.from(info.publicKey).toString('hex')}`,
    `sha256:       ${info.fingerprintSha256}`,
  ];
  if (info.subjectAltNames.dns.length > 0) lines.push(`dns:          ${info.subjectAltNames.dns.join(', ')}`);
  if (info.subjectAltNames.ip.length > 0) lines.push(`ip:           ${info.subjectAltNames.ip.join(', ')}`);
  return lines.join('\n');
}

function infoToJson(info: CertificateInfo): Record<string, unknown> {
  return {
    commonName: info.commonName,
    issuerCommonName: info.issuerCommonName,
    serialHex: info.serialHex,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    isCa: info.isCa,
    usage: info.usage ?? null,
    publicKeyHex: Buffer.from(info.publicKey).toString('hex'),
    fingerprintSha256: info.fingerprintSha256,
    subjectAltNames: { dns: [...info.subjectAltNames.dns], ip: [...info.subjectAltNames.ip] },
  };
}

function inspectFile(text: string, path: string): CertificateInfo {
  try {
    return inspectCertificate(text);
  } catch (err) {
    throw new CertsUsageError(`${path} is not an edgebox certificate: ${describeError(err)}`);
  }
}

// -- commands -------------------------------------------------------------------------------

async function commandCa(parsed: Parsed, io: CertsCommandIo): Promise<number> {
  const out = resolve(required(parsed, 'out', 'ca'));
  if (parsed.positionals.length > 0) throw new CertsUsageError(`certs ca takes no positional arguments, got ${parsed.positionals.join(' ')}`);
  const validityDays = parseDays(parsed.values.days);
  const commonName = parsed.values.name ?? DEFAULT_CA_NAME;
  const paths = Object.values(CA_FILES).map((f) => join(out, f));
  await refuseOverwrite(paths, parsed.values.force === true);
  const ca = await createCertificateAuthority({ commonName, ...(validityDays === undefined ? {} : { validityDays }) });
  const crlPem = await createRevocationList(ca, []);
  await makeDir(out);
  // Key first: a CA certificate without its key is useless, a key without a certificate is harmless.
  await writeFileAtomic(join(out, CA_FILES.privateKey), ca.privateKeyPem, PRIVATE_MODE);
  await writeFileAtomic(join(out, CA_FILES.certificate), ca.certificatePem, PUBLIC_MODE);
  await writeFileAtomic(join(out, CA_FILES.crl), crlPem, PUBLIC_MODE);
  await writeFileAtomic(join(out, CA_FILES.ledger), '[]\n', PUBLIC_MODE);
  await writeFileAtomic(join(out, CA_FILES.issued), '[]\n', PUBLIC_MODE);
  print(
    io.stdout,
    [
      `created CA ${JSON.stringify(ca.commonName)} in ${out}`,
      `  ${CA_FILES.certificate}  certificate, valid until ${ca.notAfter.toISOString()}`,
      `  ${CA_FILES.privateKey}  private key (0600): keep it off the appliances`,
      `  ${CA_FILES.crl}  revocation list (empty)`,
      `  sha256 ${ca.fingerprintSha256}`,
    ].join('\n'),
  );
  return EXIT_OK;
}

function defaultLeafDays(ca: CertificateAuthority, now: Date): number {
  // issueCertificate starts validity 5 minutes before `now`; count from there.
  const left = Math.floor((ca.notAfter.getTime() - (now.getTime() - LEAF_BACKDATE_MS)) / DAY_MS);
  if (left < 1) throw new CertsUsageError(`CA ${JSON.stringify(ca.commonName)} expires ${ca.notAfter.toISOString()}: less than a day left to issue under, create a new CA`);
  return Math.min(LEAF_DEFAULT_DAYS, left);
}

async function commandIssue(parsed: Parsed, io: CertsCommandIo): Promise<number> {
  const caDir = resolve(required(parsed, 'ca', 'issue'));
  const commonName = required(parsed, 'name', 'issue');
  const out = resolve(required(parsed, 'out', 'issue'));
  if (parsed.positionals.length > 0) throw new CertsUsageError(`certs issue takes no positional arguments, got ${parsed.positionals.join(' ')}`);
  const usage = usageForRole(parsed.values.role);
  const ca = await loadCa(caDir, io);
  // An explicit --days beyond the CA's own end is refused (by the package, naming both dates);
  // the default is a year, or what is left of the CA when that is less.
  const now = new Date();
  const validityDays = parseDays(parsed.values.days) ?? defaultLeafDays(ca, now);
  const certPath = join(out, ISSUED_FILES.certificate);
  const keyPath = join(out, ISSUED_FILES.privateKey);
  const caCopyPath = join(out, ISSUED_FILES.ca);
  // The CA copy is public and identical when `out` is the CA directory itself: never refuse it.
  const caCopyNeeded = caCopyPath !== join(caDir, CA_FILES.certificate);
  await refuseOverwrite(caCopyNeeded ? [certPath, keyPath, caCopyPath] : [certPath, keyPath], parsed.values.force === true);
  const identity = generateIdentity();
  const san = { dns: parsed.values.dns ?? [], ip: parsed.values.ip ?? [] };
  const issued = await issueCertificate(ca, {
    commonName,
    publicKey: identity.publicKey,
    usage,
    validityDays,
    now,
    ...(san.dns.length + san.ip.length > 0 ? { subjectAltNames: san } : {}),
  });
  await makeDir(out);
  await writeFileAtomic(keyPath, exportIdentityPem(identity).privateKeyPem, PRIVATE_MODE);
  await writeFileAtomic(certPath, issued.pem, PUBLIC_MODE);
  if (caCopyNeeded) await writeFileAtomic(caCopyPath, ca.certificatePem, PUBLIC_MODE);
  // Recorded after the files exist: an entry always names a certificate someone holds.
  const inventory = await readIssued(caDir);
  inventory.push({
    serialHex: issued.serialHex,
    commonName: issued.commonName,
    usage,
    notAfter: issued.notAfter.toISOString(),
    fingerprintSha256: issued.fingerprintSha256,
    issuedAt: now.toISOString(),
  });
  await writeFileAtomic(join(caDir, CA_FILES.issued), `${JSON.stringify(inventory, null, 2)}\n`, PUBLIC_MODE);
  print(
    io.stdout,
    [
      `issued ${JSON.stringify(issued.commonName)} (${usage}${parsed.values.role === undefined ? '' : `, role ${parsed.values.role}`}) by ${JSON.stringify(ca.commonName)}`,
      `  ${certPath}`,
      `  ${keyPath} (0600)`,
      `  serial ${issued.serialHex}, valid until ${issued.notAfter.toISOString()}`,
      `  sha256 ${issued.fingerprintSha256}`,
    ].join('\n'),
  );
  return EXIT_OK;
}

async function commandShow(parsed: Parsed, io: CertsCommandIo): Promise<number> {
  const path = onePositional(parsed, 'show', 'certificate FILE');
  if ((await exists(path)) && (await lstat(path)).isDirectory()) return showCaDir(path, parsed.values.json === true, io);
  const info = inspectFile(await readText(path, 'certificate'), path);
  print(io.stdout, parsed.values.json === true ? JSON.stringify(infoToJson(info), null, 2) : formatInfo(info, new Date()));
  return EXIT_OK;
}

/** `show DIR`: the CA and its inventory, each certificate's state now. */
async function showCaDir(dir: string, json: boolean, io: CertsCommandIo): Promise<number> {
  const caPath = join(dir, CA_FILES.certificate);
  const ca = inspectFile(await readText(caPath, 'CA certificate', ` (${dir} is not a CA directory: create one with certs ca --out ${dir})`), caPath);
  const issued = await readIssued(dir);
  const revoked = new Map((await readLedger(dir)).map((e) => [e.serialHex.toLowerCase(), e]));
  const now = Date.now();
  const rows = issued.map((e) => {
    const r = revoked.get(e.serialHex.toLowerCase());
    const state = r !== undefined ? 'revoked' : Date.parse(e.notAfter) < now ? 'expired' : 'valid';
    return { ...e, state, ...(r === undefined ? {} : { revokedAt: r.revokedAt, ...(r.reason === undefined ? {} : { reason: r.reason }) }) };
  });
  if (json) {
    print(io.stdout, JSON.stringify({ ca: infoToJson(ca), issued: rows }, null, 2));
    return EXIT_OK;
  }
  const lines = [formatInfo(ca, new Date()), '', `issued: ${rows.length} (${rows.filter((r) => r.state === 'valid').length} valid, ${revoked.size} revoked)`];
  for (const r of rows) lines.push(`  ${r.serialHex}  ${r.state.padEnd(7)}  ${r.usage.padEnd(6)}  until ${r.notAfter}  ${r.commonName}`);
  print(io.stdout, lines.join('\n'));
  return EXIT_OK;
}

/** Why verify refused, as one word for scripts and people. */
const REFUSAL_REASONS: Record<string, string> = {
  CRYPTO_CERT_UNTRUSTED: 'wrong CA',
  CRYPTO_CERT_EXPIRED: 'expired',
  CRYPTO_CERT_REVOKED: 'revoked',
  CRYPTO_CERT_INVALID: 'invalid',
};

async function commandVerify(parsed: Parsed, io: CertsCommandIo): Promise<number> {
  const caArg = resolve(required(parsed, 'ca', 'verify'));
  const path = onePositional(parsed, 'verify', 'certificate FILE');
  const json = parsed.values.json === true;
  const requiredUsage = parsed.values.role === undefined ? undefined : usageForRole(parsed.values.role);
  let now = new Date();
  if (parsed.values.at !== undefined) {
    now = new Date(parsed.values.at);
    if (Number.isNaN(now.getTime())) throw new CertsUsageError(`--at ${JSON.stringify(parsed.values.at)} is not a date (ISO 8601, e.g. 2027-01-31T00:00:00Z)`);
  }
  // --ca takes the CA directory or, on an appliance that only holds the trust anchor, ca.pem.
  const caIsDir = (await exists(caArg)) && (await lstat(caArg)).isDirectory();
  const caPemPath = caIsDir ? join(caArg, CA_FILES.certificate) : caArg;
  const caPem = await readText(caPemPath, 'CA certificate');
  let crlPath = parsed.values.crl;
  if (crlPath === undefined && caIsDir && (await exists(join(caArg, CA_FILES.crl)))) crlPath = join(caArg, CA_FILES.crl);
  const certText = await readText(path, 'certificate');

  let trustStore;
  try {
    trustStore = await createTrustStore({ authorities: [caPem] });
  } catch (err) {
    throw new CertsUsageError(`${caPemPath} is not a CA certificate: ${describeError(err)}`);
  }
  if (crlPath !== undefined) {
    const crlText = await readText(crlPath, 'CRL');
    try {
      await trustStore.addRevocationList(crlText);
    } catch (err) {
      throw new CertsUsageError(`CRL ${crlPath} refused: ${describeError(err)}`);
    }
  }

  const refuse = (reason: string, message: string, code: string): number => {
    if (json) print(io.stdout, JSON.stringify({ valid: false, reason, code, message }));
    print(io.stderr, `${path}: REFUSED (${reason}): ${message}`);
    return EXIT_REFUSED;
  };
  let verified;
  try {
    verified = trustStore.verify(certText, { now, ...(requiredUsage === undefined ? {} : { usage: requiredUsage }) });
  } catch (err) {
    if (!isCryptoError(err)) throw err;
    return refuse(REFUSAL_REASONS[err.code] ?? 'invalid', err.message, err.code);
  }
  if (parsed.values.key !== undefined) {
    // Proof of possession: the key must be the certificate's and must produce a signature
    // its public key accepts (a certificate presented without its private key is worthless).
    const keyText = await readText(parsed.values.key, 'private key');
    await warnIfExposed(parsed.values.key, io);
    let ok: boolean;
    try {
      const identity = importIdentityPem(keyText);
      const challenge = randomBytes(32);
      ok = Buffer.from(identity.publicKey).equals(verified.publicKey) && verifySignature(verified.publicKey, challenge, signMessage(identity.privateKey, challenge));
    } catch (err) {
      throw new CertsUsageError(`private key ${parsed.values.key} does not load: ${describeError(err)}`);
    }
    if (!ok) return refuse('wrong key', `private key ${parsed.values.key} does not belong to certificate ${JSON.stringify(verified.commonName)}`, 'KEY_MISMATCH');
  }
  if (json) {
    print(
      io.stdout,
      JSON.stringify({
        valid: true,
        commonName: verified.commonName,
        issuerCommonName: verified.issuerCommonName,
        serialHex: verified.serialHex,
        usage: verified.usage,
        notAfter: verified.notAfter.toISOString(),
        fingerprintSha256: verified.fingerprintSha256,
        crl: crlPath ?? null,
        keyChecked: parsed.values.key !== undefined,
      }),
    );
  } else {
    print(
      io.stdout,
      `${path}: OK ${JSON.stringify(verified.commonName)} (${verified.usage}) issued by ${JSON.stringify(verified.issuerCommonName)}, valid until ${verified.notAfter.toISOString()}${crlPath === undefined ? ', no CRL checked' : `, not on ${crlPath}`}${parsed.values.key === undefined ? '' : ', private key matches'}`,
    );
  }
  return EXIT_OK;
}

/** What revoke puts on the list. */
interface RevokeTarget {
  commonName: string;
  serialHex: string;
}

async function revokeTargetFromFile(path: string, ca: CertificateAuthority, caDir: string): Promise<RevokeTarget> {
  const certText = await readText(path, 'certificate');
  const info = inspectFile(certText, path);
  // Only this CA's own certificates go on its CRL: the issuer name must match and the CA's
  // key must verify the signature (an expired certificate may still be revoked).
  const leaf = new X509Certificate(certText);
  const caCert = new X509Certificate(ca.certificatePem);
  if (!leaf.checkIssued(caCert) || !leaf.verify(caCert.publicKey)) {
    throw new CertsUsageError(`${path} (${JSON.stringify(info.commonName)}, issuer ${JSON.stringify(info.issuerCommonName)}) was not issued by the CA in ${caDir} (${JSON.stringify(ca.commonName)})`);
  }
  if (info.isCa) throw new CertsUsageError(`${path} is the CA certificate itself: a CA cannot revoke itself, retire it instead`);
  return { commonName: info.commonName, serialHex: info.serialHex };
}

async function revokeTargetFromSerial(serial: string, caDir: string): Promise<RevokeTarget> {
  if (!/^[0-9a-fA-F:]{1,60}$/.test(serial)) throw new CertsUsageError(`--serial ${JSON.stringify(serial)} is not a hex serial (as certs show prints it)`);
  // Colons allowed: `openssl x509 -serial` and other tools print them.
  const wanted = serial.replaceAll(':', '').toLowerCase().replace(/^0+(?=.)/, '');
  const entry = (await readIssued(caDir)).find((e) => e.serialHex.toLowerCase().replace(/^0+(?=.)/, '') === wanted);
  if (entry === undefined) {
    throw new CertsUsageError(`serial ${serial} is not in ${join(caDir, CA_FILES.issued)}: this CA did not issue it here; revoke by certificate FILE instead`);
  }
  return { commonName: entry.commonName, serialHex: entry.serialHex };
}

async function commandRevoke(parsed: Parsed, io: CertsCommandIo): Promise<number> {
  const caDir = resolve(required(parsed, 'ca', 'revoke'));
  const bySerial = parsed.values.serial;
  if (bySerial !== undefined && parsed.positionals.length > 0) throw new CertsUsageError('certs revoke takes a certificate FILE or --serial, not both');
  const reason = parsed.values.reason as RevocationReason | undefined;
  if (reason !== undefined && !REASONS.includes(reason)) {
    throw new CertsUsageError(`--reason ${JSON.stringify(reason)} must be one of ${REASONS.join(', ')}`);
  }
  const ca = await loadCa(caDir, io);
  const target = bySerial === undefined ? await revokeTargetFromFile(onePositional(parsed, 'revoke', 'certificate FILE (or --serial)'), ca, caDir) : await revokeTargetFromSerial(bySerial, caDir);
  const info = { commonName: target.commonName, serialHex: target.serialHex };
  const ledger = await readLedger(caDir);
  const crlPath = join(caDir, CA_FILES.crl);
  // The ledger and the signed CRL must agree before we re-sign, or entries would be lost.
  if (await exists(crlPath)) {
    const store = await createTrustStore({ authorities: [ca.certificatePem] });
    try {
      await store.addRevocationList(await readText(crlPath, 'CRL'));
    } catch (err) {
      throw new CertsUsageError(`CRL ${crlPath} refused: ${describeError(err)}`);
    }
    const listed = store.authorities()[0]?.revocationList?.revokedCount ?? 0;
    if (listed !== ledger.length && parsed.values.force !== true) {
      throw new CertsUsageError(
        `${crlPath} lists ${listed} revoked certificates but ${join(caDir, CA_FILES.ledger)} lists ${ledger.length}: restore the ledger, or pass --force to re-sign the CRL from the ledger`,
      );
    }
  }
  const serial = info.serialHex.toLowerCase();
  if (ledger.some((e) => e.serialHex.toLowerCase() === serial)) {
    print(io.stdout, `${JSON.stringify(info.commonName)} serial ${serial} is already revoked; ${crlPath} unchanged`);
    return EXIT_OK;
  }
  const now = new Date();
  const next: LedgerEntry[] = [...ledger, { serialHex: serial, commonName: info.commonName, revokedAt: now.toISOString(), ...(reason === undefined ? {} : { reason }) }];
  const crlPem = await createRevocationList(ca, ledgerToEntries(next), { now });
  // CRL first: if the ledger write fails, the next revoke notices the count mismatch.
  await writeFileAtomic(crlPath, crlPem, PUBLIC_MODE);
  await writeFileAtomic(join(caDir, CA_FILES.ledger), `${JSON.stringify(next, null, 2)}\n`, PUBLIC_MODE);
  print(io.stdout, `revoked ${JSON.stringify(info.commonName)} serial ${serial}; ${crlPath} now lists ${next.length} certificate${next.length === 1 ? '' : 's'}: copy it to every dest`);
  return EXIT_OK;
}
