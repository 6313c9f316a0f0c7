/**
 * Allow and block lists: rules by peer id or by CIDR block, each with a reason and an optional
 * expiry, and one question, `check(peerId, address?)`. This is the connection gater's policy
 * (p2p's blacklist, tunnel's allowed source networks); callers hang up on `allowed: false`.
 *
 * Decision order (first match wins; deny overrides allow):
 *   1. block rule for the peer id          → blocked
 *   2. block rule for a CIDR holding the IP → blocked
 *   3. allow rule for the peer id          → allowed
 *   4. allow rule for a CIDR holding the IP → allowed
 *   5. defaultAction ('allow': open list; 'block': only allowed peers/networks get in)
 *
 * One rule per peer id and per CIDR: blocking an allowed peer replaces its allow rule.
 * Expired rules are ignored at once and dropped lazily (a check meeting one, prune()), each
 * reported as an 'expired' change. Times are wall-clock ms (Date.now) so expiries persist.
 */
import { ACCESS_LIST_MAX_ENTRIES, REASON_MAX_LENGTH } from './constants.js';
import { PeersError, checkInteger, checkNumber, describeValue, invalid } from './errors.js';
import { cidrContains, parseCidr, parseIp, type Cidr, type IpAddress } from './ip.js';
import { parseMultiaddr } from './multiaddr.js';
import { parsePeerId } from './peer-id.js';

/** What a rule does. */
export type AccessAction = 'allow' | 'block';

/** One rule (frozen). */
export interface AccessEntry {
  /** What `value` names. */
  readonly target: 'peer' | 'cidr';
  /** Canonical peer id, or canonical CIDR text (`10.0.0.0/8`). */
  readonly value: string;
  readonly action: AccessAction;
  readonly reason: string;
  /** Wall-clock ms when the rule was set. */
  readonly createdAt: number;
  /** Wall-clock ms after which the rule no longer applies; null = never. */
  readonly expiresAt: number | null;
}

/** Options of a new rule. */
export interface AccessRuleInit {
  /** Why (shown in decisions, audit logs and the admin API). Default: `"allowed"`/`"blocked"`. */
  reason?: string;
  /** Lifetime from now in ms. */
  ttlMs?: number;
  /** Absolute expiry (wall-clock ms); wins over ttlMs. */
  expiresAt?: number;
}

/** The answer of check(). */
export interface AccessDecision {
  allowed: boolean;
  /** Human-readable why, e.g. `peer blocked: spam` or `not on the allow list`. */
  reason: string;
  /** The rule that decided, or null for the default or an invalid input. */
  rule: AccessEntry | null;
}

/** A change to the list (listeners get it after it happened). */
export interface AccessChange {
  type: 'added' | 'replaced' | 'removed' | 'expired';
  entry: AccessEntry;
}

/** Options of createAccessList. */
export interface AccessListInit {
  /** Decision when no rule matches. Default 'allow' (a block list); 'block' makes an allow list. */
  defaultAction?: AccessAction;
  /** Bound on rules (peers + CIDRs). Default ACCESS_LIST_MAX_ENTRIES. */
  maxEntries?: number;
  /** Rules to start with (e.g. from list() saved earlier); expired ones are skipped. */
  entries?: readonly AccessEntry[];
}

/** Dependencies of createAccessList. */
export interface AccessListComponents {
  /** Wall clock in ms (default Date.now). */
  now?: () => number;
  /** Called when a change listener throws (the list and other listeners carry on). */
  onListenerError?: (err: unknown) => void;
}

/** Allow/block rules by peer id and CIDR. */
export interface AccessList {
  readonly defaultAction: AccessAction;
  /** Rules held, expired ones not yet pruned included. */
  readonly size: number;
  allowPeer(peerId: string, init?: AccessRuleInit): AccessEntry;
  blockPeer(peerId: string, init?: AccessRuleInit): AccessEntry;
  allowCidr(cidr: string, init?: AccessRuleInit): AccessEntry;
  blockCidr(cidr: string, init?: AccessRuleInit): AccessEntry;
  /** Remove the rule for a peer id; false if there was none. */
  removePeer(peerId: string): boolean;
  /** Remove the rule for a CIDR (any spelling of the same block); false if there was none. */
  removeCidr(cidr: string): boolean;
  /** The live rule for a peer id, if any. */
  getPeer(peerId: string): AccessEntry | undefined;
  /** Decide for a peer and optionally its address (IP or multiaddr). Never throws. */
  check(peerId: string, address?: string): AccessDecision;
  /** check() that throws PEERS_ACCESS_DENIED with the reason when blocked. */
  assertAllowed(peerId: string, address?: string): void;
  /** Live rules, peers first, each group in insertion order. */
  list(): AccessEntry[];
  /** Drop expired rules now; returns how many. */
  prune(): number;
  /** Subscribe to changes; returns the unsubscribe function. */
  onChange(listener: (change: AccessChange) => void): () => void;
}

