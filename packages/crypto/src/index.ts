/**
 * @edgebox/crypto: AEAD, nonces and replay window, HKDF, X25519 + ML-KEM-768 hybrid key
 * agreement, Ed25519 identities, the appliance CA and the edgebox handshake.
 * Policy: ../../docs/architecture.md "Crypto policy".
 */
export * from './errors.js';
// -- primitives (aead, nonce, replay window, hkdf, x25519, ml-kem, hybrid, identity, zeroize)
export {
  generateIdentity,
  identityFromSeed,
  ed25519PrivateKeyFromSeed,
  signMessage,
  verifySignature,
  ed25519PublicKeyFromRaw,
  rawFromEd25519PublicKey,
  exportIdentityPem,
  importIdentityPem,
  type Identity,
  type IdentityPem,
} from './identity.js';
export { sha256, hmacSha256 } from './hash.js';
export { hkdf, hkdfExtract, hkdfExpand } from './hkdf.js';
export { zeroize, constantTimeEqual } from './zeroize.js';
export { generateX25519KeyPair, x25519KeyPairFromPrivate, x25519SharedSecret, type X25519KeyPair } from './x25519.js';
export { mlkemKeygen, mlkemEncapsulate, mlkemDecapsulate, type MlKemKeyPair, type MlKemEncapsulation } from './mlkem.js';
export { combineHybridSecret, combineClassicalSecret, type HybridSecretInput, type ClassicalSecretInput } from './hybrid.js';
export { createAead, defaultAeadImplementation, nativeAeadAvailable, AEAD_ALGORITHMS, type Aead, type AeadAlgorithm, type AeadImplementation, type AeadInit } from './aead.js';
export { createNonceSequence, writeCounterNonce, readNonceCounter, type NonceSequence, type NonceSequenceInit } from './nonce.js';
export { createReplayWindow, type ReplayWindow, type ReplayWindowInit } from './replay-window.js';
export * from './constants.js';
// -- certificates (appliance CA, issue, verify, revoke)
export {
  createCertificateAuthority,
  exportCertificateAuthority,
  importCertificateAuthority,
  issueCertificate,
  type CertificateAuthority,
  type CertificateAuthorityInit,
  type CertificateAuthorityPem,
  type IssueCertificateInit,
  type IssuedCertificate,
} from './certificate-authority.js';
export { createRevocationList, type RevocationReason, type RevokedCertificateEntry, type RevocationListInit } from './revocation.js';
export {
  createTrustStore,
  type TrustStore,
  type TrustStoreInit,
  type VerifiedCertificate,
  type VerifyCertificateOptions,
  type TrustedAuthoritySummary,
} from './trust-store.js';
export {
  pemToDer,
  derToPem,
  inspectCertificate,
  CERT_MAX_DER_BYTES,
  CRL_MAX_DER_BYTES,
  TRUST_STORE_MAX_AUTHORITIES,
  type CertificateUsage,
  type CertificateInfo,
  type SubjectAltNames,
} from './certificates.js';
// -- handshake
export {
  createHandshakeInitiator,
  type HandshakeInitiator,
  type HandshakeInitiatorInit,
  type HandshakeInitiatorState,
} from './handshake-initiator.js';
export {
  createHandshakeResponder,
  type HandshakeResponder,
  type HandshakeResponderInit,
  type HandshakeCookieMode,
} from './handshake-responder.js';
export type {
  HandshakeResult,
  HandshakeStep,
  HandshakePeer,
  HandshakeReceiveContext,
  HandshakeTrustStore,
  HandshakeVerifiedCertificate,
  HandshakeCertificateCredentials,
  HandshakePskCredentials,
  HandshakeCommonInit,
} from './handshake-types.js';
export type { HandshakePeerAddress } from './handshake-cookie.js';
export { peekHandshakeType } from './handshake-messages.js';
export {
  DEFAULT_HANDSHAKE_SUITES,
  HANDSHAKE_SUITES,
  HANDSHAKE_SUPPORTED_VERSIONS,
  HS_MAX_MESSAGE_BYTES,
  HS_INIT_MIN_BYTES,
  HS_COOKIE_REPLY_BYTES,
  isHybridSuite,
  type HandshakeSuite,
  type HandshakeAeadAlgorithm,
} from './handshake-constants.js';
