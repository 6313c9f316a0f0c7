// Address book in memory: add/merge/update/remove, validation, bounds, events.
import { describe, expect, it } from 'vitest';
import { createAddressBook, isPeersError, peerIdFromPublicKey, peerIdToCid, type AddressBookChange } from '../src/index.js';
import { manualClock } from './helpers.js';

const alice = peerIdFromPublicKey(new Uint8Array(32).fill(1));
const bob = peerIdFromPublicKey(new Uint8Array(32).fill(2));
const carol = peerIdFromPublicKey(new Uint8Array(32).fill(3));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPeersError(err) ? err.code : 'not a PeersError';
  }
  return undefined;
}

describe('address book records', () => {
  it('adds a peer with validated fields and timestamps, and finds it by either id form', () => {
    const clock = manualClock(1_700_000_000_000);
    const book = createAddressBook({}, { now: clock.now });
    const rec = book.add({ id: alice, addresses: ['/ip4/192.0.2.1/tcp/4001', '/ip4/192.0.2.1/tcp/4001'], metadata: { name: 'gw-1' }, tags: ['bootstrap'], autoConnect: true });
    expect(rec).toEqual({
      id: alice,
      addresses: ['/ip4/192.0.2.1/tcp/4001'],
      metadata: { name: 'gw-1' },
      tags: ['bootstrap'],
      autoConnect: true,
      addedAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
      lastSeen: null,
    });
    expect(book.get(peerIdToCid(alice))).toBe(rec);
    expect(book.has(alice)).toBe(true);
    expect(book.has('garbage')).toBe(false);
    expect(book.get(42 as unknown as string)).toBeUndefined();
    expect(book.size).toBe(1);
  });

  it('records are frozen: callers cannot change the book behind its back', () => {
    const book = createAddressBook();
    const rec = book.add({ id: alice, addresses: ['/memory/a'], metadata: { k: 'v' }, tags: ['t'] });
    expect(Object.isFrozen(rec)).toBe(true);
    expect(Object.isFrozen(rec.addresses)).toBe(true);
    expect(Object.isFrozen(rec.metadata)).toBe(true);
    expect(() => (rec.addresses as string[]).push('/memory/b')).toThrow(TypeError);
  });

  it('adding a known peer merges: addresses and tags unioned, metadata keys overwritten', () => {
    const clock = manualClock(1000);
    const book = createAddressBook({}, { now: clock.now });
    book.add({ id: alice, addresses: ['/memory/a'], metadata: { name: 'a', site: 'x' }, tags: ['t1'] });
    clock.advance(5);
    const merged = book.add({ id: alice, addresses: ['/memory/b', '/memory/a'], metadata: { site: 'y' }, tags: ['t2', 't1'], autoConnect: true });
    expect(merged).toMatchObject({ addresses: ['/memory/a', '/memory/b'], metadata: { name: 'a', site: 'y' }, tags: ['t1', 't2'], autoConnect: true, addedAt: 1000, updatedAt: 1005 });
    expect(book.add({ id: alice }).autoConnect).toBe(true);
  });

  it('update replaces only the given fields; unknown peers are PEERS_NOT_FOUND', () => {
    const book = createAddressBook();
    book.add({ id: alice, addresses: ['/memory/a'], metadata: { a: '1' }, tags: ['x'] });
    const rec = book.update(alice, { addresses: ['/memory/z'], autoConnect: true });
    expect(rec).toMatchObject({ addresses: ['/memory/z'], metadata: { a: '1' }, tags: ['x'], autoConnect: true });
    expect(book.update(alice, { metadata: {}, tags: [] })).toMatchObject({ metadata: {}, tags: [] });
    expect(codeOf(() => book.update(bob, {}))).toBe('PEERS_NOT_FOUND');
    expect(() => book.update(bob, {})).toThrow(`peer "${bob.slice(0, 48)}..." is not in the address book`);
    expect(() => book.update(alice, null as never)).toThrow('fields null is not an object');
  });

  it('lists in insertion order with tag and autoConnect filters; markSeen and remove', () => {
    const book = createAddressBook();
    book.add({ id: alice, tags: ['boot'], autoConnect: true });
    book.add({ id: bob, tags: ['boot'] });
    book.add({ id: carol });
    expect(book.list().map((p) => p.id)).toEqual([alice, bob, carol]);
    expect(book.list({ tag: 'boot' }).map((p) => p.id)).toEqual([alice, bob]);
    expect(book.list({ autoConnect: true }).map((p) => p.id)).toEqual([alice]);
    expect(book.list({ autoConnect: false, tag: 'boot' }).map((p) => p.id)).toEqual([bob]);
    expect(book.markSeen(bob, 123)).toBe(true);
    expect(book.get(bob)?.lastSeen).toBe(123);
    expect(book.markSeen(peerIdFromPublicKey(new Uint8Array(32).fill(9)))).toBe(false);
    expect(() => book.markSeen(bob, -1)).toThrow('at -1 is not a wall-clock time in ms');
    expect(book.remove(bob)).toBe(true);
    expect(book.remove(bob)).toBe(false);
    expect(book.size).toBe(2);
  });

  it('emits added/updated/removed with the previous record, isolating a throwing listener', () => {
    const errors: unknown[] = [];
    const book = createAddressBook({}, { onListenerError: (e) => errors.push(e) });
    const changes: AddressBookChange[] = [];
    book.onChange(() => {
      throw new Error('listener bug');
    });
    const off = book.onChange((c) => changes.push(c));
    const a = book.add({ id: alice });
    const a2 = book.update(alice, { tags: ['x'] });
    book.markSeen(alice, 5);
    book.remove(alice);
    off();
    book.add({ id: bob });
    expect(changes.map((c) => c.type)).toEqual(['added', 'updated', 'updated', 'removed']);
    expect(changes[1]).toEqual({ type: 'updated', peer: a2, previous: a });
    expect(errors).toHaveLength(5);
  });
});

