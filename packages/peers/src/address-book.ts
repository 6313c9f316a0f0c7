/**
 * The address book: the peers a node knows, with their multiaddrs, metadata, tags, last
 * contact and whether to dial them on start; bounded, evented, and persisted as JSON through
 * the crash-safe store (json-file-store.ts: atomic replace, one backup, corruption reported
 * and kept aside, never silently dropped).
 *
 * File format (version 1):
 *   { "version": 1, "savedAt": "<ISO time>", "peers": [ PeerRecord, ... ] }
 * Records that fail validation on load (bad id, bad address, duplicate, over maxPeers) are
 * skipped and reported as `dropped-records`, with the original file copied aside.
 *
 * Writes are coalesced: each change schedules one save `autoSaveDelayMs` later (default
 * 100 ms); saves never overlap (one chain) and skip when nothing changed. close() flushes.
 */
import { z } from 'zod';
import { ADDRESS_BOOK_FILE_VERSION, ADDRESS_BOOK_MAX_FILE_BYTES, ADDRESS_BOOK_MAX_PEERS, TIMER_MAX_MS } from './constants.js';
import { PeersError, checkInteger, describeValue, invalid } from './errors.js';
import { createJsonFileStore, type JsonFileStore, type StoreFileSystem, type StoreProblem } from './json-file-store.js';
import { parsePeerId } from './peer-id.js';
import { checkAddresses, checkMetadata, checkTags, freezeRecord, type PeerFields, type PeerInit, type PeerRecord } from './peer-record.js';

/** A change to the book. */
export type AddressBookChange =
  | { type: 'added'; peer: PeerRecord }
  | { type: 'updated'; peer: PeerRecord; previous: PeerRecord }
  | { type: 'removed'; peer: PeerRecord }
  | { type: 'loaded'; report: AddressBookLoadReport };

/** What load() found. */
export interface AddressBookLoadReport {
  /** Which file the peers came from ('none': started empty). */
  source: 'main' | 'backup' | 'none';
  peers: number;
  /** Corruption, a missing main file, refused records: each with the file kept aside. */
  problems: StoreProblem[];
  /** Uncommitted temporary files from a crash, removed. */
  removedTempFiles: string[];
}

/** Selection for list(). */
export interface PeerFilter {
  tag?: string;
  autoConnect?: boolean;
}

/** Status for the admin API. */
export interface AddressBookStatus {
  peers: number;
  maxPeers: number;
  path: string | null;
  /** Changes not yet on disk. */
  dirty: boolean;
  lastSavedAt: number | null;
  saveErrors: number;
  lastSaveError: string | null;
  lastLoad: AddressBookLoadReport | null;
}

/** Options of createAddressBook / openAddressBook. */
export interface AddressBookInit {
  /** JSON file to persist to; without it the book lives in memory only. */
  path?: string;
  /** Bound on peers (default ADDRESS_BOOK_MAX_PEERS). */
  maxPeers?: number;
  /** Delay coalescing changes into one save; false = only explicit save() (default 100). */
  autoSaveDelayMs?: number | false;
}

/** Dependencies of createAddressBook / openAddressBook. */
export interface AddressBookComponents {
  /** Wall clock in ms (default Date.now): addedAt, updatedAt, lastSeen. */
  now?: () => number;
  /** File operations (tests inject faults). */
  fs?: StoreFileSystem;
  /** Called when a change listener throws (the book and other listeners carry on). */
  onListenerError?: (err: unknown) => void;
  /** Called when a background save fails (it is also counted in status()). */
  onSaveError?: (err: PeersError) => void;
}

/** The address book. */
export interface AddressBook {
  readonly size: number;
  readonly maxPeers: number;
  get(peerId: string): PeerRecord | undefined;
  has(peerId: string): boolean;
  /** Peers in insertion order, optionally filtered. */
  list(filter?: PeerFilter): PeerRecord[];
  /**
   * Add a peer, or merge into a known one: addresses and tags are added to the existing ones,
   * metadata keys overwrite, autoConnect is set when given. PEERS_LIMIT beyond maxPeers.
   */
  add(init: PeerInit): PeerRecord;
  /** Replace the given fields of a known peer (PEERS_NOT_FOUND otherwise). */
  update(peerId: string, fields: PeerFields): PeerRecord;
  /** Remove a peer; false if unknown. */
  remove(peerId: string): boolean;
  /** Record contact with a known peer (default now); false if unknown. */
  markSeen(peerId: string, at?: number): boolean;
  /** Subscribe to changes; returns the unsubscribe function. */
  onChange(listener: (change: AddressBookChange) => void): () => void;
  /** Read the file (replacing what is in memory); problems are reported, not thrown. */
  load(): Promise<AddressBookLoadReport>;
  /** Write now (coalesced with any save in flight). PEERS_STORE_IO on failure. */
  save(): Promise<void>;
  /** Cancel the autosave timer, flush, and refuse further changes (PEERS_CLOSED). Idempotent. */
  close(): Promise<void>;
  status(): AddressBookStatus;
}

