/**
 * Protocol numbers, algorithm suites and size limits of the edgebox handshake
 * (docs/protocols/handshake.md §2, §3). Tunables (timeouts, cache sizes) have their defaults
 * here too, with their units in the names.
 */

/** The only handshake protocol version defined so far (handshake.md §2). */
export const HANDSHAKE_VERSION_1 = 1;
/** Versions this implementation speaks, best first. */
export const HANDSHAKE_SUPPORTED_VERSIONS: readonly number[] = [HANDSHAKE_VERSION_1];

/** Message type byte (offset 1 of every message). */
export const HS_TYPE_INIT = 0x01;
export const HS_TYPE_RESPONSE = 0x02;
export const HS_TYPE_FINISH = 0x03;
export const HS_TYPE_COOKIE_REPLY = 0x04;

/** Authentication mode byte of the Init message. */
export const HS_AUTH_CERTIFICATE = 0x01;
export const HS_AUTH_PSK = 0x02;

/**
 * An algorithm suite: key agreement + AEAD (hash is always SHA-256, signatures Ed25519).
 * Hybrid suites combine X25519 and ML-KEM-768; classical suites use X25519 alone.
 */
export type HandshakeSuite =
  | 'x25519-mlkem768-chacha20poly1305'
  | 'x25519-mlkem768-aes256gcm'
  | 'x25519-chacha20poly1305'
  | 'x25519-aes256gcm';

/** AEAD algorithm names as understood by `createAead`. */
export type HandshakeAeadAlgorithm = 'chacha20-poly1305' | 'aes-256-gcm';

interface SuiteInfo {
  readonly id: number;
  readonly hybrid: boolean;
  readonly aead: HandshakeAeadAlgorithm;
}

/** Wire ids of the suites (handshake.md §3.1). */
export const HANDSHAKE_SUITES: Readonly<Record<HandshakeSuite, SuiteInfo>> = {
  'x25519-mlkem768-chacha20poly1305': { id: 0x01, hybrid: true, aead: 'chacha20-poly1305' },
  'x25519-mlkem768-aes256gcm': { id: 0x02, hybrid: true, aead: 'aes-256-gcm' },
  'x25519-chacha20poly1305': { id: 0x11, hybrid: false, aead: 'chacha20-poly1305' },
  'x25519-aes256gcm': { id: 0x12, hybrid: false, aead: 'aes-256-gcm' },
};

/** Default policy: hybrid only, ChaCha20-Poly1305 preferred. Classical is never a default. */
export const DEFAULT_HANDSHAKE_SUITES: readonly HandshakeSuite[] = [
  'x25519-mlkem768-chacha20poly1305',
  'x25519-mlkem768-aes256gcm',
];

const SUITE_BY_ID = new Map<number, HandshakeSuite>(
  (Object.keys(HANDSHAKE_SUITES) as HandshakeSuite[]).map((s) => [HANDSHAKE_SUITES[s].id, s]),
);

/**
 * The suite with wire id `id`, or undefined for an unknown id.
 *
 * @example suiteFromId(0x01) // 'x25519-mlkem768-chacha20poly1305'
 */
export function suiteFromId(id: number): HandshakeSuite | undefined {
  return SUITE_BY_ID.get(id);
}

/**
 * True for suites that add ML-KEM-768 to X25519.
 *
 * @example isHybridSuite('x25519-aes256gcm') // false
 */
export function isHybridSuite(suite: HandshakeSuite): boolean {
  return HANDSHAKE_SUITES[suite].hybrid;
}

// ---- sizes (bytes) -----------------------------------------------------------------------
export const X25519_PUBLIC_KEY_BYTES = 32;
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
export const ED25519_SIGNATURE_BYTES = 64;
export const HS_RANDOM_BYTES = 16;
export const HS_MAC_BYTES = 32;
export const HS_AEAD_TAG_BYTES = 16;
export const HS_COOKIE_BYTES = 20; // epoch u32 + 16-byte MAC
export const HS_INIT_ID_BYTES = 16; // first 16 bytes of TH1, echoed in a CookieReply
export const HS_MAX_VERSIONS = 4;
export const HS_MAX_SUITES = 8;
export const HS_MAX_PSK_ID_BYTES = 64;
/** Largest certificate (DER) carried in a Response or Finish. Keeps amplification < 3x. */
export const HS_MAX_CERTIFICATE_BYTES = 1500;
/**
 * Every Init is padded to at least this size, so that a Response (bounded by the limits
 * above) is never more than 3x what an unvalidated address sent us (handshake.md §7).
 */
export const HS_INIT_MIN_BYTES = 1200;
/** Size limits checked before any parsing (handshake.md §3). */
export const HS_INIT_MAX_BYTES = 2048;
export const HS_RESPONSE_MAX_BYTES = 4096;
export const HS_FINISH_MAX_BYTES = 2048;
export const HS_COOKIE_REPLY_BYTES = 45;
/** The largest message of any type; a transport may drop anything bigger unread. */
export const HS_MAX_MESSAGE_BYTES = HS_RESPONSE_MAX_BYTES;

// ---- tunables ----------------------------------------------------------------------------
/** Max |now - Init.timestamp| accepted by a responder. */
export const DEFAULT_HS_MAX_SKEW_MS = 30_000;
/** Entries kept by the responder's replay cache of recent Init ids. */
export const DEFAULT_HS_REPLAY_CACHE_SIZE = 16_384;
/** Half-open handshakes a responder keeps at most. */
export const DEFAULT_HS_MAX_PENDING = 1024;
/** A half-open handshake is forgotten (and zeroized) after this long. */
export const DEFAULT_HS_PENDING_TIMEOUT_MS = 15_000;
/** The cookie secret rotates this often; a cookie is valid for the current and previous epoch. */
export const DEFAULT_HS_COOKIE_ROTATION_MS = 120_000;
