// Access list: allow/block by peer id and CIDR, deny overriding allow, expiry on the wall clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAccessList, isPeersError, peerIdFromPublicKey, peerIdToCid, type AccessChange } from '../src/index.js';

const alice = peerIdFromPublicKey(new Uint8Array(32).fill(1));
const bob = peerIdFromPublicKey(new Uint8Array(32).fill(2));
const carol = peerIdFromPublicKey(new Uint8Array(32).fill(3));

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('access list decisions', () => {
  it('open list: allows by default, blocks a listed peer with its reason', () => {
    const acl = createAccessList();
    acl.blockPeer(bob, { reason: 'spam' });
    expect(acl.check(alice)).toEqual({ allowed: true, reason: 'no rule matched (default allow)', rule: null });
    const d = acl.check(bob);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('peer blocked: spam');
    expect(d.rule).toMatchObject({ target: 'peer', value: bob, action: 'block', reason: 'spam', expiresAt: null });
  });

  it('allow list: refuses unknown peers, admits listed peers and networks', () => {
    const acl = createAccessList({ defaultAction: 'block' });
    acl.allowPeer(alice, { reason: 'fleet' });
    acl.allowCidr('10.0.0.0/8', { reason: 'lan' });
    expect(acl.check(alice)).toMatchObject({ allowed: true, reason: 'peer allowed: fleet' });
    expect(acl.check(bob)).toMatchObject({ allowed: false, reason: 'not on the allow list', rule: null });
    expect(acl.check(bob, '/ip4/10.1.2.3/tcp/4001')).toMatchObject({ allowed: true, reason: 'address allowed by 10.0.0.0/8: lan' });
    expect(acl.check(bob, '192.0.2.1')).toMatchObject({ allowed: false });
  });

  it('deny overrides allow: a blocked network refuses even an allowed peer', () => {
    const acl = createAccessList();
    acl.allowPeer(alice);
    acl.blockCidr('203.0.113.0/24', { reason: 'abuse' });
    expect(acl.check(alice, '/ip4/203.0.113.9/tcp/1')).toMatchObject({ allowed: false, reason: 'address blocked by 203.0.113.0/24: abuse' });
    expect(acl.check(alice, '::ffff:203.0.113.9')).toMatchObject({ allowed: false });
    expect(acl.check(alice, '/ip4/198.51.100.1/tcp/1')).toMatchObject({ allowed: true, reason: 'peer allowed: allowed' });
  });

  it('picks the most specific matching network for the reason', () => {
    const acl = createAccessList({ defaultAction: 'block' });
    acl.allowCidr('10.0.0.0/8', { reason: 'wide' });
    acl.allowCidr('10.1.0.0/16', { reason: 'narrow' });
    expect(acl.check(alice, '10.1.2.3').reason).toBe('address allowed by 10.1.0.0/16: narrow');
    expect(acl.check(alice, '10.2.0.1').reason).toBe('address allowed by 10.0.0.0/8: wide');
  });

  it('one rule per peer: blocking an allowed peer replaces the allow rule', () => {
    const acl = createAccessList();
    const changes: AccessChange[] = [];
    acl.onChange((c) => changes.push(c));
    acl.allowPeer(alice);
    acl.blockPeer(alice, { reason: 'compromised' });
    expect(acl.size).toBe(1);
    expect(acl.getPeer(alice)?.action).toBe('block');
    expect(changes.map((c) => c.type)).toEqual(['added', 'replaced']);
  });

  it('matches a CID-form peer id against rules set with the base58 form', () => {
    const acl = createAccessList();
    acl.blockPeer(peerIdToCid(bob));
    expect(acl.check(bob).allowed).toBe(false);
    expect(acl.check(peerIdToCid(bob)).allowed).toBe(false);
    expect(acl.getPeer(peerIdToCid(bob))?.value).toBe(bob);
  });

  it('fails closed on an invalid peer id or address, and ignores CIDRs for addresses without an IP', () => {
    const acl = createAccessList();
    acl.blockCidr('0.0.0.0/0');
    expect(acl.check('nope')).toMatchObject({ allowed: false, reason: 'peer id "nope" is not valid' });
    expect(acl.check(alice, 'not-an-address')).toMatchObject({ allowed: false, reason: 'address "not-an-address" is not an IP address or multiaddr' });
    expect(acl.check(alice, '/ip4/1.2.3.4/bogus')).toMatchObject({ allowed: false });
    expect(acl.check(alice, 7 as unknown as string)).toMatchObject({ allowed: false });
    expect(acl.check(alice, '/dns4/example.com/tcp/1')).toMatchObject({ allowed: true });
    expect(acl.check(alice, '/memory/a')).toMatchObject({ allowed: true });
    expect(acl.getPeer('nope')).toBeUndefined();
  });

  it('assertAllowed throws PEERS_ACCESS_DENIED with the reason', () => {
    const acl = createAccessList();
    acl.blockPeer(bob, { reason: 'spam' });
    expect(() => acl.assertAllowed(alice)).not.toThrow();
    expect(() => acl.assertAllowed(bob)).toThrow(/refused: peer blocked: spam/);
    try {
      acl.assertAllowed(bob, '192.0.2.1');
    } catch (err) {
      expect(isPeersError(err, 'PEERS_ACCESS_DENIED')).toBe(true);
      expect((err as { details: Record<string, unknown> }).details.address).toBe('192.0.2.1');
    }
  });
});

