/**
 * @edgebox/crypto: AEAD, nonces and replay window, HKDF, X25519 + ML-KEM-768 hybrid key
 * agreement, Ed25519 identities, the appliance CA and the edgebox handshake.
 * Policy: ../../docs/architecture.md "Crypto policy".
 */
export * from './errors.js';
// -- primitives (aead, nonce, replay window, hkdf, x25519, ml-kem, hybrid, identity, zeroize)
// -- certificates (appliance CA, issue, verify, revoke)
// -- handshake
