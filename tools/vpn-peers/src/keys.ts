/**
 * WireGuard keys from node:crypto: X25519 (RFC 7748), raw 32-byte keys. UAPI wants them as
 * hex, `wg` and config files as base64: `key.toString('hex')`, `key.toString('base64')`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { VpnPeersError } from './errors.js';

/** A WireGuard key pair as raw 32-byte keys. */
export interface WireGuardKeyPair {
  privateKey: Buffer;
  publicKey: Buffer;
}

/** PKCS#8 DER header of an X25519 private key (RFC 8410): the raw 32 bytes follow. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * A fresh X25519 key pair.
 *
 * @example
 * const { privateKey, publicKey } = generateWireGuardKeyPair();
 * const uapiLine = `private_key=${privateKey.toString('hex')}`;
 */
export function generateWireGuardKeyPair(): WireGuardKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'),
    publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
  };
}

/**
 * The public key of a raw 32-byte X25519 private key (X25519(k, 9), RFC 7748 §6.1).
 *
 * @example wireGuardPublicKey(Buffer.from(aliceHex, 'hex')).toString('hex')
 */
export function wireGuardPublicKey(privateKey: Uint8Array): Buffer {
  if (privateKey.length !== 32) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `X25519 private key is ${privateKey.length} bytes (expected 32)`, { details: { length: privateKey.length } });
  }
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
  return Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
}