describe('access list expiry', () => {
  it('a block with a ttl lifts at expiry, and the expiry is reported once', () => {
    const acl = createAccessList();
    const changes: AccessChange[] = [];
    acl.onChange((c) => changes.push(c));
    acl.blockPeer(bob, { reason: 'cool off', ttlMs: 60_000 });
    vi.advanceTimersByTime(59_999);
    expect(acl.check(bob).allowed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(acl.check(bob)).toMatchObject({ allowed: true, rule: null });
    expect(acl.size).toBe(0);
    expect(acl.check(bob).allowed).toBe(true);
    expect(changes.map((c) => c.type)).toEqual(['added', 'expired']);
  });

  it('an absolute expiresAt wins over ttlMs; CIDR rules expire too', () => {
    const acl = createAccessList();
    const t0 = Date.now();
    acl.blockCidr('192.0.2.0/24', { expiresAt: t0 + 1000, ttlMs: 999_999 });
    acl.blockCidr('198.51.100.0/24', { ttlMs: 5000 });
    expect(acl.check(alice, '192.0.2.5').allowed).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(acl.check(alice, '192.0.2.5').allowed).toBe(true);
    expect(acl.check(alice, '198.51.100.5').allowed).toBe(false);
    expect(acl.list().map((e) => e.value)).toEqual(['198.51.100.0/24']);
  });

  it('prune drops every expired rule and list() shows only live ones', () => {
    const acl = createAccessList();
    acl.blockPeer(alice, { ttlMs: 10 });
    acl.allowPeer(bob, { ttlMs: 20 });
    acl.blockPeer(carol);
    acl.allowCidr('10.0.0.0/8', { ttlMs: 10 });
    vi.advanceTimersByTime(15);
    expect(acl.prune()).toBe(2);
    expect(acl.list().map((e) => e.value)).toEqual([bob, carol]);
    vi.advanceTimersByTime(5);
    expect(acl.getPeer(bob)).toBeUndefined();
    expect(acl.size).toBe(1);
  });

  it('restores saved rules with their creation time, skipping ones that expired meanwhile', () => {
    const first = createAccessList();
    first.blockPeer(alice, { reason: 'a', ttlMs: 1000 });
    first.blockPeer(bob, { reason: 'b' });
    first.allowCidr('10.0.0.0/8', { reason: 'lan', ttlMs: 10_000 });
    const saved = JSON.parse(JSON.stringify(first.list())) as ReturnType<typeof first.list>;
    vi.advanceTimersByTime(2000);
    const second = createAccessList({ entries: saved });
    expect(second.list().map((e) => [e.value, e.reason])).toEqual([[bob, 'b'], ['10.0.0.0/8', 'lan']]);
    expect(second.list()[0]!.createdAt).toBe(saved[1]!.createdAt);
    expect(() => createAccessList({ entries: [{ ...saved[1]!, action: 'maybe' as 'allow' }] })).toThrow("entries[].action \"maybe\" is not 'allow' or 'block'");
    expect(() => createAccessList({ entries: [{ ...saved[1]!, target: 'host' as 'peer' }] })).toThrow(/entries\[\]\.target/);
    expect(() => createAccessList({ entries: [null as never] })).toThrow(/entries\[\] null/);
  });
});

describe('access list bounds and validation', () => {
  it('refuses a rule beyond maxEntries with PEERS_LIMIT, after pruning expired rules first', () => {
    const acl = createAccessList({ maxEntries: 2 });
    acl.blockPeer(alice, { ttlMs: 10 });
    acl.blockPeer(bob);
    acl.blockPeer(bob, { reason: 'replacing does not need room' });
    let caught: unknown;
    try {
      acl.blockPeer(carol);
    } catch (err) {
      caught = err;
    }
    expect(isPeersError(caught, 'PEERS_LIMIT')).toBe(true);
    vi.advanceTimersByTime(10);
    acl.blockPeer(carol);
    expect(acl.list().map((e) => e.value)).toEqual([bob, carol]);
  });

  it('removes rules by peer id and by any spelling of a CIDR', () => {
    const acl = createAccessList();
    acl.blockPeer(alice);
    acl.blockCidr('10.1.2.3/8');
    expect(acl.removePeer(alice)).toBe(true);
    expect(acl.removePeer(alice)).toBe(false);
    expect(acl.removeCidr('10.0.0.0/8')).toBe(true);
    expect(acl.removeCidr('10.0.0.0/8')).toBe(false);
  });

  it('validates arguments with messages naming field, value and expectation', () => {
    expect(() => createAccessList({ defaultAction: 'deny' as 'block' })).toThrow(`defaultAction "deny" is not 'allow' or 'block'`);
    expect(() => createAccessList({ maxEntries: 0 })).toThrow('maxEntries 0 is not an integer in 1..10000000');
    const acl = createAccessList();
    expect(() => acl.blockPeer('x')).toThrow(/peer id "x"/);
    expect(() => acl.blockCidr('10.0.0.0/40')).toThrow(/prefix length/);
    expect(() => acl.blockPeer(alice, { reason: 'r'.repeat(257) })).toThrow(/reason "r+\.\.\." is not a string of at most 256 characters/);
    expect(() => acl.blockPeer(alice, { ttlMs: 0 })).toThrow('ttlMs 0 is not an integer');
    expect(() => acl.blockPeer(alice, { expiresAt: Number.NaN })).toThrow('expiresAt NaN is not a number');
    expect(() => acl.blockPeer(alice, null as never)).toThrow('rule options null is not an object');
  });

  it('a throwing listener does not stop the change or other listeners', () => {
    const errors: unknown[] = [];
    const acl = createAccessList({}, { onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    const off = acl.onChange(() => {
      throw new Error('listener bug');
    });
    acl.onChange((c) => seen.push(c.type));
    acl.blockPeer(alice);
    off();
    acl.removePeer(alice);
    expect(seen).toEqual(['added', 'removed']);
    expect(errors).toHaveLength(1);
    // default handler swallows
    const quiet = createAccessList();
    quiet.onChange(() => {
      throw new Error('x');
    });
    expect(() => quiet.blockPeer(alice)).not.toThrow();
  });
});
