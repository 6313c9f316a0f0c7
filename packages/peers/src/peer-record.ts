/**
 * What the address book keeps about a peer, and the checks every field passes before it is
 * stored (from the API, a config file or the persisted book): multiaddrs validated and bound
 * to the peer (a `/p2p/<id>` component must name this peer), metadata keys and size bounded,
 * tags validated. Records are frozen: a change makes a new record.
 */
import {
  ADDRESS_BOOK_MAX_ADDRESSES_PER_PEER,
  ADDRESS_BOOK_MAX_TAGS,
  METADATA_MAX_BYTES,
  METADATA_MAX_KEYS,
  METADATA_MAX_KEY_LENGTH,
  TAG_MAX_LENGTH,
} from './constants.js';
import { PeersError, describeValue, invalid } from './errors.js';
import { parseMultiaddr } from './multiaddr.js';

/** One peer in the address book (frozen). */
export interface PeerRecord {
  /** Canonical peer id (`12D3KooW...`). */
  readonly id: string;
  /** Validated multiaddrs, in the order given, without duplicates. */
  readonly addresses: readonly string[];
  /** String metadata (`name`, `site`, ...), bounded by METADATA_MAX_KEYS / METADATA_MAX_BYTES. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
  /** Dial this peer when the node starts and keep reconnecting. */
  readonly autoConnect: boolean;
  /** Wall-clock ms. */
  readonly addedAt: number;
  readonly updatedAt: number;
  /** Wall-clock ms of the last successful contact, or null. */
  readonly lastSeen: number | null;
}

/** Fields a caller may set. */
export interface PeerFields {
  addresses?: readonly string[];
  metadata?: Readonly<Record<string, string>>;
  tags?: readonly string[];
  autoConnect?: boolean;
}

/** A peer to add: its id and any fields. */
export interface PeerInit extends PeerFields {
  id: string;
}

const METADATA_KEY = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${METADATA_MAX_KEY_LENGTH - 1}}$`);
const TAG = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${TAG_MAX_LENGTH - 1}}$`);

/**
 * Validate multiaddrs for peer `id`: each parses, any `/p2p/` component names `id`; duplicates
 * are dropped; at most ADDRESS_BOOK_MAX_ADDRESSES_PER_PEER.
 *
 * @example checkAddresses(id, ['/ip4/192.0.2.1/tcp/4001'])
 */
export function checkAddresses(id: string, addresses: unknown, field = 'addresses'): string[] {
  if (!Array.isArray(addresses)) throw invalid(field, addresses, 'an array of multiaddr strings', 'PEERS_INVALID_ADDRESS');
  const out: string[] = [];
  for (const [i, addr] of addresses.entries()) {
    const info = parseMultiaddr(addr as string);
    if (info.peerId !== undefined && info.peerId !== id) {
      throw new PeersError('PEERS_INVALID_ADDRESS', `${field}[${i}] ${describeValue(addr)} names peer ${info.peerId}, not ${id}`, { details: { field: `${field}[${i}]` } });
    }
    if (!out.includes(info.text)) out.push(info.text);
  }
  if (out.length > ADDRESS_BOOK_MAX_ADDRESSES_PER_PEER) {
    throw new PeersError('PEERS_LIMIT', `${field} has ${out.length} addresses > max ${ADDRESS_BOOK_MAX_ADDRESSES_PER_PEER}`, {
      details: { field, limit: ADDRESS_BOOK_MAX_ADDRESSES_PER_PEER },
    });
  }
  return out;
}

/**
 * Validate metadata: a plain object of string values, keys `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`,
 * at most METADATA_MAX_KEYS keys and METADATA_MAX_BYTES as UTF-8 JSON.
 *
 * @example checkMetadata({ name: 'gateway-3', site: 'fra1' })
 */
export function checkMetadata(metadata: unknown, field = 'metadata'): Record<string, string> {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw invalid(field, metadata, 'an object of string values', 'PEERS_INVALID_METADATA');
  }
  const entries = Object.entries(metadata);
  if (entries.length > METADATA_MAX_KEYS) {
    throw new PeersError('PEERS_INVALID_METADATA', `${field} has ${entries.length} keys > max ${METADATA_MAX_KEYS}`, { details: { field } });
  }
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (!METADATA_KEY.test(key)) throw invalid(`${field} key`, key, `a key matching ${METADATA_KEY.source}`, 'PEERS_INVALID_METADATA');
    if (typeof value !== 'string') throw invalid(`${field}.${key}`, value, 'a string', 'PEERS_INVALID_METADATA');
    out[key] = value;
  }
  const bytes = Buffer.byteLength(JSON.stringify(out), 'utf8');
  if (bytes > METADATA_MAX_BYTES) {
    throw new PeersError('PEERS_INVALID_METADATA', `${field} is ${bytes} bytes as JSON > max ${METADATA_MAX_BYTES}`, { details: { field, bytes } });
  }
  return out;
}

/**
 * Validate tags: strings `[A-Za-z0-9][A-Za-z0-9._:-]{0,63}`, duplicates dropped, at most
 * ADDRESS_BOOK_MAX_TAGS.
 *
 * @example checkTags(['bootstrap', 'site:fra1'])
 */
export function checkTags(tags: unknown, field = 'tags'): string[] {
  if (!Array.isArray(tags)) throw invalid(field, tags, 'an array of tag strings', 'PEERS_INVALID_METADATA');
  const out: string[] = [];
  for (const [i, tag] of tags.entries()) {
    if (typeof tag !== 'string' || !TAG.test(tag)) throw invalid(`${field}[${i}]`, tag, `a tag matching ${TAG.source}`, 'PEERS_INVALID_METADATA');
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > ADDRESS_BOOK_MAX_TAGS) {
    throw new PeersError('PEERS_INVALID_METADATA', `${field} has ${out.length} tags > max ${ADDRESS_BOOK_MAX_TAGS}`, { details: { field } });
  }
  return out;
}

/** Internal (not exported by the package). Build a frozen record (fields already validated). */
export function freezeRecord(record: PeerRecord): PeerRecord {
  return Object.freeze({
    ...record,
    addresses: Object.freeze([...record.addresses]),
    metadata: Object.freeze({ ...record.metadata }),
    tags: Object.freeze([...record.tags]),
  });
}
