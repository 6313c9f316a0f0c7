// Address book on disk: round trip, backup rotation, crash mid-write (temp files, truncation),
// corruption of main and backup, refused records, I/O faults. Nothing is lost silently.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createAddressBook,
  isPeersError,
  nodeStoreFileSystem,
  openAddressBook,
  peerIdFromPublicKey,
  type AddressBookChange,
  type PeersError,
  type StoreFileSystem,
} from '../src/index.js';

const alice = peerIdFromPublicKey(new Uint8Array(32).fill(1));
const bob = peerIdFromPublicKey(new Uint8Array(32).fill(2));
const carol = peerIdFromPublicKey(new Uint8Array(32).fill(3));

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgebox-peers-'));
  path = join(dir, 'state', 'peers.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const files = async (): Promise<string[]> => (await readdir(join(dir, 'state'))).sort();
const noAutosave = { autoSaveDelayMs: false as const };

/** A book with alice, saved, then bob added and saved: main = {alice, bob}, backup = {alice}. */
async function twoVersions(): Promise<void> {
  const book = await openAddressBook({ path, ...noAutosave });
  book.add({ id: alice, addresses: ['/ip4/192.0.2.1/tcp/4001'], metadata: { name: 'a' }, tags: ['boot'], autoConnect: true });
  await book.save();
  book.add({ id: bob });
  await book.close();
}

describe('address book persistence', () => {
  it('starts empty without problems when there is no file, and round-trips every field', async () => {
    const book = await openAddressBook({ path, ...noAutosave }, { now: () => 1_700_000_000_000 });
    expect(book.status().lastLoad).toEqual({ source: 'none', peers: 0, problems: [], removedTempFiles: [] });
    book.add({ id: alice, addresses: ['/ip4/192.0.2.1/tcp/4001'], metadata: { name: 'a' }, tags: ['boot'], autoConnect: true });
    book.markSeen(alice, 1_700_000_000_500);
    expect(book.status().dirty).toBe(true);
    await book.save();
    expect(book.status()).toMatchObject({ dirty: false, lastSavedAt: 1_700_000_000_000, saveErrors: 0 });
    const json = JSON.parse(await readFile(path, 'utf8')) as { version: number; savedAt: string; peers: unknown[] };
    expect(json.version).toBe(1);
    expect(json.savedAt).toBe('2023-11-14T22:13:20.000Z');
    const again = await openAddressBook({ path });
    expect(again.get(alice)).toEqual(book.get(alice));
    expect(again.status().lastLoad).toMatchObject({ source: 'main', peers: 1, problems: [] });
    await again.close();
  });

  it('keeps the previous version as the backup and writes files readable only by the owner', async () => {
    await twoVersions();
    const main = JSON.parse(await readFile(path, 'utf8')) as { peers: { id: string }[] };
    const backup = JSON.parse(await readFile(`${path}.bak`, 'utf8')) as { peers: { id: string }[] };
    expect(main.peers.map((p) => p.id)).toEqual([alice, bob]);
    expect(backup.peers.map((p) => p.id)).toEqual([alice]);
    const { stat } = await import('node:fs/promises');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await files()).toEqual(['peers.json', 'peers.json.bak']);
  });

  it('a save with nothing changed writes nothing; a change writes the backup then the main file', async () => {
    await twoVersions();
    const writes: string[] = [];
    const fs = faulty({
      writeNewFile: (p, data) => {
        writes.push(p.slice(path.length).replace(/\.tmp-.*/, '.tmp'));
        return nodeStoreFileSystem.writeNewFile(p, data);
      },
    });
    const book = await openAddressBook({ path, ...noAutosave }, { fs });
    await book.save();
    expect(book.remove(carol)).toBe(false); // no change
    await book.save();
    expect(writes).toEqual([]);
    book.add({ id: carol });
    await book.save();
    await book.save();
    expect(writes).toEqual(['.bak.tmp', '.tmp']);
    await book.close();
  });

  it('crash mid-write: a leftover temp file is removed and reported, the committed file loads', async () => {
    await twoVersions();
    await writeFile(`${path}.tmp-4242-1-0`, '{"version":1,"peers":[{"id":"12D3Koo'); // never renamed
    await writeFile(`${path}.bak.tmp-4242-1-1`, '');
    const book = await openAddressBook({ path });
    const report = book.status().lastLoad!;
    expect(report.source).toBe('main');
    expect(report.problems).toEqual([]);
    expect(report.removedTempFiles.sort()).toEqual([`${path}.bak.tmp-4242-1-1`, `${path}.tmp-4242-1-0`]);
    expect(book.list().map((p) => p.id)).toEqual([alice, bob]);
    expect(await files()).toEqual(['peers.json', 'peers.json.bak']);
    await book.close();
  });

  it('a truncated main file falls back to the backup, keeps the damaged bytes aside and reports it', async () => {
    await twoVersions();
    const full = await readFile(path, 'utf8');
    const truncated = full.slice(0, Math.floor(full.length / 2));
    await writeFile(path, truncated);
    const changes: AddressBookChange[] = [];
    const book = createAddressBook({ path, ...noAutosave }, { now: () => Date.parse('2026-01-02T03:04:05.678Z') });
    book.onChange((c) => changes.push(c));
    const report = await book.load();
    expect(report.source).toBe('backup');
    expect(book.list().map((p) => p.id)).toEqual([alice]);
    expect(report.problems).toHaveLength(1);
    const [problem] = report.problems;
    expect(problem).toMatchObject({ code: 'PEERS_STORE_CORRUPT', kind: 'corrupt', file: path, keptAs: `${path}.corrupt-2026-01-02T03-04-05-678Z` });
    expect(problem!.message).toMatch(/is not valid JSON/);
    expect(await readFile(problem!.keptAs!, 'utf8')).toBe(truncated);
    expect(changes).toEqual([{ type: 'loaded', report }]);
    // the next save rebuilds main; the backup keeps the version we loaded
    book.add({ id: carol });
    await book.save();
    const main = JSON.parse(await readFile(path, 'utf8')) as { peers: { id: string }[] };
    expect(main.peers.map((p) => p.id)).toEqual([alice, carol]);
    expect(await files()).toEqual(['peers.json', 'peers.json.bak', 'peers.json.corrupt-2026-01-02T03-04-05-678Z']);
    await book.close();
  });

  it('main and backup both corrupt: starts empty, keeps both aside, reports both, and never overwrites them', async () => {
    await twoVersions();
    await writeFile(path, '\u0000\u0000garbage');
    await writeFile(`${path}.bak`, '{"version": 2, "peers": []}');
    const book = await openAddressBook({ path, ...noAutosave }, { now: () => 0 });
    const report = book.status().lastLoad!;
    expect(report.source).toBe('none');
    expect(book.size).toBe(0);
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ['corrupt', path],
      ['corrupt', `${path}.bak`],
    ]);
    expect(report.problems[1]!.message).toMatch(/does not validate: not an address book v1: version/);
    expect(await readFile(report.problems[0]!.keptAs!, 'utf8')).toBe('\u0000\u0000garbage');
    expect(await readFile(report.problems[1]!.keptAs!, 'utf8')).toBe('{"version": 2, "peers": []}');
    book.add({ id: carol });
    await book.save();
    expect(await files()).toEqual(['peers.json', 'peers.json.bak.corrupt-1970-01-01T00-00-00-000Z', 'peers.json.corrupt-1970-01-01T00-00-00-000Z']);
    await book.close();
    // a second corruption at the same instant gets a distinct name
    await writeFile(path, 'broken again');
    const third = await openAddressBook({ path, ...noAutosave }, { now: () => 0 });
    expect(third.status().lastLoad!.problems[0]!.keptAs).toBe(`${path}.corrupt-1970-01-01T00-00-00-000Z-1`);
    await third.close();
  });

  it('a missing main file with a backup present loads the backup and says so', async () => {
    await twoVersions();
    await rm(path);
    const book = await openAddressBook({ path });
    const report = book.status().lastLoad!;
    expect(report.source).toBe('backup');
    expect(report.problems).toEqual([{ code: 'PEERS_STORE_CORRUPT', kind: 'missing', file: path, message: `${path} is missing; trying ${path}.bak`, keptAs: null }]);
    expect(book.list().map((p) => p.id)).toEqual([alice]);
    await book.close();
  });

  it('refuses bad records one by one: the rest loads, the original file is copied aside, each reason reported', async () => {
    const good = { id: alice, addresses: ['/memory/a'], metadata: {}, tags: [], autoConnect: true, addedAt: 1, updatedAt: 2, lastSeen: null };
    const peers = [
      good,
      { ...good, id: 'not-a-peer' },
      { ...good, id: bob, addresses: ['/nope/1'] },
      { ...good }, // duplicate
      { id: carol, addedAt: 1, updatedAt: 1 }, // defaults fill the rest
      { ...good, id: bob, addedAt: 'yesterday' },
      42,
    ];
    const text = JSON.stringify({ version: 1, peers });
    await mkdirp();
    await writeFile(path, text);
    const book = await openAddressBook({ path, maxPeers: 10 });
    const report = book.status().lastLoad!;
    expect(report.source).toBe('main');
    expect(book.list().map((p) => p.id)).toEqual([alice, carol]);
    expect(book.get(carol)).toMatchObject({ addresses: [], metadata: {}, tags: [], autoConnect: false, lastSeen: null });
    expect(report.problems).toHaveLength(1);
    const [p] = report.problems;
    expect(p!.kind).toBe('dropped-records');
    expect(p!.message).toContain('peers[1]: peer id "not-a-peer"');
    expect(p!.message).toContain('peers[2]: multiaddr "/nope/1" has unknown protocol "nope"');
    expect(p!.message).toContain(`peers[3]: duplicate of peer ${alice}`);
    expect(p!.message).toContain('peers[5]: addedAt:');
    expect(p!.message).toContain('peers[6]: (root):');
    expect(await readFile(p!.keptAs!, 'utf8')).toBe(text);
    await book.close();
  });

  it('a file with more peers than maxPeers loads the first maxPeers and reports the rest', async () => {
    await twoVersions();
    const book = await openAddressBook({ path, maxPeers: 1 });
    expect(book.list().map((p) => p.id)).toEqual([alice]);
    expect(book.status().lastLoad!.problems[0]!.message).toBe('peers[1]: over maxPeers 1');
    await book.close();
  });

  it('autosave coalesces changes into a background save; close() flushes pending changes', async () => {
    const book = await openAddressBook({ path, autoSaveDelayMs: 5 });
    book.add({ id: alice });
    book.add({ id: bob });
    await vi.waitFor(() => expect(book.status().dirty).toBe(false));
    expect(JSON.parse(await readFile(path, 'utf8')).peers).toHaveLength(2);
    const slow = await openAddressBook({ path, autoSaveDelayMs: 60_000 });
    slow.add({ id: carol });
    await slow.close();
    expect(JSON.parse(await readFile(path, 'utf8')).peers).toHaveLength(3);
    expect((await openAddressBook({ path })).size).toBe(3);
    await book.close();
  });
});

