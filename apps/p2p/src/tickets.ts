/**
 * Session resumption tickets (docs/protocols/p2p.md §3.5), like TLS 1.3 psk_dhe_ke: after a
 * full handshake the responder gives the initiator a ticket holding the session's resumption
 * secret, sealed under the responder's ticket key. On reconnect the initiator presents it and
 * both run the crypto handshake in PSK mode with a fresh X25519 exchange: the ML-KEM part and
 * the certificates are skipped, the new keys still come from new ephemeral DH (forward
 * secrecy) mixed with the PSK (which came from a hybrid session).
 *
 *   resumption secret = HKDF-SHA256(salt = TH, ikm = key i→r ‖ key r→i, info = "edgebox-p2p v1 resumption", 32)
 *   ticket   = version u8 (=1) ‖ keyId u32 BE ‖ counter u64 BE ‖ AEAD(ticket key, nonce, plain, aad = first 13 bytes)
 *   nonce    = 0x00000000 ‖ counter u64 BE          (counter nonces per ticket key, never random)
 *   plain    = expiresAt u64 BE (Unix ms) ‖ ticketId (16) ‖ secret (32) ‖ peerIdLen u8 ‖ initiator peer id (UTF-8)
 *
 * The responder accepts a ticket once (ticket ids are remembered until they expire), only
 * before its expiry, only from the peer id it was issued to, and only under the current or the
 * previous ticket key (keys rotate; a restart makes a new key, so old tickets fall back to a
 * full handshake). Every refusal is a full handshake, never an error.
 */
import { randomBytes } from 'node:crypto';
import { createAead, hkdf, zeroize, type Aead, type HandshakeResult } from '@edgebox/crypto';
import {
  AEAD_TAG_BYTES,
  DEFAULT_TICKET_KEY_ROTATE_MS,
  DEFAULT_TICKET_LIFETIME_MS,
  MAX_REMEMBERED_TICKETS,
  MAX_STORED_TICKETS,
  TICKET_VERSION,
} from './constants.js';

/** Why a ticket was not accepted. */
export type TicketRejection = 'malformed' | 'unknown-key' | 'bad-auth' | 'expired' | 'foreign' | 'replayed' | 'overloaded';

/** Ticket bytes: version + keyId + counter. */
const TICKET_HEADER_BYTES = 13;
const RESUMPTION_LABEL = new TextEncoder().encode('edgebox-p2p v1 resumption');
const SECRET_BYTES = 32;
const TICKET_ID_BYTES = 16;

/**
 * The resumption secret of a completed handshake (same on both sides).
 *
 * @example const secret = deriveResumptionSecret(result);
 */
export function deriveResumptionSecret(result: Pick<HandshakeResult, 'role' | 'sendKey' | 'receiveKey' | 'transcriptHash'>): Uint8Array {
  const [i2r, r2i] = result.role === 'initiator' ? [result.sendKey, result.receiveKey] : [result.receiveKey, result.sendKey];
  const ikm = new Uint8Array(i2r.length + r2i.length);
  ikm.set(i2r, 0);
  ikm.set(r2i, i2r.length);
  const out = hkdf(result.transcriptHash, ikm, RESUMPTION_LABEL, SECRET_BYTES);
  zeroize(ikm);
  return out;
}

/** Counters of the ticket issuer, read at scrape time. */
export interface TicketCounters {
  issued: number;
  accepted: number;
  rejected: Record<TicketRejection, number>;
}

/** What an accepted ticket gives the responder. */
export interface OpenedTicket {
  secret: Uint8Array;
  ticketId: string;
}

/** The responder's side: issues and checks tickets. */
export interface TicketIssuer {
  readonly counters: TicketCounters;
  /** A ticket for `peer` (the initiator) carrying `secret`. */
  issue(peer: string, secret: Uint8Array): { ticket: Uint8Array; expiresAt: number };
  /** Check a ticket presented by `peer`; accepted tickets are spent (single use). */
  open(ticket: Uint8Array, peer: string): OpenedTicket | TicketRejection;
  /** Wipe the keys. */
  destroy(): void;
}

/** Options of createTicketIssuer(). */
export interface TicketIssuerInit {
  lifetimeMs?: number;
  rotateMs?: number;
}

interface TicketKey {
  id: number;
  aead: Aead;
  createdAt: number;
  counter: number;
}

/**
 * A ticket issuer with a fresh random key (rotated every `rotateMs`).
 *
 * @example
 * const tickets = createTicketIssuer();
 * const { ticket } = tickets.issue(initiatorPeerId, deriveResumptionSecret(result));
 */
