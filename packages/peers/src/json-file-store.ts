/**
 * A JSON file that survives crashes and corruption: atomic replace, one backup, and loads that
 * fall back instead of losing data.
 *
 * Save (commit point = the rename of the main file):
 *   1. backup:  write `<path>.bak.tmp-*` ← the previous main content (known good, from memory),
 *               fsync, rename over `<path>.bak`
 *   2. main:    write `<path>.tmp-*` ← the new content, fsync, rename over `<path>`, fsync dir
 *   A crash at any point leaves `<path>` either old or new (never partial), and `<path>.bak`
 *   one version behind or equal. The backup is written from memory, never copied from disk,
 *   so a main file damaged behind our back cannot overwrite a good backup.
 *
 * Load:
 *   - leftover `*.tmp-*` files (a crash before a rename: never committed) are removed and listed
 *     in the result;
 *   - main parses and validates → use it; records the parser refused are reported and the
 *     original file is copied aside so nothing is lost;
 *   - main corrupt (or missing while a backup exists) → move it aside as
 *     `<path>.corrupt-<time>`, load the backup, report;
 *   - both unusable → start empty, both kept aside, report. Nothing is deleted silently.
 *   - any other I/O error (EACCES, EIO) throws PEERS_STORE_IO: starting empty then would
 *     overwrite the user's file on the next save.
 */
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PeersError, checkInteger, invalid } from './errors.js';

