// Session table (bonding.md §1, §6): lookup by receiver index, rekey with a grace period for
// the old session, idle and lifetime expiry by one coarse sweep, bounded client count.
import { describe, expect, it } from 'vitest';
import { TYPE_DATA } from '../src/constants.js';
import { createInnerHeader } from '../src/inner-header.js';
import { createSession, OPEN_EXPIRED, OPEN_OK, peekReceiverIndex, type BondingSession } from '../src/session.js';
import { clientKeyOf, createSessionTable } from '../src/session-table.js';
import { counting, resultPair } from './helpers.js';

const header = createInnerHeader();
const out = new Uint8Array(256);

/** A client/server session pair; the server side has index `serverIndex`. */
function sessions(serverIndex: number, nowMs: number, pskId = 'site-a', init: { rejectAfterMs?: number; rekeyAfterMs?: number } = {}) {
  const r = resultPair('chacha20-poly1305', { client: 1000 + serverIndex, server: serverIndex }, pskId);
  return { client: createSession(r.client, { nowMs, ...init }), server: createSession(r.server, { nowMs, ...init }) };
}

function datagram(from: BondingSession): Uint8Array {
  return out.slice(0, from.seal(TYPE_DATA, header, counting(10), out));
}

/** What a server's receive loop does: find by index, open. */
function receive(table: ReturnType<typeof createSessionTable>, d: Uint8Array, nowMs: number): string {
  const hit = table.lookup(peekReceiverIndex(d));
  if (hit === undefined) return 'unknown';
  return hit.session.open(d, nowMs) === OPEN_OK ? `ok:${hit.client.key}` : 'dropped';
}

