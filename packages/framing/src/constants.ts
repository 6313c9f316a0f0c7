/**
 * Protocol numbers and default limits of @edgebox/framing (docs/protocols/framing.md §2-§5).
 * Tunables (decoder limits, buffer retention) take these as defaults via `??`. Units are in
 * the names.
 */

/** Version byte that leads every stream frame and datagram of this spec (framing.md §2). */
export const FRAMING_VERSION = 1;

/** Stream frame header: version, type, flags, reserved, channel u32 BE, length u32 BE. */
export const FRAME_HEADER_BYTES = 12;

/**
 * Absolute ceiling of a stream frame's payload: 16 MiB. The length field is a u32, but
 * version 1 rejects anything larger, and no decoder may be configured above this.
 */
export const FRAME_MAX_PAYLOAD_LIMIT = 16 * 1024 * 1024;

/**
 * Default payload limit of encoders and stream decoders: 256 KiB. Room for a 64 KiB
 * plaintext plus its AEAD tag and an app sub-header (a 65535 limit would not fit
 * 65536 + 16), while bounding a decoder's buffer to 256 KiB + 12 per connection.
 */
export const DEFAULT_MAX_FRAME_PAYLOAD = 256 * 1024;

/**
 * A stream decoder keeps its internal buffer between frames only while it is at most this
 * big (128 KiB: a 64 KiB DATA frame's buffer is reused); a bigger one, grown for a large
 * frame, is released once that frame is out, so idle connections hold little memory.
 */
export const DEFAULT_STREAM_RETAIN_BYTES = 128 * 1024;

/** Datagram header: version, type, flags, reserved, receiver u32 BE, counter u64 LE. */
export const DATAGRAM_HEADER_BYTES = 16;

/** Default largest datagram (header + body): the largest UDP payload over IPv4 (65535 - 20 - 8). */
export const DEFAULT_MAX_DATAGRAM_BYTES = 65_507;

/** Largest datagram limit a decoder accepts: the largest UDP payload over IPv6 (65535 - 8). */
export const DATAGRAM_MAX_BYTES_LIMIT = 65_527;

/** Channel 0 carries connection-level frames (PING, GOAWAY, REKEY, ...) by convention. */
export const CONTROL_CHANNEL = 0;

/** Largest channel id (u32). */
export const MAX_CHANNEL = 0xffff_ffff;

/**
 * Flag bits. Framing does not interpret flags; these are the conventional meanings the
 * apps' protocols reuse where they fit (framing.md §6). Bits 0x08..0x80 are free per type.
 */
/** Last frame of this channel in this direction (half-close). */
export const FLAG_FIN = 0x01;
/** A reply to a request frame (PING, REKEY, OPEN). */
export const FLAG_ACK = 0x02;
/** Abort the channel. */
export const FLAG_RST = 0x04;
/** Every flag bit. */
export const FLAGS_ALL = 0xff;

/** Frame type ranges (framing.md §6). Type 0 is never assigned. */
export const TYPE_HANDSHAKE_FIRST = 0x01;
/** Last type reserved for handshake messages (handshake.md §3). */
export const TYPE_HANDSHAKE_LAST = 0x0f;
/** First app-owned type. */
export const TYPE_APP_FIRST = 0x10;
/** Last app-owned type. */
export const TYPE_APP_LAST = 0xef;
