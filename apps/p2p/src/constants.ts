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
/** Hard ceiling of maxMessageBytes (framing's payload limit minus our overhead: counter, tag, an ack-requested message's id). */
export const MAX_MESSAGE_BYTES_LIMIT = 16 * 1024 * 1024 - MESSAGE_COUNTER_BYTES - AEAD_TAG_BYTES - 8;
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
/** Messages waiting per priority in one stream's send queue before send() refuses with P2P_LIMIT. */
export const DEFAULT_SEND_QUEUE_MESSAGES = 1024;
/** Messages waiting in the inbound feed before the oldest are dropped and counted. */
export const DEFAULT_FEED_QUEUE_MESSAGES = 4096;
/** Per-peer inbound message rate limit (token bucket). */
export const DEFAULT_PEER_MESSAGES_PER_SECOND = 10_000;
/** Burst of the per-peer message rate limit. */
export const DEFAULT_PEER_MESSAGE_BURST = 20_000;
/** The responder's "keys installed" signal closing the handshake (empty payload). */
export const TYPE_HANDSHAKE_DONE = 0x02;
/** Capabilities, sent by each side after the crypto handshake (p2p.md §3.4). */
export const TYPE_CAPS = 0x03;
/** Initiator → responder: a resumption ticket, followed by a PSK-mode Init (p2p.md §3.5). */
export const TYPE_RESUME = 0x04;
/** Responder → initiator: the ticket was not accepted; a full (certificate) Init follows. */
export const TYPE_RESUME_REJECTED = 0x05;
/** Responder → initiator: a new resumption ticket (before HANDSHAKE_DONE). */
export const TYPE_TICKET = 0x06;
/** Receiver → sender on a named stream: a sealed acknowledgement of one message id (p2p.md §4.2). */
export const TYPE_ACK = 0x11;
/** MESSAGE flag: the plaintext starts with a message id u64 LE and the sender wants an ACK. */
export const FLAG_ACK_REQUESTED = 0x01;
/** Bytes of a message id (ack-requested messages, ACK payloads). */
export const MESSAGE_ID_BYTES = 8;

/** Version of the CAPS payload. */
export const CAPABILITIES_VERSION = 1;
/** Version byte of resumption tickets. */
export const TICKET_VERSION = 1;
/** The PSK identity of a resumed handshake (the ticket itself travels in RESUME). */
export const RESUMPTION_PSK_ID = 'edgebox-p2p-resume';
/** A ticket is accepted for this long after it was issued. */
export const DEFAULT_TICKET_LIFETIME_MS = 3_600_000;
/** The ticket key is replaced this often (the previous one still opens tickets). */
export const DEFAULT_TICKET_KEY_ROTATE_MS = 3_600_000;
/** Used ticket ids remembered (single use); beyond, resumption is refused until some expire. */
export const MAX_REMEMBERED_TICKETS = 65_536;
/** Tickets an initiator keeps (one per responder). */
export const MAX_STORED_TICKETS = 10_000;

/** Acknowledged sends: wait this long for the ACK before a retry. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** Acknowledged sends: retries after the first attempt before P2P_ACK_TIMEOUT. */
export const DEFAULT_ACK_RETRIES = 2;
/** Message ids a receiver remembers per peer and stream to drop duplicates of retried sends. */
export const ACK_DEDUP_WINDOW = 4096;
/** Unacknowledged messages in flight per peer before send({ack}) refuses with P2P_LIMIT. */
export const MAX_PENDING_ACKS = 4096;

/** Send priorities, highest first. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;

/** Default port of `edgebox-p2p run`'s ops endpoint (bonding 9470, tunnel 9471). */
export const P2P_OPS_PORT = 9473;
