/**
 * Protocol numbers and defaults of the tunnel stream protocol (docs/protocols/tunnel.md).
 * Units are in the names.
 */

/** Frame types (tunnel.md §2); the tunnel owns 0x10..0x3F (framing.md §6). */
export const FRAME_OPEN = 0x10;
export const FRAME_OPEN_ACK = 0x11;
export const FRAME_OPEN_ERR = 0x12;
export const FRAME_DATA = 0x13;
export const FRAME_FIN = 0x14;
export const FRAME_RESET = 0x15;
export const FRAME_WINDOW_UPDATE = 0x16;
export const FRAME_DATAGRAM = 0x17;
export const FRAME_PING = 0x18;
export const FRAME_PONG = 0x19;
export const FRAME_REKEY = 0x1a;
export const FRAME_GOAWAY = 0x1b;

/** Flag of a REKEY answering a request (tunnel.md §6). */
export const FLAG_REKEY_ACK = 0x02;

/** Frame types sent after the handshake, with the flags each allows (a framing `knownTypes` registry). */
export const TUNNEL_FRAME_TYPES: ReadonlyMap<number, number> = new Map([
  [FRAME_OPEN, 0],
  [FRAME_OPEN_ACK, 0],
  [FRAME_OPEN_ERR, 0],
  [FRAME_DATA, 0],
  [FRAME_FIN, 0],
  [FRAME_RESET, 0],
  [FRAME_WINDOW_UPDATE, 0],
  [FRAME_DATAGRAM, 0],
  [FRAME_PING, 0],
  [FRAME_PONG, 0],
  [FRAME_REKEY, FLAG_REKEY_ACK],
  [FRAME_GOAWAY, 0],
]);

/** Frame type names, for messages and status. */
export const FRAME_NAMES: Readonly<Record<number, string>> = {
  [FRAME_OPEN]: 'OPEN',
  [FRAME_OPEN_ACK]: 'OPEN_ACK',
  [FRAME_OPEN_ERR]: 'OPEN_ERR',
  [FRAME_DATA]: 'DATA',
  [FRAME_FIN]: 'FIN',
  [FRAME_RESET]: 'RESET',
  [FRAME_WINDOW_UPDATE]: 'WINDOW_UPDATE',
  [FRAME_DATAGRAM]: 'DATAGRAM',
  [FRAME_PING]: 'PING',
  [FRAME_PONG]: 'PONG',
  [FRAME_REKEY]: 'REKEY',
  [FRAME_GOAWAY]: 'GOAWAY',
};

/** OPEN protocol byte. */
export const PROTOCOL_TCP = 1;
export const PROTOCOL_UDP = 2;

/** Largest DATA body (plaintext). */
export const MAX_DATA_BYTES = 65_536;
/**
 * Free buffers kept per connection for opened DATA payloads and for sealed DATA frames
 * (buffer-pool.ts): at most 32 x 64 KiB + 8 x 64 KiB (~2.6 MB) per session stays allocated
 * after a burst; beyond that a returned buffer is left to the GC.
 */
export const PLAIN_POOL_MAX_FREE = 32;
export const SEALED_POOL_MAX_FREE = 8;
/** Largest DATAGRAM body: the largest UDP payload over IPv4. */
export const MAX_DATAGRAM_BYTES = 65_507;
/** Largest OPEN target (`host:port`). */
export const MAX_TARGET_BYTES = 255;
/** AEAD tag appended to every sealed body. */
export const TAG_BYTES = 16;
/** Largest sealed frame payload: the decoder's maxPayload. */
export const MAX_SEALED_PAYLOAD_BYTES = MAX_DATA_BYTES + TAG_BYTES;
/** Largest credit in one WINDOW_UPDATE. */
export const MAX_WINDOW_UPDATE_BYTES = 0x7fff_ffff;
/** Largest stream id. */
export const MAX_STREAM_ID = 0x7fff_ffff;
/** PING / PONG body. */
export const PING_BYTES = 8;

/** Flow control (tunnel.md §5). */
export const STREAM_WINDOW_INITIAL_BYTES = 256 * 1024;
export const STREAM_WINDOW_MAX_BYTES = 16 * 1024 * 1024;
export const CONNECTION_WINDOW_INITIAL_BYTES = 1024 * 1024;
export const CONNECTION_WINDOW_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Receive-window auto-tuning (a receiver policy, no wire change): half a stream window taken
 * by the reader within two round trips of the previous grant means the window limits the
 * stream; this is that interval before the first RTT sample.
 */
export const WINDOW_GROW_WITHIN_MS = 25;
/** Default bound on all streams' window growth in one connection. */
export const WINDOW_GROWTH_BUDGET_BYTES = 64 * 1024 * 1024;

/** Streams the peer may have open at once. */
export const DEFAULT_MAX_STREAMS = 1024;
/** Datagrams queued per udp stream on either side before dropping. */
export const DEFAULT_DATAGRAM_QUEUE = 256;

/** Rekey thresholds (tunnel.md §6). */
export const REKEY_AFTER_MESSAGES = 2 ** 32;
export const REKEY_AFTER_BYTES = 2 ** 36;
export const REKEY_AFTER_MS = 120_000;
/** Hard nonce counter limit: never seal past it. */
export const NONCE_COUNTER_HARD_LIMIT = 2 ** 48;
/** HKDF info of the key update. */
export const REKEY_INFO = 'edgebox/tunnel/v1/rekey';

/** Codes of OPEN_ERR, RESET and GOAWAY (tunnel.md §8). */
export const TUNNEL_CODES = {
  NO_ERROR: 0,
  REFUSED: 1,
  UNREACHABLE: 2,
  LIMIT: 3,
  GOING_AWAY: 4,
  PROTOCOL: 5,
  FLOW_CONTROL: 6,
  CANCEL: 7,
  INTERNAL: 8,
  TIMEOUT: 9,
} as const;

/** A code name of TUNNEL_CODES. */
export type TunnelCodeName = keyof typeof TUNNEL_CODES;

/** Name of a wire code, `UNKNOWN` for numbers outside the table. */
export function codeName(code: number): TunnelCodeName | 'UNKNOWN' {
  for (const [name, value] of Object.entries(TUNNEL_CODES)) if (value === code) return name as TunnelCodeName;
  return 'UNKNOWN';
}
