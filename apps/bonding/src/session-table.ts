/**
 * The server's sessions (bonding.md §1, §6): many clients, each with a current session (seal
 * and open) and, for REKEY_GRACE_MS after a rekey, its previous one (open only), so datagrams
 * in flight under the old keys still land.
 *
 *   byIndex: Map<receiver index, IndexEntry>  ──► hot path: one Map lookup per datagram
 *   byKey:   Map<client key, ClientEntry>     ──► send path and management
 *
 *   ClientEntry { key, current, previous | null, previousUntilMs, context }
 *
 * A client is named by a stable key (`clientKeyOf(peer)`: PSK id or certificate fingerprint),
 * so a rekey replaces the client's session instead of adding a client. Bounded: a new client
 * over `maxClients` is refused. One coarse `sweep(nowMs)` expires grace periods, idle clients
 * and sessions past their hard lifetime: no timer per session.
 */
import type { HandshakePeer } from '@edgebox/crypto';
import { REKEY_GRACE_MS, SESSION_IDLE_MS, SESSION_TABLE_MAX_CLIENTS } from './constants.js';
import { invalidArgument } from './errors.js';
import type { BondingSession } from './session.js';

/** Options of createSessionTable(). */
export interface SessionTableInit {
  /** Most clients at once (default 1024). */
  maxClients?: number;
  /** A client with no authentic datagram for this long is removed (default 180 s). */
  idleMs?: number;
  /** How long a replaced session still opens datagrams (default 10 s). */
  graceMs?: number;
}

/** One client: its current session and, during a grace period, the previous one. */
export interface ClientEntry<C> {
  readonly key: string;
  /** Seals everything we send to this client; opens too. */
  readonly current: BondingSession;
  /** The session before the last rekey: opens until `previousUntilMs`, then destroyed. */
  readonly previous: BondingSession | null;
  readonly previousUntilMs: number;
  /** Free for the app (endpoint per link, reorder buffer, ...). */
  context: C | undefined;
}

/** What a receiver index resolves to: reused objects, no allocation per lookup. */
export interface IndexEntry<C> {
  readonly session: BondingSession;
  readonly client: ClientEntry<C>;
}

/** Outcome of install(). */
export type InstallOutcome = 'installed' | 'replaced' | 'full' | 'collision';

/** Counters of a session table: plain numbers. */
export interface SessionTableCounters {
  installed: number;
  replaced: number;
  refusedFull: number;
  refusedCollision: number;
  expiredGrace: number;
  expiredIdle: number;
  expiredLifetime: number;
  removed: number;
}

/** Sessions of many clients, found by receiver index. */
export interface SessionTable<C = unknown> {
  /** Clients in the table. */
  readonly clients: number;
  /** Sessions in the table (current + previous). */
  readonly sessions: number;
  readonly maxClients: number;
  readonly counters: SessionTableCounters;
  /**
   * Add `session` as `key`'s current session. 'installed' for a new client, 'replaced' when
   * the client's old current session became `previous` (an older previous is destroyed),
   * 'full' (new client over maxClients) or 'collision' (its localIndex is taken): in those
   * two cases nothing changed and the caller still owns (and should destroy) `session`.
   */
  install(key: string, session: BondingSession, nowMs: number): InstallOutcome;
  /** The session and client for a receiver index (the datagram's bytes 4..7). */
  lookup(index: number): IndexEntry<C> | undefined;
  /** A client by key. */
  client(key: string): ClientEntry<C> | undefined;
  /** Remove a client, destroying its sessions. False when unknown. */
  remove(key: string): boolean;
  /** Coarse timer: tick every session, end grace periods, remove idle or expired clients. Returns sessions destroyed. */
  sweep(nowMs: number): number;
  /** Every client (cold: status pages). */
  entries(): IterableIterator<ClientEntry<C>>;
  /** Destroy everything. */
  clear(): void;
}

/**
 * A stable client key for a handshake peer: `psk:<id>` or `cert:<sha256 fingerprint>`.
 *
 * @example table.install(clientKeyOf(session.peer), session, now);
 */
export function clientKeyOf(peer: HandshakePeer): string {
  return peer.kind === 'psk' ? `psk:${peer.pskId}` : `cert:${peer.fingerprintSha256}`;
}

class Client<C> implements ClientEntry<C> {
  previous: BondingSession | null = null;
  previousUntilMs = 0;
  context: C | undefined = undefined;
  constructor(
    readonly key: string,
    public current: BondingSession,
  ) {}
}

