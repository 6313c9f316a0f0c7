/**
 * API keys of the admin API, stored hashed in `<dataDir>/api-keys.json` (mode 0600).
 *
 * A key reads `ebk_<id>_<secret>`: `id` (8 hex digits) finds the entry, `secret` (32 random
 * bytes, base64url) is checked against the stored SHA-256 in constant time. A high-entropy
 * random secret needs no slow hash: nobody can guess it from its SHA-256. The secret is shown
 * once, at creation; revoked keys stay listed (with revokedAt) so the audit log's ids resolve.
 *
 * The running API re-reads the file when its mtime changes, so `edgebox keys create|revoke`
 * take effect without a restart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SupervisorError } from '../errors.js';

/** What a key may do: viewer = GET only, admin = everything. */
export type Role = 'viewer' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'admin'];

/** One stored key (never the secret). */
export type StoredKey = { id: string; name: string; role: Role; sha256: string; createdAt: string; revokedAt: string | null };

/** A key as listed (no hash). */
export type KeyInfo = Omit<StoredKey, 'sha256'>;

/** Who a request authenticated as. */
export type Principal = { keyId: string; name: string; role: Role };

const KEY_RE = /^ebk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;
const NAME_RE = /^[A-Za-z0-9_.@:-]{1,64}$/;

/** The key file of a data dir. */
export function keyFileOf(dataDir: string): string {
  return join(dataDir, 'api-keys.json');
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The key store over one file. */
export interface KeyStore {
  readonly file: string;
  create(init: { name: string; role: Role }): Promise<{ key: string; info: KeyInfo }>;
  list(): Promise<KeyInfo[]>;
  revoke(idOrName: string): Promise<KeyInfo>;
  /** Active (not revoked) keys exist. */
  hasActive(): Promise<boolean>;
  /** The principal of a presented key, or null when unknown, malformed or revoked. */
  verify(presented: string): Promise<Principal | null>;
}

/**
 * Opens (lazily) the key store of a data dir.
 *
 * @example
 * const keys = openKeyStore('/var/lib/edgebox');
 * const { key } = await keys.create({ name: 'grafana', role: 'viewer' }); // shown once
 * await keys.verify(key); // { keyId, name: 'grafana', role: 'viewer' }
 */
export function openKeyStore(dataDir: string): KeyStore {
  const file = keyFileOf(dataDir);
  let cache: { mtimeMs: number; size: number; keys: StoredKey[] } | null = null;

  const read = async (): Promise<StoredKey[]> => {
    // one stat per call (verify runs on every request): a key created or revoked by the CLI counts at once
    let mtimeMs: number;
    let size: number;
    try {
      ({ mtimeMs, size } = await stat(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        cache = { mtimeMs: 0, size: 0, keys: [] };
        return [];
      }
      throw new SupervisorError('SUPERVISOR_KEYS', `key file ${file} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    if (cache !== null && cache.mtimeMs === mtimeMs && cache.size === size) return cache.keys;
    try {
      const keys = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (!Array.isArray(keys)) throw new Error('expected a JSON array');
      cache = { mtimeMs, size, keys: keys as StoredKey[] };
      return cache.keys;
    } catch (err) {
      throw new SupervisorError('SUPERVISOR_KEYS', `key file ${file} is not valid: ${(err as Error).message}`, { cause: err });
    }
  };

  const write = async (keys: StoredKey[]): Promise<void> => {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
    cache = null;
  };

  const info = ({ sha256: _h, ...rest }: StoredKey): KeyInfo => rest;

  return {
    file,
    async create({ name, role }) {
      if (!NAME_RE.test(name)) throw new SupervisorError('SUPERVISOR_INVALID_ARGUMENT', `key name ${JSON.stringify(name)} is not valid: expected 1-64 of [A-Za-z0-9_.@:-]`);
      if (!ROLES.includes(role)) throw new SupervisorError('SUPERVISOR_INVALID_ARGUMENT', `role ${JSON.stringify(role)} is not valid: expected one of ${ROLES.join(', ')}`);
      const keys = await read();
      if (keys.some((k) => k.name === name && k.revokedAt === null)) throw new SupervisorError('SUPERVISOR_INVALID_ARGUMENT', `an active key named ${JSON.stringify(name)} exists: revoke it first or pick another name`);
      let id = randomBytes(4).toString('hex');
      while (keys.some((k) => k.id === id)) id = randomBytes(4).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const stored: StoredKey = { id, name, role, sha256: sha256(secret), createdAt: new Date().toISOString(), revokedAt: null };
      await write([...keys, stored]);
      return { key: `ebk_${id}_${secret}`, info: info(stored) };
    },
    async list() {
      return (await read()).map(info);
    },
    async revoke(idOrName) {
      const keys = await read();
      const k = keys.find((x) => x.revokedAt === null && (x.id === idOrName || x.name === idOrName));
      if (k === undefined) throw new SupervisorError('SUPERVISOR_NOT_FOUND', `no active key with id or name ${JSON.stringify(idOrName)}`);
      const revoked: StoredKey = { ...k, revokedAt: new Date().toISOString() };
      await write(keys.map((x) => (x === k ? revoked : x)));
      return info(revoked);
    },
    async hasActive() {
      return (await read()).some((k) => k.revokedAt === null);
    },
    async verify(presented) {
      const m = KEY_RE.exec(presented);
      if (m === null) return null;
      const k = (await read()).find((x) => x.id === m[1]);
      if (k === undefined || k.revokedAt !== null) return null;
      const a = Buffer.from(sha256(m[2]!), 'hex');
      const b = Buffer.from(k.sha256, 'hex');
      if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
      return { keyId: k.id, name: k.name, role: k.role };
    },
  };
}
