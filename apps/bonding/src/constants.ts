/**
 * Protocol numbers and defaults of the bonding data plane (docs/protocols/bonding.md).
 * Protocol numbers first, then tunables; every tunable is taken from an `init` object and
 * falls back to these via `??`. Units are in the names.
 */
import { DATAGRAM_HEADER_BYTES } from '@edgebox/framing';
import { AEAD_TAG_BYTES } from '@edgebox/crypto';

// -- datagram types (bonding.md §2; framing.md §6 range 0x40..0x6F) ----------------------------

/** One IP packet from the TUN device. */
export const TYPE_DATA = 0x40;
/** Padding only; path-MTU probes set their size with it. */
export const TYPE_PROBE = 0x41;
/** Acknowledges the PROBE whose send timestamp it echoes; no payload. */
export const TYPE_PROBE_ACK = 0x42;
/** Per-link receive report (bonding.md §5, feedback.ts). */
export const TYPE_FEEDBACK = 0x43;
/** Ends the session; payload = reason code u16 BE. */
export const TYPE_CLOSE = 0x44;
/** Asks the peer to send DATA sequences again (bonding.md §4.1); payload = 1..64 × u32 BE. */
export const TYPE_NACK = 0x45;
/** Every bonding datagram type, for framing's `knownTypes` (no flag bit is defined: all 0). */
export const BONDING_TYPES: ReadonlyMap<number, number> = new Map([
  [TYPE_DATA, 0],
  [TYPE_PROBE, 0],
  [TYPE_PROBE_ACK, 0],
  [TYPE_FEEDBACK, 0],
  [TYPE_CLOSE, 0],
  [TYPE_NACK, 0],
]);

// -- retransmission (bonding.md §4.1) -------------------------------------------------------------

/** Data sequences one NACK asks for at most. */
export const NACK_MAX_SEQS = 64;
/** Sent DATA packets kept for retransmission per peer (a power of two), by default. */
export const RETRANSMIT_BUFFER_DEFAULT = 1024;
/** Largest retransmission buffer (packets). */
export const RETRANSMIT_BUFFER_MAX = 16_384;
/** A packet older than this is not sent again: the receiver has given up on it. */
export const RETRANSMIT_MAX_AGE_MS = 250;

// -- sizes (bonding.md §2, §3, §7) --------------------------------------------------------------

/** Outer (framing datagram) header, authenticated as associated data. */
export const OUTER_HEADER_BYTES = DATAGRAM_HEADER_BYTES;
/** Encrypted inner header (bonding.md §3). */
export const INNER_HEADER_BYTES = 12;
/** AEAD tag. */
export const TAG_BYTES = AEAD_TAG_BYTES;
/** Bytes a datagram adds to its payload: outer header + inner header + tag = 44. */
export const DATAGRAM_OVERHEAD_BYTES = OUTER_HEADER_BYTES + INNER_HEADER_BYTES + TAG_BYTES;
/** Smallest valid datagram: overhead with an empty payload (a PROBE_ACK). */
export const DATAGRAM_MIN_BYTES = DATAGRAM_OVERHEAD_BYTES;
/** Largest datagram (the largest UDP payload over IPv4, framing's default). */
export const DATAGRAM_MAX_BYTES = 65_507;
/** Largest payload of one datagram. */
export const PAYLOAD_MAX_BYTES = DATAGRAM_MAX_BYTES - DATAGRAM_OVERHEAD_BYTES;
/** Payload of a CLOSE datagram: reason code u16 BE. */
export const CLOSE_PAYLOAD_BYTES = 2;
/** PROBE_ACK payload: the payload length of the PROBE it answers (u16 BE), the proof of its size. */
export const PROBE_ACK_PAYLOAD_BYTES = 2;

/** IPv4 header without options. */
export const IPV4_HEADER_BYTES = 20;
/** IPv6 fixed header. */
export const IPV6_HEADER_BYTES = 40;
/** UDP header. */
export const UDP_HEADER_BYTES = 8;
/** TCP header without options. */
export const TCP_HEADER_BYTES = 20;
/** Smallest IPv6 link MTU (RFC 8200 §5); a TUN MTU below it cannot carry IPv6. */
export const IPV6_MIN_MTU = 1280;
/** Smallest MTU accepted for a link or the TUN device (RFC 791: every host takes 576). */
export const MTU_MIN = 576;
/** Largest MTU accepted (an IP total length is 16 bits). */
export const MTU_MAX = 65_535;

// -- inner header fields (bonding.md §3) --------------------------------------------------------

/** Links per client (link ids 0..15). */
export const MAX_LINKS = 16;
/** Largest link id. */
export const LINK_ID_MAX = MAX_LINKS - 1;
/** Largest value of the inner header's flags nibble (no bit is defined in version 1). */
export const INNER_FLAGS_MAX = 0x0f;
/** Echo hold (u8, ms) meaning "nothing to echo": also sent when the echo was held longer than 254 ms. */
export const ECHO_HOLD_NONE = 0xff;