class Index<C> implements IndexEntry<C> {
  constructor(
    readonly session: BondingSession,
    readonly client: Client<C>,
  ) {}
}

class Table<C> implements SessionTable<C> {
  readonly counters: SessionTableCounters = {
    installed: 0,
    replaced: 0,
    refusedFull: 0,
    refusedCollision: 0,
    expiredGrace: 0,
    expiredIdle: 0,
    expiredLifetime: 0,
    removed: 0,
  };
  private readonly byIndex = new Map<number, Index<C>>();
  private readonly byKey = new Map<string, Client<C>>();

  constructor(
    readonly maxClients: number,
    private readonly idleMs: number,
    private readonly graceMs: number,
  ) {}

  get clients(): number {
    return this.byKey.size;
  }

  get sessions(): number {
    return this.byIndex.size;
  }

  install(key: string, session: BondingSession, nowMs: number): InstallOutcome {
    if (this.byIndex.has(session.localIndex)) {
      this.counters.refusedCollision++;
      return 'collision';
    }
    const client = this.byKey.get(key);
    if (client === undefined) {
      if (this.byKey.size >= this.maxClients) {
        this.counters.refusedFull++;
        return 'full';
      }
      const fresh = new Client<C>(key, session);
      this.byKey.set(key, fresh);
      this.byIndex.set(session.localIndex, new Index(session, fresh));
      this.counters.installed++;
      return 'installed';
    }
    if (client.previous !== null) this.drop(client.previous);
    client.previous = client.current;
    client.previousUntilMs = nowMs + this.graceMs;
    client.current = session;
    this.byIndex.set(session.localIndex, new Index(session, client));
    this.counters.replaced++;
    return 'replaced';
  }

  lookup(index: number): IndexEntry<C> | undefined {
    return this.byIndex.get(index);
  }

  client(key: string): ClientEntry<C> | undefined {
    return this.byKey.get(key);
  }

  remove(key: string): boolean {
    const client = this.byKey.get(key);
    if (client === undefined) return false;
    this.removeClient(client);
    this.counters.removed++;
    return true;
  }

  sweep(nowMs: number): number {
    let destroyed = 0;
    for (const client of this.byKey.values()) {
      const current = client.current;
      const previous = client.previous;
      current.tick(nowMs);
      if (previous !== null) {
        previous.tick(nowMs);
        if (nowMs >= client.previousUntilMs || previous.expired) {
          this.drop(previous);
          client.previous = null;
          this.counters.expiredGrace++;
          destroyed++;
        }
      }
      const lastMs = client.previous === null ? current.lastReceivedMs : Math.max(current.lastReceivedMs, client.previous.lastReceivedMs);
      if (current.expired || current.destroyed) {
        destroyed += this.removeClient(client);
        this.counters.expiredLifetime++;
      } else if (nowMs - lastMs >= this.idleMs) {
        destroyed += this.removeClient(client);
        this.counters.expiredIdle++;
      }
    }
    return destroyed;
  }

  entries(): IterableIterator<ClientEntry<C>> {
    return this.byKey.values();
  }

  clear(): void {
    for (const client of [...this.byKey.values()]) this.removeClient(client);
  }

  private drop(session: BondingSession): void {
    this.byIndex.delete(session.localIndex);
    session.destroy();
  }

  private removeClient(client: Client<C>): number {
    this.byKey.delete(client.key);
    this.drop(client.current);
    if (client.previous === null) return 1;
    this.drop(client.previous);
    client.previous = null;
    return 2;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw invalidArgument(name, value, 'a positive integer');
  return value;
}

/**
 * A bounded session table for a server (or a client's one peer).
 *
 * @example
 * const table = createSessionTable<PeerState>({ maxClients: 256 });
 * table.install(clientKeyOf(result.peer), createSession(result, { nowMs }), nowMs);
 * const hit = table.lookup(peekReceiverIndex(datagram));
 * if (hit !== undefined && hit.session.open(datagram, now) === OPEN_OK) receive(hit.client, hit.session.opened);
 * setInterval(() => table.sweep(performance.now()), 1000);
 */
export function createSessionTable<C = unknown>(init: SessionTableInit = {}): SessionTable<C> {
  const maxClients = positive('maxClients', init.maxClients ?? SESSION_TABLE_MAX_CLIENTS);
  const idleMs = positive('idleMs', init.idleMs ?? SESSION_IDLE_MS);
  const graceMs = init.graceMs ?? REKEY_GRACE_MS;
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw invalidArgument('graceMs', graceMs, 'a non-negative integer');
  return new Table<C>(maxClients, idleMs, graceMs);
}