export function createTicketIssuer(init: TicketIssuerInit = {}, components: { now?: () => number } = {}): TicketIssuer {
  const lifetimeMs = init.lifetimeMs ?? DEFAULT_TICKET_LIFETIME_MS;
  const rotateMs = init.rotateMs ?? DEFAULT_TICKET_KEY_ROTATE_MS;
  const now = components.now ?? Date.now;
  const counters: TicketCounters = {
    issued: 0,
    accepted: 0,
    rejected: { malformed: 0, 'unknown-key': 0, 'bad-auth': 0, expired: 0, foreign: 0, replayed: 0, overloaded: 0 },
  };
  const used = new Map<string, number>(); // ticket id (hex) → expiresAt; insertion order = expiry order
  let current: TicketKey = newKey();
  let previous: TicketKey | undefined;

  function newKey(): TicketKey {
    const key = randomBytes(32);
    const k: TicketKey = { id: randomBytes(4).readUInt32BE(0), aead: createAead('chacha20-poly1305', key), createdAt: now(), counter: 0 };
    zeroize(key);
    return k;
  }

  function rotate(): void {
    if (now() - current.createdAt < rotateMs) return;
    previous?.aead.destroy();
    previous = current;
    current = newKey();
  }

  function reject(reason: TicketRejection): TicketRejection {
    counters.rejected[reason]++;
    return reason;
  }

  return {
    counters,
    issue(peer, secret) {
      rotate();
      const id = new TextEncoder().encode(peer);
      const expiresAt = now() + lifetimeMs;
      const plain = new Uint8Array(8 + TICKET_ID_BYTES + SECRET_BYTES + 1 + id.length);
      const pv = new DataView(plain.buffer);
      pv.setBigUint64(0, BigInt(expiresAt));
      plain.set(randomBytes(TICKET_ID_BYTES), 8);
      plain.set(secret, 8 + TICKET_ID_BYTES);
      plain[8 + TICKET_ID_BYTES + SECRET_BYTES] = id.length;
      plain.set(id, 8 + TICKET_ID_BYTES + SECRET_BYTES + 1);
      const counter = current.counter++;
      const ticket = new Uint8Array(TICKET_HEADER_BYTES + plain.length + AEAD_TAG_BYTES);
      const tv = new DataView(ticket.buffer);
      ticket[0] = TICKET_VERSION;
      tv.setUint32(1, current.id);
      tv.setBigUint64(5, BigInt(counter));
      const nonce = new Uint8Array(12);
      nonce.set(ticket.subarray(5, 13), 4);
      current.aead.sealInto(nonce, plain, ticket, ticket.subarray(0, TICKET_HEADER_BYTES), TICKET_HEADER_BYTES);
      zeroize(plain);
      counters.issued++;
      return { ticket, expiresAt };
    },
    open(ticket, peer) {
      if (ticket.length < TICKET_HEADER_BYTES + 8 + TICKET_ID_BYTES + SECRET_BYTES + 1 + AEAD_TAG_BYTES || ticket[0] !== TICKET_VERSION) return reject('malformed');
      rotate();
      const keyId = new DataView(ticket.buffer, ticket.byteOffset).getUint32(1);
      const key = keyId === current.id ? current : keyId === previous?.id ? previous : undefined;
      if (key === undefined) return reject('unknown-key');
      const nonce = new Uint8Array(12);
      nonce.set(ticket.subarray(5, 13), 4);
      const plain = new Uint8Array(ticket.length - TICKET_HEADER_BYTES - AEAD_TAG_BYTES);
      if (key.aead.tryOpenInto(nonce, ticket, TICKET_HEADER_BYTES, ticket.length - TICKET_HEADER_BYTES, plain, ticket.subarray(0, TICKET_HEADER_BYTES), 0) < 0) return reject('bad-auth');
      try {
        const view = new DataView(plain.buffer);
        const expiresAt = Number(view.getBigUint64(0));
        const idLen = plain[8 + TICKET_ID_BYTES + SECRET_BYTES]!;
        if (plain.length !== 8 + TICKET_ID_BYTES + SECRET_BYTES + 1 + idLen) return reject('malformed');
        const t = now();
        if (t > expiresAt) return reject('expired');
        if (new TextDecoder().decode(plain.subarray(8 + TICKET_ID_BYTES + SECRET_BYTES + 1)) !== peer) return reject('foreign');
        const ticketId = Buffer.from(plain.subarray(8, 8 + TICKET_ID_BYTES)).toString('hex');
        if (used.has(ticketId)) return reject('replayed');
        for (const [id, exp] of used) {
          if (exp >= t) break;
          used.delete(id);
        }
        if (used.size >= MAX_REMEMBERED_TICKETS) return reject('overloaded');
        used.set(ticketId, expiresAt);
        counters.accepted++;
        return { secret: plain.slice(8 + TICKET_ID_BYTES, 8 + TICKET_ID_BYTES + SECRET_BYTES), ticketId };
      } finally {
        zeroize(plain);
      }
    },
    destroy() {
      current.aead.destroy();
      previous?.aead.destroy();
      used.clear();
    },
  };
}

/** A ticket the initiator holds for one responder. */
export interface StoredTicket {
  ticket: Uint8Array;
  secret: Uint8Array;
  expiresAt: number;
}

/** The initiator's side: one ticket per responder, single use, bounded. */
export interface TicketStore {
  readonly size: number;
  put(responder: string, ticket: StoredTicket): void;
  /** The ticket for `responder`, removed (a ticket is used once); undefined when none or expired. */
  take(responder: string): StoredTicket | undefined;
  clear(): void;
}

/**
 * An in-memory ticket store (tickets are not persisted: a restarted node does a full handshake).
 *
 * @example const store = createTicketStore(); const t = store.take(responderPeerId);
 */
export function createTicketStore(init: { max?: number } = {}, components: { now?: () => number } = {}): TicketStore {
  const max = init.max ?? MAX_STORED_TICKETS;
  const now = components.now ?? Date.now;
  const tickets = new Map<string, StoredTicket>();
  return {
    get size() {
      return tickets.size;
    },
    put(responder, ticket) {
      const old = tickets.get(responder);
      if (old !== undefined) zeroize(old.secret);
      tickets.delete(responder);
      if (tickets.size >= max) {
        const [oldest, t] = tickets.entries().next().value as [string, StoredTicket];
        zeroize(t.secret);
        tickets.delete(oldest);
      }
      tickets.set(responder, ticket);
    },
    take(responder) {
      const t = tickets.get(responder);
      if (t === undefined) return undefined;
      tickets.delete(responder);
      if (now() > t.expiresAt) {
        zeroize(t.secret);
        return undefined;
      }
      return t;
    },
    clear() {
      for (const t of tickets.values()) zeroize(t.secret);
      tickets.clear();
    },
  };
}