describe('address book validation and bounds', () => {
  it('refuses a new peer beyond maxPeers with PEERS_LIMIT but still merges known ones', () => {
    const book = createAddressBook({ maxPeers: 2 });
    book.add({ id: alice });
    book.add({ id: bob });
    expect(codeOf(() => book.add({ id: carol }))).toBe('PEERS_LIMIT');
    expect(() => book.add({ id: carol })).toThrow('address book holds 2 peers, the maximum (maxPeers); remove one first');
    expect(book.add({ id: alice, tags: ['ok'] }).tags).toEqual(['ok']);
    book.remove(bob);
    expect(book.add({ id: carol }).id).toBe(carol);
  });

  it.each([
    ['a bad peer id', { id: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }, 'PEERS_INVALID_PEER_ID', /sha2-256/],
    ['a bad multiaddr', { id: alice, addresses: ['/ip4/1.2.3.4/tcp/99999'] }, 'PEERS_INVALID_ADDRESS', /not a port/],
    ['addresses not an array', { id: alice, addresses: '/memory/a' }, 'PEERS_INVALID_ADDRESS', /addresses "\/memory\/a" is not an array/],
    ['a multiaddr naming another peer', { id: alice, addresses: [`/memory/x/p2p/${bob}`] }, 'PEERS_INVALID_ADDRESS', /addresses\[0\] .* names peer 12D3KooW.*, not 12D3KooW/],
    ['too many addresses', { id: alice, addresses: Array.from({ length: 17 }, (_, i) => `/memory/m${i}`) }, 'PEERS_LIMIT', /addresses has 17 addresses > max 16/],
    ['a metadata key with a slash', { id: alice, metadata: { 'a/b': 'x' } }, 'PEERS_INVALID_METADATA', /metadata key "a\/b" is not a key matching/],
    ['a __proto__ metadata key', { id: alice, metadata: JSON.parse('{"__proto__": "x"}') as Record<string, string> }, 'PEERS_INVALID_METADATA', /metadata key "__proto__"/],
    ['a non-string metadata value', { id: alice, metadata: { n: 5 } }, 'PEERS_INVALID_METADATA', /metadata\.n 5 is not a string/],
    ['metadata not an object', { id: alice, metadata: ['x'] }, 'PEERS_INVALID_METADATA', /metadata array\(1\) is not an object/],
    ['too many metadata keys', { id: alice, metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, 'PEERS_INVALID_METADATA', /33 keys > max 32/],
    ['metadata over 4096 bytes', { id: alice, metadata: { big: 'é'.repeat(2100) } }, 'PEERS_INVALID_METADATA', /metadata is \d+ bytes as JSON > max 4096/],
    ['a bad tag', { id: alice, tags: ['has space'] }, 'PEERS_INVALID_METADATA', /tags\[0\] "has space" is not a tag/],
    ['tags not an array', { id: alice, tags: 'x' }, 'PEERS_INVALID_METADATA', /tags "x" is not an array/],
    ['too many tags', { id: alice, tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }, 'PEERS_INVALID_METADATA', /17 tags > max 16/],
    ['a non-boolean autoConnect', { id: alice, autoConnect: 'yes' }, 'PEERS_INVALID_ARGUMENT', /autoConnect "yes" is not a boolean/],
  ])('refuses %s, naming the field', (_name, init, code, message) => {
    const book = createAddressBook();
    expect(codeOf(() => book.add(init as never))).toBe(code);
    expect(() => book.add(init as never)).toThrow(message);
    expect(book.size).toBe(0);
  });

  it('a refused merge leaves the existing record untouched', () => {
    const book = createAddressBook();
    const before = book.add({ id: alice, addresses: ['/memory/a'], metadata: { k: 'v' } });
    expect(() => book.add({ id: alice, addresses: ['/bogus'] })).toThrow();
    expect(() => book.add({ id: alice, metadata: { 'bad key': 'x' } })).toThrow();
    expect(() => book.add({ id: alice, tags: [''] })).toThrow();
    expect(() => book.add({ id: alice, autoConnect: 1 as never })).toThrow();
    expect(() => book.update(alice, { addresses: ['nope'] })).toThrow();
    expect(book.get(alice)).toBe(before);
  });

  it('validates its options and inputs', () => {
    expect(() => createAddressBook({ maxPeers: 0 })).toThrow('maxPeers 0 is not an integer in 1..10000000');
    expect(() => createAddressBook({ autoSaveDelayMs: -1 })).toThrow('autoSaveDelayMs -1 is not an integer');
    expect(() => createAddressBook({ path: '' })).toThrow('path "" is not a non-empty file path');
    expect(() => createAddressBook().add(null as never)).toThrow('peer null is not an object with an id');
  });

  it('an in-memory book has nothing to load and saves as a no-op', async () => {
    const book = createAddressBook();
    await expect(book.load()).rejects.toThrow('address book has no path to load from');
    book.add({ id: alice });
    await book.save();
    expect(book.status()).toMatchObject({ peers: 1, path: null, dirty: false, lastSavedAt: null });
    await book.close();
    expect(codeOf(() => book.add({ id: bob }))).toBe('PEERS_CLOSED');
    await book.close();
  });
});
