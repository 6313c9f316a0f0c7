/**
 * Public types of the edgebox handshake (docs/protocols/handshake.md): credentials, policy,
 * the result handed to the session layer, and the shape of a `receive()` outcome.
 */
import type { KeyObject } from 'node:crypto';
import type { HandshakeSuite, HandshakeAeadAlgorithm } from './handshake-constants.js';
import type { HandshakePeerAddress } from './handshake-cookie.js';
import type { TrustStore, VerifiedCertificate } from './trust-store.js';

/** What the trust store tells us about a verified peer certificate (trust-store.ts). */
export type HandshakeVerifiedCertificate = VerifiedCertificate;

/**
 * The trust store the handshake verifies peer certificates with: the package's
 * `createTrustStore()` result (only its synchronous `verify` is used, with `{now, usage}`;
 * it raises CRYPTO_CERT_* errors).
 */
export type HandshakeTrustStore = Pick<TrustStore, 'verify'>;

/** The authenticated peer of a completed handshake. */
export type HandshakePeer =
  | {
      readonly kind: 'certificate';
      readonly commonName: string;
      /** Raw 32-byte Ed25519 public key from the certificate. */
      readonly publicKey: Uint8Array;
      readonly serialHex: string;
      /** Lowercase hex SHA-256 of the peer's certificate DER. */
      readonly fingerprintSha256: string;
      /** End of the certificate's validity: a session should not outlive it. */
      readonly notAfter: Date;
    }
  | { readonly kind: 'psk'; readonly pskId: string };

/**
 * Certificate credentials: our certificate (issued by the appliance CA, `issueCertificate`),
 * the Ed25519 private key it certifies, and the trust store that verifies the peer's.
 */
export interface HandshakeCertificateCredentials {
  readonly kind: 'certificate';
  /** Our certificate, DER (≤ 1500 bytes; `IssuedCertificate.der`, or `pemToDer(pem)`). */
  readonly certificate: Uint8Array;
  /** Our Ed25519 private key (an `Identity.privateKey`: generateIdentity, importIdentityPem, identityFromSeed). */
  readonly privateKey: KeyObject;
  /** Verifies the peer's certificate (`createTrustStore`); usage `server` for a responder, `client` for an initiator. */
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
