/**
 * Sizes and limits of the @edgebox/crypto primitives. Protocol numbers only; tunables take
 * these as defaults via `??`. Units are in the names.
 */

/** AEAD key length (both chacha20-poly1305 and aes-256-gcm). */
export const AEAD_KEY_BYTES = 32;
/** AEAD nonce length (RFC 8439 / GCM 96-bit IV). */
export const AEAD_NONCE_BYTES = 12;
/** AEAD authentication tag length. */
export const AEAD_TAG_BYTES = 16;

/** Counter-nonce layout: 4-byte prefix (direction / sender id) + 8-byte counter. */
export const NONCE_PREFIX_BYTES = 4;
/** Counter part of a counter nonce. */
export const NONCE_COUNTER_BYTES = 8;
/**
 * Default and hard counter limit. Counters are plain numbers (no bigint on the hot path), so
 * they stay exact only up to 2^53 - 1; the sequence refuses to go past its limit (rekey
 * first). Apps normally rekey far earlier by message count and time.
 */
export const NONCE_COUNTER_MAX = Number.MAX_SAFE_INTEGER;

/** Default replay-window size in packets (ARCHITECTURE.md: at least 2048). */
export const REPLAY_WINDOW_DEFAULT = 2048;
/** Largest replay window accepted (bounds memory: 2^16 bits = 8 KiB). */
export const REPLAY_WINDOW_MAX = 65_536;

/** SHA-256 output. */
export const SHA256_BYTES = 32;
/** HKDF-SHA256 can expand at most 255 blocks (RFC 5869 §2.3). */
export const HKDF_SHA256_MAX_OUTPUT_BYTES = 255 * SHA256_BYTES;

/** X25519 public and private key length (RFC 7748). */
export const X25519_KEY_BYTES = 32;
/** X25519 shared secret length. */
export const X25519_SHARED_BYTES = 32;

/** ML-KEM-768 encapsulation (public) key length (FIPS 203). */
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
/** ML-KEM-768 decapsulation (secret) key length. */
export const MLKEM768_SECRET_KEY_BYTES = 2400;
/** ML-KEM-768 ciphertext length. */
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
/** ML-KEM shared secret length. */
export const MLKEM_SHARED_BYTES = 32;
/** ML-KEM key-generation seed (d || z). */
export const MLKEM_KEYGEN_SEED_BYTES = 64;
/** ML-KEM encapsulation randomness (m). */
export const MLKEM_ENCAPS_SEED_BYTES = 32;

/** Hybrid / classical combiner default output length. */
export const HYBRID_SECRET_BYTES = 32;

/** Ed25519 raw public key. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Ed25519 secret seed (RFC 8032 private key). */
export const ED25519_SEED_BYTES = 32;
/** Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;
