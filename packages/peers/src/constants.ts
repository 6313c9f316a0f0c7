/**
 * Numbers of @edgebox/peers: wire constants of the libp2p peer id (peer-ids spec, multihash,
 * multicodec tables) apart from tunables; units in names.
 */

// -- libp2p peer ids (libp2p/specs peer-ids/peer-ids.md "Keys" and "Peer Ids")

/** `KeyType.Ed25519` in the libp2p `PublicKey` protobuf. */
export const LIBP2P_KEY_TYPE_ED25519 = 1;
/** Length of a raw Ed25519 public key. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** `PublicKey{Type: Ed25519, Data: key}` = 08 01 12 20 ‖ key: 36 bytes. */
export const LIBP2P_ED25519_PUBLIC_KEY_PROTOBUF_BYTES = 4 + ED25519_PUBLIC_KEY_BYTES;
/** Keys serialising to at most this many bytes are inlined with the identity multihash. */
export const LIBP2P_IDENTITY_MULTIHASH_MAX_BYTES = 42;
/** Multihash code `identity` (no hashing). */
export const MULTIHASH_IDENTITY = 0x00;
/** Multihash code `sha2-256`. */
export const MULTIHASH_SHA2_256 = 0x12;
/** Multicodec `libp2p-key`, the codec of a peer id written as a CIDv1. */
export const MULTICODEC_LIBP2P_KEY = 0x72;
/** CID version of the peer id CID form. */
export const CID_VERSION_1 = 1;
/** Multibase prefix of lowercase RFC 4648 base32 without padding. */
export const MULTIBASE_BASE32 = 'b';
/** Multibase prefix of base58btc. */
export const MULTIBASE_BASE58BTC = 'z';
/** Longest peer id text accepted before decoding (bounds work on hostile input). */
export const PEER_ID_MAX_TEXT_LENGTH = 128;

// -- address book

/** Default bound on the number of peers an address book holds. */
export const ADDRESS_BOOK_MAX_PEERS = 10_000;
/** Bound on multiaddrs per peer. */
export const ADDRESS_BOOK_MAX_ADDRESSES_PER_PEER = 16;
/** Longest multiaddr string accepted. */
export const MULTIADDR_MAX_LENGTH = 256;
/** Bound on metadata keys per peer. */
export const METADATA_MAX_KEYS = 32;
/** Bound on a metadata key's length. */
export const METADATA_MAX_KEY_LENGTH = 64;
/** Bound on a peer's metadata as UTF-8 JSON. */
export const METADATA_MAX_BYTES = 4096;
/** Bound on tags per peer. */
export const ADDRESS_BOOK_MAX_TAGS = 16;
/** Bound on a tag's length. */
export const TAG_MAX_LENGTH = 64;
/** Version of the address book file format (`{"version":1,"peers":[...]}`). */
export const ADDRESS_BOOK_FILE_VERSION = 1;
/** Files larger than this are treated as corrupt instead of being read into memory. */
export const ADDRESS_BOOK_MAX_FILE_BYTES = 64 * 1024 * 1024;

// -- access list

/** Default bound on access list entries (peer ids and CIDRs together). */
export const ACCESS_LIST_MAX_ENTRIES = 10_000;
/** Longest reason kept with an access entry or a transition. */
export const REASON_MAX_LENGTH = 256;

// -- connection state

/** Default number of transitions a connection state machine remembers. */
export const CONNECTION_HISTORY_SIZE = 32;
/** Bound on the history size option. */
export const CONNECTION_HISTORY_MAX = 4096;

// -- backoff (timers are 32-bit signed in Node)

/** Largest delay setTimeout honours (2^31 - 1 ms); every delay here is at most this. */
export const TIMER_MAX_MS = 2_147_483_647;
/** Default shortest backoff delay. */
export const BACKOFF_MIN_MS = 500;
/** Default longest backoff delay. */
export const BACKOFF_MAX_MS = 60_000;
/** Default growth factor of exponential backoff. */
export const BACKOFF_FACTOR = 2;
/** Decorrelated jitter draws the next delay from [min, previous * this] (AWS architecture blog). */
export const DECORRELATED_JITTER_MULTIPLIER = 3;

// -- circuit breaker

/** Default failures within the window that open the circuit. */
export const CIRCUIT_FAILURE_THRESHOLD = 5;
/** Default rolling failure window. */
export const CIRCUIT_WINDOW_MS = 60_000;
/** Default time the circuit stays open before half-open probes. */
export const CIRCUIT_OPEN_MS = 30_000;
/** Default number of half-open probes (all must succeed to close). */
export const CIRCUIT_HALF_OPEN_PROBES = 1;
/** Bound on the failure threshold (the failure ring is this long at most). */
export const CIRCUIT_MAX_FAILURE_THRESHOLD = 10_000;

// -- rate limits

/** Default bound on keys a rate limiter tracks (least recently used evicted beyond it). */
export const RATE_LIMIT_MAX_KEYS = 10_000;