describe('session table', () => {
  it('finds sessions by receiver index and clients by key', () => {
    const table = createSessionTable<{ note: string }>();
    const a = sessions(1, 0, 'a');
    const b = sessions(2, 0, 'b');
    expect(table.install(clientKeyOf(a.server.peer), a.server, 0)).toBe('installed');
    expect(table.install(clientKeyOf(b.server.peer), b.server, 0)).toBe('installed');
    expect(table.clients).toBe(2);
    expect(table.sessions).toBe(2);
    expect(receive(table, datagram(a.client), 1)).toBe('ok:psk:a');
    expect(receive(table, datagram(b.client), 1)).toBe('ok:psk:b');
    expect(table.lookup(3)).toBeUndefined();
    const entry = table.client('psk:a')!;
    expect(entry.current).toBe(a.server);
    entry.context = { note: 'links' };
    expect(table.lookup(1)!.client.context).toEqual({ note: 'links' });
    expect([...table.entries()].map((e) => e.key)).toEqual(['psk:a', 'psk:b']);
  });

  it('keys certificate peers by fingerprint', () => {
    expect(
      clientKeyOf({ kind: 'certificate', commonName: 'x', publicKey: new Uint8Array(32), serialHex: '01', fingerprintSha256: 'ab'.repeat(32), notAfter: new Date(0) }),
    ).toBe(`cert:${'ab'.repeat(32)}`);
  });

  it('rekey: the new session sends, the old one still opens during the grace period, then is destroyed', () => {
    const table = createSessionTable({ graceMs: 10_000 });
    const old = sessions(1, 0);
    table.install('psk:site-a', old.server, 0);
    const inFlight = datagram(old.client);
    const fresh = sessions(2, 100_000);
    expect(table.install('psk:site-a', fresh.server, 100_000)).toBe('replaced');
    expect(table.clients).toBe(1);
    expect(table.sessions).toBe(2);
    const entry = table.client('psk:site-a')!;
    expect(entry.current).toBe(fresh.server);
    expect(entry.previous).toBe(old.server);
    expect(entry.previousUntilMs).toBe(110_000);
    expect(receive(table, inFlight, 105_000)).toBe('ok:psk:site-a');
    expect(receive(table, datagram(fresh.client), 105_000)).toBe('ok:psk:site-a');
    expect(table.sweep(109_999)).toBe(0);
    expect(table.sweep(110_000)).toBe(1);
    expect(old.server.destroyed).toBe(true);
    expect(table.lookup(1)).toBeUndefined();
    expect(table.sessions).toBe(1);
    expect(table.counters).toMatchObject({ installed: 1, replaced: 1, expiredGrace: 1 });
  });

  it('a second rekey within the grace period destroys the oldest session at once', () => {
    const table = createSessionTable();
    const s1 = sessions(1, 0);
    const s2 = sessions(2, 0);
    const s3 = sessions(3, 0);
    table.install('k', s1.server, 0);
    table.install('k', s2.server, 1);
    expect(table.install('k', s3.server, 2)).toBe('replaced');
    expect(s1.server.destroyed).toBe(true);
    expect(table.lookup(1)).toBeUndefined();
    expect(table.lookup(2)!.session).toBe(s2.server);
    expect(table.sessions).toBe(2);
  });

  it('removes a client idle for idleMs (no authentic datagram on either session)', () => {
    const table = createSessionTable({ idleMs: 1000 });
    const a = sessions(1, 0);
    table.install('a', a.server, 0);
    expect(receive(table, datagram(a.client), 500)).toBe('ok:a');
    expect(table.sweep(1499)).toBe(0);
    expect(table.sweep(1500)).toBe(1);
    expect(table.clients).toBe(0);
    expect(a.server.destroyed).toBe(true);
    expect(table.counters.expiredIdle).toBe(1);
  });

  it('removes a client whose current session passed its hard lifetime', () => {
    const table = createSessionTable({ idleMs: 1_000_000 });
    const a = sessions(1, 0, 'a', { rekeyAfterMs: 100, rejectAfterMs: 200 });
    table.install('a', a.server, 0);
    const d = datagram(a.client);
    table.sweep(150);
    expect(a.server.needsRekey).toBe(true);
    expect(table.clients).toBe(1);
    expect(receive(table, d, 199)).toBe('ok:a');
    expect(table.sweep(200)).toBe(1);
    expect(table.counters.expiredLifetime).toBe(1);
    expect(a.server.open(datagram(a.client), 200)).toBe(OPEN_EXPIRED);
  });

  it('a replaced session past its lifetime ends before its grace period does', () => {
    const table = createSessionTable({ graceMs: 10_000 });
    const old = sessions(1, 0, 'a', { rejectAfterMs: 1_000, rekeyAfterMs: 500 });
    table.install('a', old.server, 0);
    table.install('a', sessions(2, 900).server, 900);
    expect(table.sweep(1000)).toBe(1);
    expect(table.client('a')!.previous).toBeNull();
    expect(table.clients).toBe(1);
  });

  it('is bounded: a new client over maxClients is refused, a known client may still rekey', () => {
    const table = createSessionTable({ maxClients: 2 });
    table.install('a', sessions(1, 0).server, 0);
    table.install('b', sessions(2, 0).server, 0);
    const c = sessions(3, 0);
    expect(table.install('c', c.server, 0)).toBe('full');
    expect(c.server.destroyed).toBe(false); // still the caller's
    expect(table.install('a', sessions(4, 0).server, 0)).toBe('replaced');
    expect(table.clients).toBe(2);
    expect(table.counters.refusedFull).toBe(1);
  });

  it('refuses a receiver index already in use', () => {
    const table = createSessionTable();
    const a = sessions(1, 0);
    table.install('a', a.server, 0);
    expect(table.install('b', sessions(1, 0).server, 0)).toBe('collision');
    expect(table.install('a', a.server, 0)).toBe('collision');
    expect(table.counters.refusedCollision).toBe(2);
    expect(table.clients).toBe(1);
  });

  it('remove() and clear() destroy what they drop', () => {
    const table = createSessionTable();
    const a = sessions(1, 0);
    const b = sessions(2, 0);
    const b2 = sessions(3, 0);
    table.install('a', a.server, 0);
    table.install('b', b.server, 0);
    table.install('b', b2.server, 0);
    expect(table.remove('a')).toBe(true);
    expect(table.remove('a')).toBe(false);
    expect(a.server.destroyed).toBe(true);
    table.clear();
    expect(b.server.destroyed && b2.server.destroyed).toBe(true);
    expect(table.clients + table.sessions).toBe(0);
    expect(table.counters.removed).toBe(1);
  });

  it.each([
    ['maxClients', { maxClients: 0 }],
    ['idleMs', { idleMs: 0.5 }],
    ['graceMs', { graceMs: -1 }],
  ] as const)('refuses a bad %s', (name, init) => {
    expect(() => createSessionTable(init)).toThrow(name);
  });
});