async function mkdirp(): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'state'), { recursive: true });
}

/** nodeStoreFileSystem with one operation replaced. */
function faulty(overrides: Partial<StoreFileSystem>): StoreFileSystem {
  return { ...nodeStoreFileSystem, ...overrides };
}

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: simulated`), { code });

describe('address book I/O faults', () => {
  it('a failed rename (disk full, crash) rejects with PEERS_STORE_IO, counts it, leaves the old file and no temp file', async () => {
    await twoVersions();
    const before = await readFile(path, 'utf8');
    const saveErrors: PeersError[] = [];
    const fs = faulty({
      rename: async (from, to) => {
        if (to === path) throw errno('ENOSPC');
        return nodeStoreFileSystem.rename(from, to);
      },
    });
    const book = await openAddressBook({ path, ...noAutosave }, { fs, onSaveError: (e) => saveErrors.push(e) });
    book.add({ id: carol });
    let caught: unknown;
    try {
      await book.save();
    } catch (err) {
      caught = err;
    }
    expect(isPeersError(caught, 'PEERS_STORE_IO')).toBe(true);
    expect((caught as Error).message).toMatch(/^writing .*peers\.json failed: ENOSPC: simulated$/);
    expect(saveErrors).toHaveLength(1);
    expect(book.status()).toMatchObject({ dirty: true, saveErrors: 1, lastSaveError: (caught as Error).message });
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await files()).toEqual(['peers.json', 'peers.json.bak']);
    // the data is still in memory; a later save with a working disk persists it
    const ok = createAddressBook({ path, ...noAutosave });
    await ok.load();
    expect(ok.list().map((p) => p.id)).toEqual([alice, bob]);
  });

  it('a background save failure is reported through onSaveError and status, not thrown', async () => {
    const saveErrors: PeersError[] = [];
    const fs = faulty({ writeNewFile: () => Promise.reject(errno('EIO')) });
    const book = await openAddressBook({ path, autoSaveDelayMs: 1 }, { fs, onSaveError: (e) => saveErrors.push(e) });
    book.add({ id: alice });
    await vi.waitFor(() => expect(saveErrors).toHaveLength(1));
    expect(book.status().saveErrors).toBe(1);
    await expect(book.close()).rejects.toThrow(/EIO/);
  });

  it('an unreadable file (EACCES) throws PEERS_STORE_IO instead of starting empty', async () => {
    await twoVersions();
    const fs = faulty({ readFile: () => Promise.reject(errno('EACCES')) });
    await expect(openAddressBook({ path }, { fs })).rejects.toThrow(/reading .*peers\.json failed: EACCES/);
    const fsList = faulty({ readdir: () => Promise.reject(errno('EACCES')) });
    await expect(openAddressBook({ path }, { fs: fsList })).rejects.toThrow(/listing .* failed/);
  });

  it('an oversized file counts as corrupt without being read', async () => {
    await twoVersions();
    const fs = faulty({ size: async (p) => (p === path ? 2 ** 40 : nodeStoreFileSystem.size(p)) });
    const book = await openAddressBook({ path }, { fs });
    const report = book.status().lastLoad!;
    expect(report.source).toBe('backup');
    expect(report.problems[0]!.message).toMatch(/is 1099511627776 bytes > max 67108864/);
    await book.close();
  });

  it('refuses changes and saves before load, and changes after close', async () => {
    const book = createAddressBook({ path });
    expect(() => book.add({ id: alice })).toThrow(/is not loaded: call load\(\)/);
    await expect(book.save()).rejects.toThrow(/is not loaded: call load\(\) before save\(\)/);
    await book.load();
    await book.close();
    expect(() => book.add({ id: alice })).toThrow('address book is closed');
    await expect(book.load()).rejects.toThrow('address book is closed');
    await expect(openAddressBook({ path: '' })).rejects.toThrow('path "" is not a non-empty file path');
  });
});
