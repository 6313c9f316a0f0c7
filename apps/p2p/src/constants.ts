/**
 * Protocol numbers of the p2p app (docs/protocols/p2p.md) and its tunables' defaults. Units are
 * in the names.
 */

/** libp2p protocol id of the application handshake (p2p.md §2). */
export const HANDSHAKE_PROTOCOL = '/edgebox/p2p/handshake/1';
/** Prefix of named-stream protocol ids: `/edgebox/p2p/stream/<name>/1` (p2p.md §4). */
export const STREAM_PROTOCOL_PREFIX = '/edgebox/p2p/stream/';
/** Suffix (protocol version) of named-stream protocol ids. */
export const STREAM_PROTOCOL_SUFFIX = '/1';

/** Frame types (framing.md §6 numbering: handshake 0x01..0x0f, application 0x10..0xef). */
export const TYPE_HANDSHAKE = 0x01;
/** A sealed application message on a named stream. */
export const TYPE_MESSAGE = 0x10;

/** Version of the p2p handshake and message framing (the framing header's version byte is framing's). */
export const P2P_PROTOCOL_VERSION = 1;

/** Sealed message payload: counter u64 LE, then ciphertext ‖ 16-byte tag (p2p.md §4). */
export const MESSAGE_COUNTER_BYTES = 8;
/** AEAD tag length. */
export const AEAD_TAG_BYTES = 16;

/** Stream names: lowercase, digits, `.`, `_`, `-`; 1..64 characters, starting alphanumeric. */
export const STREAM_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Largest plaintext message (default of maxMessageBytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Hard ceiling of maxMessageBytes (framing's payload limit minus our overhead). */
export const MAX_MESSAGE_BYTES_LIMIT = 16 * 1024 * 1024 - MESSAGE_COUNTER_BYTES - AEAD_TAG_BYTES;
/** Largest handshake frame accepted (the crypto handshake's messages are ≤ 4 KiB + a certificate). */
export const HANDSHAKE_MAX_FRAME_BYTES = 16 * 1024;

/** Messages per key epoch: the key of a direction is replaced every 2^20 messages (p2p.md §5). */
export const REKEY_AFTER_MESSAGES = 2 ** 20;
/** A sender also moves to the next epoch after this long on one key. */
export const REKEY_AFTER_MS = 120_000;

/** The application handshake must finish within this (after the libp2p connection is up). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Named streams per peer (both directions together). */
export const DEFAULT_MAX_STREAMS_PER_PEER = 32;
/** Messages waiting in one stream's send queue before send() refuses with P2P_LIMIT. */
export const DEFAULT_SEND_QUEUE_MESSAGES = 1024;
/** Messages waiting in the inbound feed before the oldest are dropped and counted. */
export const DEFAULT_FEED_QUEUE_MESSAGES = 4096;
/** Per-peer inbound message rate limit (token bucket). */
export const DEFAULT_PEER_MESSAGES_PER_SECOND = 10_000;
/** Burst of the per-peer message rate limit. */
export const DEFAULT_PEER_MESSAGE_BURST = 20_000;
/** The responder's "keys installed" signal closing the handshake (empty payload). */
export const TYPE_HANDSHAKE_DONE = 0x02;
/** Default port of `edgebox-p2p run`'s ops endpoint (bonding 9470, tunnel 9471). */
export const P2P_OPS_PORT = 9473;