// -- file format

const fileSchema = z.object({
  version: z.literal(ADDRESS_BOOK_FILE_VERSION),
  savedAt: z.string().optional(),
  peers: z.array(z.unknown()),
});

const recordSchema = z.object({
  id: z.string(),
  addresses: z.array(z.string()).default([]),
  metadata: z.record(z.string(), z.string()).default({}),
  tags: z.array(z.string()).default([]),
  autoConnect: z.boolean().default(false),
  addedAt: z.number().finite().nonnegative(),
  updatedAt: z.number().finite().nonnegative(),
  lastSeen: z.number().finite().nonnegative().nullable().default(null),
});

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`;
}

/** Validate one stored record; throws with a message naming the field. */
function parseRecord(raw: unknown): PeerRecord {
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) throw new Error(zodMessage(parsed.error));
  const r = parsed.data;
  const id = parsePeerId(r.id).id;
  return freezeRecord({
    id,
    addresses: checkAddresses(id, r.addresses),
    metadata: checkMetadata(r.metadata),
    tags: checkTags(r.tags),
    autoConnect: r.autoConnect,
    addedAt: r.addedAt,
    updatedAt: r.updatedAt,
    lastSeen: r.lastSeen,
  });
}

function makeParser(maxPeers: number) {
  return (json: unknown): { value: PeerRecord[]; dropped: string[] } => {
    const file = fileSchema.safeParse(json);
    if (!file.success) throw new Error(`not an address book v${ADDRESS_BOOK_FILE_VERSION}: ${zodMessage(file.error)}`);
    const seen = new Set<string>();
    const value: PeerRecord[] = [];
    const dropped: string[] = [];
    for (const [i, raw] of file.data.peers.entries()) {
      let record: PeerRecord;
      try {
        record = parseRecord(raw);
      } catch (err) {
        dropped.push(`peers[${i}]: ${(err as Error).message}`);
        continue;
      }
      if (seen.has(record.id)) dropped.push(`peers[${i}]: duplicate of peer ${record.id}`);
      else if (value.length >= maxPeers) dropped.push(`peers[${i}]: over maxPeers ${maxPeers}`);
      else {
        seen.add(record.id);
        value.push(record);
      }
    }
    return { value, dropped };
  };
}

/**
 * Create an address book (in memory, or bound to `path`: call load() before changing it; or
 * use openAddressBook which does).
 *
 * @example
 * const book = createAddressBook({ maxPeers: 100 });
 * book.add({ id: peerId, addresses: ['/ip4/192.0.2.1/tcp/4001'], tags: ['bootstrap'], autoConnect: true });
 */
export function createAddressBook(init: AddressBookInit = {}, components: AddressBookComponents = {}): AddressBook {
  const maxPeers = checkInteger('maxPeers', init.maxPeers ?? ADDRESS_BOOK_MAX_PEERS, 1, 10_000_000);
  const autoSaveDelayMs = init.autoSaveDelayMs === false ? false : checkInteger('autoSaveDelayMs', init.autoSaveDelayMs ?? 100, 0, TIMER_MAX_MS);
  if (init.path !== undefined && (typeof init.path !== 'string' || init.path.length === 0)) throw invalid('path', init.path, 'a non-empty file path');
  const now = components.now ?? Date.now;
  const onListenerError = components.onListenerError ?? (() => undefined);
  const onSaveError = components.onSaveError ?? (() => undefined);
  const store: JsonFileStore<PeerRecord[]> | null =
    init.path === undefined
      ? null
      : createJsonFileStore({ path: init.path, parse: makeParser(maxPeers), maxBytes: ADDRESS_BOOK_MAX_FILE_BYTES }, components.fs === undefined ? { now } : { now, fs: components.fs });
  const peers = new Map<string, PeerRecord>();
  const listeners = new Set<(change: AddressBookChange) => void>();
  let version = 0; // bumped by every change
  let savedVersion = 0;
  let loaded = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let chain: Promise<void> = Promise.resolve();
  let lastSavedAt: number | null = null;
  let saveErrors = 0;
  let lastSaveError: string | null = null;
  let lastLoad: AddressBookLoadReport | null = null;

  const emit = (change: AddressBookChange): void => {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (err) {
        onListenerError(err);
      }
    }
  };

  const id = (peerId: string): string => parsePeerId(peerId).id;

  const lookup = (peerId: string): PeerRecord | undefined => {
    if (typeof peerId !== 'string') return undefined;
    const direct = peers.get(peerId);
    if (direct !== undefined) return direct;
    try {
      return peers.get(id(peerId));
    } catch {
      return undefined;
    }
  };

  const checkOpen = (): void => {
    if (closed) throw new PeersError('PEERS_CLOSED', 'address book is closed');
    if (store !== null && !loaded) throw new PeersError('PEERS_INVALID_ARGUMENT', `address book ${store.path} is not loaded: call load() (or use openAddressBook) before changing it`);
  };

  const changed = (change: AddressBookChange): void => {
    version++;
    emit(change);
    if (store === null || autoSaveDelayMs === false || timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      save().catch(() => undefined); // reported through onSaveError and status()
    }, autoSaveDelayMs);
    timer.unref?.();
  };

  const serialize = (): string =>
    `${JSON.stringify({ version: ADDRESS_BOOK_FILE_VERSION, savedAt: new Date(now()).toISOString(), peers: [...peers.values()] }, null, 2)}\n`;

  const writeNow = async (): Promise<void> => {
    if (store === null || version === savedVersion) return;
    const snapshot = version;
    try {
      await store.save(serialize());
    } catch (err) {
      saveErrors++;
      const e = err instanceof PeersError ? err : new PeersError('PEERS_STORE_IO', `saving ${store.path} failed: ${String(err)}`, { cause: err });
      lastSaveError = e.message;
      onSaveError(e);
      throw e;
    }
    savedVersion = snapshot;
    lastSavedAt = now();
    lastSaveError = null;
  };

  const save = (): Promise<void> => {
    const run = chain.then(writeNow);
    chain = run.catch(() => undefined);
    return run;
  };

  const mergeInto = (existing: PeerRecord, init: PeerInit, at: number): PeerRecord => {
    const addresses = init.addresses === undefined ? [...existing.addresses] : checkAddresses(existing.id, [...existing.addresses, ...init.addresses]);
    const metadata = init.metadata === undefined ? { ...existing.metadata } : checkMetadata({ ...existing.metadata, ...checkMetadata(init.metadata) });
    const tags = init.tags === undefined ? [...existing.tags] : checkTags([...existing.tags, ...checkTags(init.tags)]);
    const autoConnect = init.autoConnect === undefined ? existing.autoConnect : checkBoolean(init.autoConnect);
    return freezeRecord({ ...existing, addresses, metadata, tags, autoConnect, updatedAt: at });
  };

  const book: AddressBook = {
    get size() {
      return peers.size;
    },
    maxPeers,
    get: lookup,
    has: (peerId) => lookup(peerId) !== undefined,
    list(filter = {}) {
      const out: PeerRecord[] = [];
      for (const p of peers.values()) {
        if (filter.tag !== undefined && !p.tags.includes(filter.tag)) continue;
        if (filter.autoConnect !== undefined && p.autoConnect !== filter.autoConnect) continue;
        out.push(p);
      }
      return out;
    },
    add(init) {
      checkOpen();
      if (typeof init !== 'object' || init === null) throw invalid('peer', init, 'an object with an id');
      const peerId = id(init.id);
      const at = now();
      const existing = peers.get(peerId);
      if (existing !== undefined) {
        const merged = mergeInto(existing, init, at);
        peers.set(peerId, merged);
        changed({ type: 'updated', peer: merged, previous: existing });
        return merged;
      }
      const record = freezeRecord({
        id: peerId,
        addresses: checkAddresses(peerId, init.addresses ?? []),
        metadata: checkMetadata(init.metadata ?? {}),
        tags: checkTags(init.tags ?? []),
        autoConnect: init.autoConnect === undefined ? false : checkBoolean(init.autoConnect),
        addedAt: at,
        updatedAt: at,
        lastSeen: null,
      });
      if (peers.size >= maxPeers) {
        throw new PeersError('PEERS_LIMIT', `address book holds ${maxPeers} peers, the maximum (maxPeers); remove one first`, { details: { limit: maxPeers } });
      }
      peers.set(peerId, record);
      changed({ type: 'added', peer: record });
      return record;
    },
    update(peerId, fields) {
      checkOpen();
      const existing = lookup(peerId);
      if (existing === undefined) throw new PeersError('PEERS_NOT_FOUND', `peer ${describeValue(peerId)} is not in the address book`, { details: { peerId } });
      if (typeof fields !== 'object' || fields === null) throw invalid('fields', fields, 'an object');
      const record = freezeRecord({
        ...existing,
        addresses: fields.addresses === undefined ? existing.addresses : checkAddresses(existing.id, fields.addresses),
        metadata: fields.metadata === undefined ? existing.metadata : checkMetadata(fields.metadata),
        tags: fields.tags === undefined ? existing.tags : checkTags(fields.tags),
        autoConnect: fields.autoConnect === undefined ? existing.autoConnect : checkBoolean(fields.autoConnect),
        updatedAt: now(),
      });
      peers.set(existing.id, record);
      changed({ type: 'updated', peer: record, previous: existing });
      return record;
    },
    remove(peerId) {
      checkOpen();
      const existing = lookup(peerId);
      if (existing === undefined) return false;
      peers.delete(existing.id);
      changed({ type: 'removed', peer: existing });
      return true;
    },
    markSeen(peerId, at) {
      checkOpen();
      const existing = lookup(peerId);
      if (existing === undefined) return false;
      const seenAt = at ?? now();
      if (typeof seenAt !== 'number' || !Number.isFinite(seenAt) || seenAt < 0) throw invalid('at', seenAt, 'a wall-clock time in ms');
      const record = freezeRecord({ ...existing, lastSeen: seenAt });
      peers.set(existing.id, record);
      changed({ type: 'updated', peer: record, previous: existing });
      return true;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async load() {
      if (closed) throw new PeersError('PEERS_CLOSED', 'address book is closed');
      if (store === null) throw new PeersError('PEERS_INVALID_ARGUMENT', 'address book has no path to load from');
      await chain; // never read while our own write is in flight
      const result = await store.load();
      peers.clear();
      for (const record of result.value ?? []) peers.set(record.id, record);
      loaded = true;
      savedVersion = version;
      const report: AddressBookLoadReport = { source: result.source, peers: peers.size, problems: result.problems, removedTempFiles: result.removedTempFiles };
      lastLoad = report;
      emit({ type: 'loaded', report });
      return report;
    },
    save() {
      if (store !== null && !loaded) return Promise.reject(new PeersError('PEERS_INVALID_ARGUMENT', `address book ${store.path} is not loaded: call load() before save()`));
      return save();
    },
    async close() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      if (closed) return chain;
      closed = true;
      if (store !== null && loaded) await save();
    },
    status() {
      return {
        peers: peers.size,
        maxPeers,
        path: store?.path ?? null,
        dirty: store !== null && version !== savedVersion,
        lastSavedAt,
        saveErrors,
        lastSaveError,
        lastLoad,
      };
    },
  };
  return book;
}

function checkBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw invalid('autoConnect', value, 'a boolean');
}

/**
 * Create an address book bound to `path` and load it. Corruption never throws: inspect
 * `book.status().lastLoad.problems` (and log them); only real I/O errors do (PEERS_STORE_IO).
 *
 * @example
 * const book = await openAddressBook({ path: '/var/lib/edgebox/p2p/peers.json' });
 * for (const p of book.status().lastLoad!.problems) log.warn(p, 'address book problem');
 * for (const peer of book.list({ autoConnect: true })) dial(peer);
 */
export async function openAddressBook(init: AddressBookInit & { path: string }, components: AddressBookComponents = {}): Promise<AddressBook> {
  if (typeof init?.path !== 'string' || init.path.length === 0) throw invalid('path', init?.path, 'a non-empty file path');
  const book = createAddressBook(init, components);
  await book.load();
  return book;
}
