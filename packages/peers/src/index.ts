/**
 * @edgebox/peers: who we talk to. Shared by p2p, tunnel and bonding.
 *
 * - Peer identity: the libp2p peer id (`12D3KooW...`) of an Ed25519 key from @edgebox/crypto,
 *   parsed in both text forms, so p2p can bind our identity to the peer Noise authenticated.
 * - Address book: peers with multiaddrs, metadata, tags, last contact and auto-connect,
 *   persisted as crash-safe JSON (atomic replace, backup, corruption kept aside and reported).
 * - Access list: allow/block by peer id and CIDR, with reasons and expiry.
 * - Connection state machine with legal transitions enforced and a bounded history.
 * - Resilience: backoff with decorrelated jitter, circuit breaker, keyed token buckets,
 *   connection limits. zod schemas for the matching config sections.
 *
 * @example
 * import { createBackoff, createConnectionStateMachine, openAddressBook, peerIdFromIdentity } from '@edgebox/peers';
 * const me = peerIdFromIdentity(identity);
 * const book = await openAddressBook({ path: '/var/lib/edgebox/p2p/peers.json' });
 * for (const peer of book.list({ autoConnect: true })) {
 *   const conn = createConnectionStateMachine();
 *   const backoff = createBackoff({ minMs: 500, maxMs: 60_000 });
 *   conn.transition('connecting', 'auto-connect on start');
 * }
 */
export { PEERS_ERROR_CODES, PeersError, isPeersError, type PeersErrorCode, type PeersErrorOptions } from './errors.js';
export * from './constants.js';
export {
  isPeerId,
  marshalLibp2pPublicKey,
  normalizePeerId,
  parsePeerId,
  peerIdFromIdentity,
  peerIdFromPublicKey,
  peerIdMatchesPublicKey,
  peerIdMultihash,
  peerIdToCid,
  publicKeyFromPeerId,
  unmarshalLibp2pPublicKey,
  verifyPeerSignature,
  type PeerIdInfo,
} from './peer-id.js';
export { cidrContains, formatIp, parseCidr, parseIp, unmapIpv4, type Cidr, type IpAddress } from './ip.js';
export { isMultiaddr, parseMultiaddr, type MultiaddrComponent, type MultiaddrInfo } from './multiaddr.js';
export {
  createAccessList,
  type AccessAction,
  type AccessChange,
  type AccessDecision,
  type AccessEntry,
  type AccessList,
  type AccessListComponents,
  type AccessListInit,
  type AccessRuleInit,
} from './access-list.js';
export {
  CONNECTION_STATES,
  CONNECTION_TRANSITIONS,
  createConnectionStateMachine,
  type ConnectionState,
  type ConnectionStateComponents,
  type ConnectionStateInit,
  type ConnectionStateMachine,
  type ConnectionTransition,
} from './connection-state.js';
export { createBackoff, type Backoff, type BackoffComponents, type BackoffInit, type BackoffJitter, type BackoffStrategy } from './backoff.js';
export {
  createCircuitBreaker,
  type CircuitBreaker,
  type CircuitBreakerComponents,
  type CircuitBreakerInit,
  type CircuitSnapshot,
  type CircuitState,
  type CircuitStateChange,
} from './circuit-breaker.js';
export { createRateLimiter, type RateLimiter, type RateLimiterComponents, type RateLimiterInit } from './rate-limit.js';
export { createConnectionLimiter, type ConnectionLimiter, type ConnectionLimiterInit, type ConnectionSlot } from './connection-limit.js';
export { checkAddresses, checkMetadata, checkTags, type PeerFields, type PeerInit, type PeerRecord } from './peer-record.js';
export {
  createJsonFileStore,
  nodeStoreFileSystem,
  type JsonFileStore,
  type JsonFileStoreComponents,
  type JsonFileStoreInit,
  type StoreFileSystem,
  type StoreLoadResult,
  type StoreParseResult,
  type StoreProblem,
} from './json-file-store.js';
export {
  createAddressBook,
  openAddressBook,
  type AddressBook,
  type AddressBookChange,
  type AddressBookComponents,
  type AddressBookInit,
  type AddressBookLoadReport,
  type AddressBookStatus,
  type PeerFilter,
} from './address-book.js';
export {
  accessRuleSchema,
  backoffInitSchema,
  circuitBreakerInitSchema,
  connectionLimiterInitSchema,
  peerInitSchema,
  rateLimiterInitSchema,
} from './schemas.js';
