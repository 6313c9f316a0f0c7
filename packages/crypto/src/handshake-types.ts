/**
 * Public types of the edgebox handshake (docs/protocols/handshake.md): credentials, policy,
 * the result handed to the session layer, and the shape of a `receive()` outcome.
 */
import type { HandshakeSuite, HandshakeAeadAlgorithm } from './handshake-constants.js';
import type { HandshakePeerAddress } from './handshake-cookie.js';

/** What a trust store tells us about a verified certificate (subset we rely on). */
export interface HandshakeVerifiedCertificate {
  readonly commonName: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly serialHex: string;
}

/**
 * The trust store the handshake verifies peer certificates with (structurally the package's
 * `createTrustStore()` result). `verify` is synchronous and raises CRYPTO_CERT_* errors.
 */
export interface HandshakeTrustStore {
  verify(certificateDer: Uint8Array, options: { now: Date; usage: 'server' | 'client' }): HandshakeVerifiedCertificate;
}

/** The authenticated peer of a completed handshake. */
export type HandshakePeer =
  | { readonly kind: 'certificate'; readonly commonName: string; readonly publicKey: Uint8Array; readonly serialHex: string }
  | { readonly kind: 'psk'; readonly pskId: string };

/** Certificate credentials: our certificate + Ed25519 key, and how we verify the peer's. */
export interface HandshakeCertificateCredentials {
  readonly kind: 'certificate';
  /** Our certificate, DER (≤ 1500 bytes). */
  readonly certificate: Uint8Array;
  /** Our Ed25519 private key (32-byte raw seed) matching the certificate. */
  readonly privateKey: Uint8Array;
  readonly trustStore: HandshakeTrustStore;
  /** Optional extra check of a verified peer (e.g. expected common name); false -> AUTH. */
  readonly authorize?: (peer: Extract<HandshakePeer, { kind: 'certificate' }>) => boolean;
}

/** PSK credentials of an initiator. */
export interface HandshakePskCredentials {
  readonly kind: 'psk';
  /** Names the key for the responder (UTF-8, 1..64 bytes, sent in clear). */
  readonly pskId: string;
  /** The pre-shared key, ≥ 32 random bytes. */
  readonly psk: Uint8Array;
}

/** Options shared by both roles. */
export interface HandshakeCommonInit {
  /** Allowed suites, best first. Default: the two hybrid suites. Classical only if listed. */
  readonly suites?: readonly HandshakeSuite[];
  /** Clock in ms since the Unix epoch (default Date.now). */
  readonly now?: () => number;
  /** Randomness source (default crypto.getRandomValues); inject for test vectors. */
  readonly random?: (length: number) => Uint8Array;
}

/** Keys and identities produced by a successful handshake. */
export interface HandshakeResult {
  readonly version: number;
  readonly suite: HandshakeSuite;
  readonly aead: HandshakeAeadAlgorithm;
  readonly role: 'initiator' | 'responder';
  /** 32-byte key for what we send; zeroized by destroy(). */
  readonly sendKey: Uint8Array;
  /** 32-byte key for what we receive; zeroized by destroy(). */
  readonly receiveKey: Uint8Array;
  /** 4-byte nonce prefixes per direction (counter nonces: prefix ‖ u64 counter). */
  readonly sendNoncePrefix: Uint8Array;
  readonly receiveNoncePrefix: Uint8Array;
  /** Our session id (u32): the peer puts it in the frames it sends us. */
  readonly localSessionId: number;
  /** The peer's session id (u32): we put it in the frames we send. */
  readonly remoteSessionId: number;
  readonly peer: HandshakePeer;
  /** TH4, identical on both sides. */
  readonly transcriptHash: Uint8Array;
  /** Zeroize every key of this result. Safe to call twice. */
  destroy(): void;
}

/** What to do after feeding a message in. */
export interface HandshakeStep {
  /** Bytes to send to the peer, if any. */
  readonly send?: Uint8Array;
  /** Set when the handshake completed on this side. */
  readonly result?: HandshakeResult;
}

/** Per-message context a responder needs from its transport. */
export interface HandshakeReceiveContext {
  /** The peer's address (opaque): binds retry cookies to it. Streams may pass ''. */
  readonly peerAddress: HandshakePeerAddress;
}