// -- feedback (bonding.md §5) --------------------------------------------------------------------

/** Per-link entry: link id u8, reserved u8, received u32, lost u32, bytes u64. */
export const FEEDBACK_ENTRY_BYTES = 18;
/** Most entries in one FEEDBACK payload (one per link). */
export const FEEDBACK_MAX_ENTRIES = MAX_LINKS;
/** Largest FEEDBACK payload: count byte + 16 entries. */
export const FEEDBACK_MAX_BYTES = 1 + FEEDBACK_MAX_ENTRIES * FEEDBACK_ENTRY_BYTES;
/** Feedback period per usable link. */
export const FEEDBACK_INTERVAL_MS = 100;

// -- session lifetime (bonding.md §6; WireGuard's timer constants for the time values) ---------

/** Start a new handshake after this many datagrams sent with one key. */
export const REKEY_AFTER_MESSAGES = 2 ** 40;
/**
 * Refuse to send with a key after this many datagrams (hard limit, well inside the 2^53
 * counters of @edgebox/crypto): the margin over REKEY_AFTER_MESSAGES is the time a rekey
 * handshake has to finish.
 */
export const REJECT_AFTER_MESSAGES = 2 ** 41;
/** Start a new handshake when the session is this old. */
export const REKEY_AFTER_MS = 120_000;
/** A session this old neither seals nor opens (hard key lifetime). */
export const REJECT_AFTER_MS = 180_000;
/** After a rekey the old session still opens datagrams for this long. */
export const REKEY_GRACE_MS = 10_000;
/** A session with no authenticated datagram for this long is destroyed. */
export const SESSION_IDLE_MS = 180_000;
/** Default bound of a session table (clients of one server). */
export const SESSION_TABLE_MAX_CLIENTS = 1024;

/** Replay window of a bonding session (bonding.md §3: larger than crypto's default 2048). */
export const REPLAY_WINDOW_BONDING = 8192;

// -- reorder buffer (bonding.md §4) --------------------------------------------------------------

/** Slots of a reorder buffer (a power of two). */
export const REORDER_CAPACITY_DEFAULT = 4096;
/** Largest reorder capacity. */
export const REORDER_CAPACITY_MAX = 65_536;
/** Default slot size: a 1500-byte packet (give the TUN MTU when it is larger). */
export const REORDER_SLOT_BYTES_DEFAULT = 1500;
/** Lower clamp of the gap wait. */
export const REORDER_WAIT_MIN_MS = 1;
/** Upper clamp of the gap wait. */
export const REORDER_WAIT_MAX_MS = 200;
/** Jitter multiplier in the gap wait: rttSpread + 4·jitter. */
export const REORDER_JITTER_FACTOR = 4;

// -- the running app (service, timers, handshake driver) ----------------------------------------

/** Default ops port of edgebox-bond (/metrics /health /ready /status). */
export const BONDING_OPS_PORT = 9470;
/** Default TUN device name. */
export const TUN_NAME_DEFAULT = 'bond0';
/** Default bound of a server's clients. */
export const SERVER_MAX_CLIENTS_DEFAULT = 64;
/** Path MTU assumed for a link when the TUN MTU is 'auto'. */
export const LINK_MTU_DEFAULT = 1500;
/** Period of the one coarse timer (reorder poll, probes, evaluations, handshakes). */
export const TICK_MS = 5;
/** Link health evaluation and delivery-rate refresh period. */
export const EVALUATE_INTERVAL_MS = 100;
/** Server: session table sweep period. */
export const SWEEP_INTERVAL_MS = 1000;
/** Client: first handshake retransmission; doubles per attempt up to HANDSHAKE_RETRY_MAX_MS. */
export const HANDSHAKE_RETRY_MS = 250;
/** Client: longest interval between handshake retransmissions. */
export const HANDSHAKE_RETRY_MAX_MS = 2000;
/** Client: one handshake attempt is abandoned (and a fresh Init built) after this long. */
export const HANDSHAKE_ATTEMPT_MS = 10_000;
/** Client: wait after a refused handshake (wrong key, untrusted certificate) before the next. */
export const HANDSHAKE_REFUSED_BACKOFF_MS = 5000;
/**
 * Client: with a session but nothing authentic received on any link for this long, the server
 * has probably lost the session (restart): handshake again.
 */
export const SESSION_SILENCE_REHANDSHAKE_MS = 5000;
/** Client: how often source routes of failing links are checked and re-installed. */
export const ROUTE_REPAIR_INTERVAL_MS = 1000;
/** Sealed-datagram ring: slots handed to the kernel in turn (see send.ts). */
export const SEND_RING_SLOTS = 2048;
/** Socket buffers of the links (capped by net.core.[rw]mem_max). */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** CLOSE reason: the sender is shutting down. */
export const CLOSE_REASON_SHUTDOWN = 1;