interface CidrRule {
  cidr: Cidr;
  entry: AccessEntry;
}

/**
 * Create an access list.
 *
 * @example
 * const acl = createAccessList();                     // open: block what you list
 * acl.blockPeer(spammer, { reason: 'spam', ttlMs: 3_600_000 });
 * acl.blockCidr('203.0.113.0/24', { reason: 'abuse' });
 * const { allowed, reason } = acl.check(remotePeer, '/ip4/203.0.113.9/tcp/4001');
 * if (!allowed) connection.close(); // reason: 'address 203.0.113.9 blocked by 203.0.113.0/24: abuse'
 */
export function createAccessList(init: AccessListInit = {}, components: AccessListComponents = {}): AccessList {
  const defaultAction = init.defaultAction ?? 'allow';
  if (defaultAction !== 'allow' && defaultAction !== 'block') throw invalid('defaultAction', defaultAction, "'allow' or 'block'");
  const maxEntries = checkInteger('maxEntries', init.maxEntries ?? ACCESS_LIST_MAX_ENTRIES, 1, 10_000_000);
  const now = components.now ?? Date.now;
  const onListenerError = components.onListenerError ?? (() => undefined);
  const peers = new Map<string, AccessEntry>();
  const cidrs = new Map<string, CidrRule>(); // key: canonical CIDR text
  const listeners = new Set<(change: AccessChange) => void>();

  const emit = (change: AccessChange): void => {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (err) {
        onListenerError(err);
      }
    }
  };

  const live = (entry: AccessEntry, at: number): boolean => entry.expiresAt === null || at < entry.expiresAt;

  const expire = (entry: AccessEntry): void => {
    if (entry.target === 'peer') peers.delete(entry.value);
    else cidrs.delete(entry.value);
    emit({ type: 'expired', entry });
  };

  const prune = (): number => {
    const at = now();
    const dead = [...peers.values(), ...[...cidrs.values()].map((r) => r.entry)].filter((e) => !live(e, at));
    for (const entry of dead) expire(entry);
    return dead.length;
  };

  const makeEntry = (target: AccessEntry['target'], value: string, action: AccessAction, rule: AccessRuleInit, createdAt: number): AccessEntry => {
    if (typeof rule !== 'object' || rule === null) throw invalid('rule options', rule, 'an object');
    const reason = rule.reason ?? (action === 'allow' ? 'allowed' : 'blocked');
    if (typeof reason !== 'string' || reason.length > REASON_MAX_LENGTH) throw invalid('reason', reason, `a string of at most ${REASON_MAX_LENGTH} characters`);
    let expiresAt: number | null = null;
    if (rule.expiresAt !== undefined) expiresAt = checkNumber('expiresAt', rule.expiresAt, 0, Number.MAX_SAFE_INTEGER);
    else if (rule.ttlMs !== undefined) expiresAt = createdAt + checkInteger('ttlMs', rule.ttlMs, 1, Number.MAX_SAFE_INTEGER);
    return Object.freeze({ target, value, action, reason, createdAt, expiresAt });
  };

  const makeRoom = (replacing: boolean): void => {
    if (replacing || peers.size + cidrs.size < maxEntries) return;
    prune();
    if (peers.size + cidrs.size >= maxEntries) {
      throw new PeersError('PEERS_LIMIT', `access list holds ${maxEntries} rules, the maximum (maxEntries)`, { details: { limit: maxEntries } });
    }
  };

  const setPeer = (peerId: string, action: AccessAction, rule: AccessRuleInit = {}, createdAt = now()): AccessEntry => {
    const id = parsePeerId(peerId).id;
    const entry = makeEntry('peer', id, action, rule, createdAt);
    const replacing = peers.has(id);
    makeRoom(replacing);
    peers.set(id, entry);
    emit({ type: replacing ? 'replaced' : 'added', entry });
    return entry;
  };

  const setCidr = (text: string, action: AccessAction, rule: AccessRuleInit = {}, createdAt = now()): AccessEntry => {
    const cidr = parseCidr(text);
    const entry = makeEntry('cidr', cidr.text, action, rule, createdAt);
    const replacing = cidrs.has(cidr.text);
    makeRoom(replacing);
    cidrs.set(cidr.text, { cidr, entry });
    emit({ type: replacing ? 'replaced' : 'added', entry });
    return entry;
  };

  const lookupPeer = (peerId: string, at: number): AccessEntry | undefined => {
    const entry = peers.get(peerId);
    if (entry === undefined || live(entry, at)) return entry;
    expire(entry);
    return undefined;
  };

  const matchCidr = (ip: IpAddress, action: AccessAction, at: number): AccessEntry | undefined => {
    let found: CidrRule | undefined;
    const dead: AccessEntry[] = [];
    for (const rule of cidrs.values()) {
      if (rule.entry.action !== action || !cidrContains(rule.cidr, ip)) continue;
      if (!live(rule.entry, at)) dead.push(rule.entry);
      else if (found === undefined || rule.cidr.prefix > found.cidr.prefix) found = rule; // most specific
    }
    for (const entry of dead) expire(entry);
    return found?.entry;
  };

  const canonicalId = (peerId: string): string | undefined => {
    if (typeof peerId !== 'string') return undefined;
    if (peers.has(peerId)) return peerId; // fast path: already canonical and listed
    try {
      return parsePeerId(peerId).id;
    } catch {
      return undefined;
    }
  };

  const addressIp = (address: string): IpAddress | null | undefined => {
    // undefined: unparsable; null: a valid address without an IP (DNS name, memory transport)
    if (typeof address !== 'string') return undefined;
    if (address.startsWith('/')) {
      try {
        return parseMultiaddr(address).ip ?? null;
      } catch {
        return undefined;
      }
    }
    return parseIp(address);
  };

  const check = (peerId: string, address?: string): AccessDecision => {
    const id = canonicalId(peerId);
    if (id === undefined) return { allowed: false, reason: `peer id ${describeValue(peerId)} is not valid`, rule: null };
    let ip: IpAddress | null = null;
    if (address !== undefined) {
      const parsed = addressIp(address);
      if (parsed === undefined) return { allowed: false, reason: `address ${describeValue(address)} is not an IP address or multiaddr`, rule: null };
      ip = parsed;
    }
    const at = now();
    const peerRule = lookupPeer(id, at);
    if (peerRule?.action === 'block') return { allowed: false, reason: `peer blocked: ${peerRule.reason}`, rule: peerRule };
    const blockedNet = ip === null ? undefined : matchCidr(ip, 'block', at);
    if (blockedNet !== undefined) return { allowed: false, reason: `address blocked by ${blockedNet.value}: ${blockedNet.reason}`, rule: blockedNet };
    if (peerRule !== undefined) return { allowed: true, reason: `peer allowed: ${peerRule.reason}`, rule: peerRule };
    const allowedNet = ip === null ? undefined : matchCidr(ip, 'allow', at);
    if (allowedNet !== undefined) return { allowed: true, reason: `address allowed by ${allowedNet.value}: ${allowedNet.reason}`, rule: allowedNet };
    return defaultAction === 'allow' ? { allowed: true, reason: 'no rule matched (default allow)', rule: null } : { allowed: false, reason: 'not on the allow list', rule: null };
  };

  for (const entry of init.entries ?? []) restore(entry);

  function restore(entry: AccessEntry): void {
    if (typeof entry !== 'object' || entry === null) throw invalid('entries[]', entry, 'an access entry');
    if (entry.action !== 'allow' && entry.action !== 'block') throw invalid('entries[].action', entry.action, "'allow' or 'block'");
    if (entry.expiresAt !== null && (typeof entry.expiresAt !== 'number' || entry.expiresAt <= now())) return; // expired while stored
    const rule: AccessRuleInit = entry.expiresAt === null ? { reason: entry.reason } : { reason: entry.reason, expiresAt: entry.expiresAt };
    const createdAt = typeof entry.createdAt === 'number' && Number.isFinite(entry.createdAt) ? entry.createdAt : now();
    if (entry.target === 'peer') setPeer(entry.value, entry.action, rule, createdAt);
    else if (entry.target === 'cidr') setCidr(entry.value, entry.action, rule, createdAt);
    else throw invalid('entries[].target', entry.target, "'peer' or 'cidr'");
  }

  return {
    defaultAction,
    get size() {
      return peers.size + cidrs.size;
    },
    allowPeer: (peerId, rule) => setPeer(peerId, 'allow', rule),
    blockPeer: (peerId, rule) => setPeer(peerId, 'block', rule),
    allowCidr: (cidr, rule) => setCidr(cidr, 'allow', rule),
    blockCidr: (cidr, rule) => setCidr(cidr, 'block', rule),
    removePeer(peerId) {
      const id = parsePeerId(peerId).id;
      const entry = peers.get(id);
      if (entry === undefined) return false;
      peers.delete(id);
      emit({ type: 'removed', entry });
      return true;
    },
    removeCidr(text) {
      const key = parseCidr(text).text;
      const rule = cidrs.get(key);
      if (rule === undefined) return false;
      cidrs.delete(key);
      emit({ type: 'removed', entry: rule.entry });
      return true;
    },
    getPeer(peerId) {
      const id = canonicalId(peerId);
      return id === undefined ? undefined : lookupPeer(id, now());
    },
    check,
    assertAllowed(peerId, address) {
      const decision = check(peerId, address);
      if (!decision.allowed) {
        throw new PeersError('PEERS_ACCESS_DENIED', `peer ${describeValue(peerId)} refused: ${decision.reason}`, {
          details: { peerId, address, rule: decision.rule },
        });
      }
    },
    list() {
      prune();
      return [...peers.values(), ...[...cidrs.values()].map((r) => r.entry)];
    },
    prune,
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
