/**
 * PKI files → handshake credentials: the CA (trust store, with revocation lists), this
 * side's certificate and its private key, and the suites the `kem` setting allows. Cold path:
 * read at start and at every reload (a new CRL applies to the next handshake).
 *
 * Suite policy (ARCHITECTURE.md "Crypto policy"): `hybrid` offers/accepts only X25519 +
 * ML-KEM-768; `classical` adds X25519-only suites after the hybrid ones, so a classical
 * session happens only when both sides are configured for it (a hybrid dest answers a
 * classical-only offer with CRYPTO_HANDSHAKE_DOWNGRADE).
 */
import { readFile } from 'node:fs/promises';
import {
  constantTimeEqual,
  createHandshakeInitiator,
  createHandshakeResponder,
  createTrustStore,
  importIdentityPem,
  inspectCertificate,
  pemToDer,
  type HandshakeCertificateCredentials,
  type HandshakeInitiator,
  type HandshakeResponder,
  type HandshakeSuite,
} from '@edgebox/crypto';
import type { TunnelConfig } from './config.js';
import { TunnelError } from './errors.js';

/** Hybrid suites, AES-GCM first (AES-NI makes it the faster AEAD on the data plane). */
export const HYBRID_SUITES: readonly HandshakeSuite[] = ['x25519-mlkem768-aes256gcm', 'x25519-mlkem768-chacha20poly1305'];
/** Classical suites, offered only with `kem: classical`. */
export const CLASSICAL_SUITES: readonly HandshakeSuite[] = ['x25519-aes256gcm', 'x25519-chacha20poly1305'];

/** What a session needs to run handshakes. */
export interface TunnelCredentials {
  readonly certificate: HandshakeCertificateCredentials;
  readonly suites: readonly HandshakeSuite[];
  /** Common name of our certificate. */
  readonly commonName: string;
}

/**
 * The suites of a `kem` setting, as initiator or responder.
 *
 * @example suitesFor('hybrid') // ['x25519-mlkem768-aes256gcm', 'x25519-mlkem768-chacha20poly1305']
 */
export function suitesFor(kem: TunnelConfig['kem'], role: 'source' | 'dest'): readonly HandshakeSuite[] {
  if (kem === 'hybrid') return HYBRID_SUITES;
  // A classical source offers classical only (that is what it asked for); a classical dest
  // still prefers hybrid when the source offers it.
  return role === 'source' ? CLASSICAL_SUITES : [...HYBRID_SUITES, ...CLASSICAL_SUITES];
}

async function read(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new TunnelError('TUNNEL_CONFIG', `pki.${what} ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
}

/**
 * Loads the PKI files of a config into handshake credentials.
 *
 * @example
 * const creds = await loadCredentials(config);
 * const hs = createInitiator(creds);
 */
export async function loadCredentials(config: Pick<TunnelConfig, 'pki' | 'kem' | 'role' | 'peerName'>): Promise<TunnelCredentials> {
  const [caPem, certPem, keyPem, ...crls] = await Promise.all([
    read(config.pki.ca, 'ca'),
    read(config.pki.cert, 'cert'),
    read(config.pki.key, 'key'),
    ...config.pki.crl.map((f) => read(f, 'crl')),
  ]);
  try {
    const authorities = caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [caPem];
    const trustStore = await createTrustStore({ authorities, revocationLists: crls });
    const identity = importIdentityPem(keyPem);
    const certificate = pemToDer(certPem);
    // Our own certificate must chain to the CA we trust and certify our key: a config mistake
    // otherwise, better refused at start than by every peer.
    let commonName = inspectCertificate(certificate).commonName;
    if (config.pki.selfCheck) {
      const own = trustStore.verify(certificate);
      if (!constantTimeEqual(own.publicKey, identity.publicKey)) {
        throw new TunnelError('TUNNEL_CONFIG', `pki.key ${config.pki.key} is not the key certified by pki.cert ${config.pki.cert}`);
      }
      commonName = own.commonName;
    }
    const peerName = config.peerName;
    return {
      certificate: {
        kind: 'certificate',
        certificate,
        privateKey: identity.privateKey,
        trustStore,
        ...(peerName === undefined ? {} : { authorize: (peer) => peer.commonName === peerName }),
      },
      suites: suitesFor(config.kem, config.role),
      commonName,
    };
  } catch (cause) {
    if (cause instanceof TunnelError) throw cause;
    throw new TunnelError('TUNNEL_CONFIG', `pki: ${(cause as Error).message}`, { cause, details: { cause: (cause as { code?: string }).code } });
  }
}

/**
 * A fresh handshake initiator (one per connection attempt).
 *
 * @example const { result } = await initiateStreamHandshake(socket, createInitiator(creds));
 */
export function createInitiator(creds: TunnelCredentials): HandshakeInitiator {
  return createHandshakeInitiator({ credentials: creds.certificate, suites: creds.suites });
}

/**
 * The dest's responder (one per process; it keeps the replay cache).
 *
 * @example const { result } = await acceptStreamHandshake(socket, createResponder(creds));
 */
export function createResponder(creds: TunnelCredentials): HandshakeResponder {
  // A stream transport needs no retry cookie: the TCP handshake already proved the address.
  return createHandshakeResponder({ certificate: creds.certificate, suites: creds.suites, cookie: { mode: 'never' } });
}