/** The file operations the store needs; replaceable to inject faults in tests. */
export interface StoreFileSystem {
  /** Create `path` exclusively (mode 0o600), write `data`, fsync, close. */
  writeNewFile(path: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  readFile(path: string): Promise<string>;
  /** File size in bytes. */
  size(path: string): Promise<number>;
  unlink(path: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  mkdir(dir: string): Promise<void>;
  /** fsync a directory so renames in it are durable. */
  syncDir(dir: string): Promise<void>;
}

/**
 * node:fs/promises implementation of StoreFileSystem (the default).
 *
 * @example const fs = { ...nodeStoreFileSystem, rename: failingRename }; // fault injection in tests
 */
export const nodeStoreFileSystem: StoreFileSystem = {
  async writeNewFile(path, data) {
    const handle = await fsp.open(path, 'wx', 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  copyFile: (from, to) => fsp.copyFile(from, to),
  readFile: (path) => fsp.readFile(path, 'utf8'),
  size: async (path) => (await fsp.stat(path)).size,
  unlink: (path) => fsp.unlink(path),
  readdir: (dir) => fsp.readdir(dir),
  mkdir: async (dir) => {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  },
  async syncDir(dir) {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/** What the store found wrong while loading; every problem is reported, none is fatal. */
export interface StoreProblem {
  code: 'PEERS_STORE_CORRUPT';
  /** corrupt: the file is unusable; missing: main absent, backup used; dropped-records: some records refused. */
  kind: 'corrupt' | 'missing' | 'dropped-records';
  /** The file concerned. */
  file: string;
  message: string;
  /** Where the original bytes were kept, or null when there was nothing to keep. */
  keptAs: string | null;
}

/** Result of parsing a file's JSON: the value and the records refused (by message). */
export interface StoreParseResult<T> {
  value: T;
  dropped: string[];
}

/** Outcome of load(). */
export interface StoreLoadResult<T> {
  /** The value, or undefined when nothing usable was found. */
  value: T | undefined;
  source: 'main' | 'backup' | 'none';
  problems: StoreProblem[];
  /** Uncommitted temporary files found and removed. */
  removedTempFiles: string[];
}

/** Options of createJsonFileStore. */
export interface JsonFileStoreInit<T> {
  path: string;
  /** Validate parsed JSON; throw (any error) when the whole file is unusable. */
  parse: (json: unknown) => StoreParseResult<T>;
  /** Larger files count as corrupt (default 64 MiB). */
  maxBytes?: number;
}

/** Dependencies of createJsonFileStore. */
export interface JsonFileStoreComponents {
  fs?: StoreFileSystem;
  /** Wall clock for names of files kept aside (default Date.now). */
  now?: () => number;
}

/** A crash-safe JSON file with one backup. */
export interface JsonFileStore<T> {
  readonly path: string;
  readonly backupPath: string;
  load(): Promise<StoreLoadResult<T>>;
  /** Persist `text` (already serialized); a no-op when equal to what is on disk. load() first. */
  save(text: string): Promise<void>;
}

type Candidate<T> = { kind: 'missing' } | { kind: 'ok'; text: string; parsed: StoreParseResult<T> } | { kind: 'corrupt'; message: string };

/**
 * Create a store for one JSON file.
 *
 * @example
 * const store = createJsonFileStore({ path: '/var/lib/edgebox/peers.json', parse: parseBook });
 * const { value, problems } = await store.load();   // problems: reported, never thrown
 * await store.save(JSON.stringify(book));
 */
export function createJsonFileStore<T>(init: JsonFileStoreInit<T>, components: JsonFileStoreComponents = {}): JsonFileStore<T> {
  if (typeof init.path !== 'string' || init.path.length === 0) throw invalid('path', init.path, 'a non-empty file path');
  const maxBytes = checkInteger('maxBytes', init.maxBytes ?? 64 * 1024 * 1024, 1, 2 ** 31 - 1);
  const fs = components.fs ?? nodeStoreFileSystem;
  const now = components.now ?? Date.now;
  const path = init.path;
  const backupPath = `${path}.bak`;
  const dir = dirname(path);
  let lastGood: string | undefined; // the main file's content as we last read or wrote it
  let loaded = false;
  let tmpSeq = 0;

  const ioError = (op: string, file: string, cause: unknown): PeersError =>
    new PeersError('PEERS_STORE_IO', `${op} ${file} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause, details: { file, op } });

  const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

  const read = async (file: string): Promise<Candidate<T>> => {
    let text: string;
    try {
      const size = await fs.size(file);
      if (size > maxBytes) return { kind: 'corrupt', message: `${file} is ${size} bytes > max ${maxBytes}` };
      text = await fs.readFile(file);
    } catch (err) {
      if (isMissing(err)) return { kind: 'missing' };
      throw ioError('reading', file, err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return { kind: 'corrupt', message: `${file} is not valid JSON (${text.length} characters): ${(err as Error).message}` };
    }
    try {
      return { kind: 'ok', text, parsed: init.parse(json) };
    } catch (err) {
      return { kind: 'corrupt', message: `${file} does not validate: ${(err as Error).message}` };
    }
  };

  const asideName = async (file: string): Promise<string> => {
    const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-');
    const names = new Set(await listDir());
    let candidate = `${file}.corrupt-${stamp}`;
    for (let n = 1; names.has(basename(candidate)); n++) candidate = `${file}.corrupt-${stamp}-${n}`;
    return candidate;
  };

  const listDir = async (): Promise<string[]> => {
    try {
      return await fs.readdir(dir);
    } catch (err) {
      if (isMissing(err)) return [];
      throw ioError('listing', dir, err);
    }
  };

  const keepAside = async (file: string, how: 'move' | 'copy'): Promise<string> => {
    const target = await asideName(file);
    try {
      if (how === 'move') await fs.rename(file, target);
      else await fs.copyFile(file, target);
    } catch (err) {
      throw ioError(how === 'move' ? 'moving aside' : 'copying aside', file, err);
    }
    return target;
  };

  const removeTemps = async (): Promise<string[]> => {
    const prefixes = [`${basename(path)}.tmp-`, `${basename(backupPath)}.tmp-`];
    const removed: string[] = [];
    for (const name of await listDir()) {
      if (!prefixes.some((p) => name.startsWith(p))) continue;
      const file = join(dir, name);
      try {
        await fs.unlink(file);
      } catch (err) {
        if (!isMissing(err)) throw ioError('removing', file, err);
      }
      removed.push(file);
    }
    return removed;
  };

  const writeAtomic = async (target: string, data: string): Promise<void> => {
    const tmp = `${target}.tmp-${process.pid}-${Date.now()}-${tmpSeq++}`;
    try {
      await fs.writeNewFile(tmp, data);
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.unlink(tmp).catch(() => undefined);
      throw ioError('writing', target, err);
    }
    try {
      await fs.syncDir(dir);
    } catch (err) {
      throw ioError('syncing directory of', target, err);
    }
  };

  const loadFiles = async (): Promise<StoreLoadResult<T>> => {
    const removedTempFiles = await removeTemps();
    const problems: StoreProblem[] = [];
    const main = await read(path);
    if (main.kind === 'ok') {
      if (main.parsed.dropped.length > 0) {
        const keptAs = await keepAside(path, 'copy');
        problems.push({ code: 'PEERS_STORE_CORRUPT', kind: 'dropped-records', file: path, message: main.parsed.dropped.join('; '), keptAs });
      }
      lastGood = main.text;
      return { value: main.parsed.value, source: 'main', problems, removedTempFiles };
    }
    const backup = await read(backupPath);
    if (main.kind === 'corrupt') {
      problems.push({ code: 'PEERS_STORE_CORRUPT', kind: 'corrupt', file: path, message: main.message, keptAs: await keepAside(path, 'move') });
    } else if (backup.kind !== 'missing') {
      problems.push({ code: 'PEERS_STORE_CORRUPT', kind: 'missing', file: path, message: `${path} is missing; trying ${backupPath}`, keptAs: null });
    }
    if (backup.kind === 'ok') {
      if (backup.parsed.dropped.length > 0) {
        const keptAs = await keepAside(backupPath, 'copy');
        problems.push({ code: 'PEERS_STORE_CORRUPT', kind: 'dropped-records', file: backupPath, message: backup.parsed.dropped.join('; '), keptAs });
      }
      lastGood = backup.text;
      return { value: backup.parsed.value, source: 'backup', problems, removedTempFiles };
    }
    if (backup.kind === 'corrupt') {
      problems.push({ code: 'PEERS_STORE_CORRUPT', kind: 'corrupt', file: backupPath, message: backup.message, keptAs: await keepAside(backupPath, 'move') });
    }
    lastGood = undefined;
    return { value: undefined, source: 'none', problems, removedTempFiles };
  };

  return {
    path,
    backupPath,
    async load() {
      const result = await loadFiles();
      loaded = true;
      return result;
    },
    async save(text) {
      if (!loaded) throw new PeersError('PEERS_INVALID_ARGUMENT', `save() before load() of ${path} would replace the file without a backup; load() first`);
      if (text === lastGood) return;
      try {
        await fs.mkdir(dir);
      } catch (err) {
        throw ioError('creating directory', dir, err);
      }
      if (lastGood !== undefined) await writeAtomic(backupPath, lastGood);
      await writeAtomic(path, text);
      lastGood = text;
    },
  };
}
