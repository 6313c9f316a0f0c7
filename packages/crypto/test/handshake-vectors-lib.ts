// Computes a deterministic handshake run (handshake.md §10) as a JSON-able object: used by
// handshake-vectors-generate.ts to write docs/protocols/vectors/handshake/*.json and by
// handshake-vectors.test.ts to check the implementation reproduces them byte for byte.
//
// Certificate vectors: the appliance CA draws a random key and every issued certificate a
// random serial, so certificate DER is not reproducible from a seed. The vector therefore
// carries the DER itself (CA certificate and both leaves, fixed validity dates) plus the
// leaves' Ed25519 seeds; Ed25519 signatures are deterministic, so the run is byte-stable.
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import { decodeInit, decodeResponse } from '../src/handshake-messages.js';
import { TH0, deriveHandshakeSecrets, mixTranscript, toHex } from '../src/handshake-key-schedule.js';
import { isHybridSuite, type HandshakeSuite } from '../src/handshake-constants.js';
import { mlkemDecapsulate, mlkemKeyPair, x25519KeyPair, x25519Shared } from '../src/handshake-primitives.js';
import type { HandshakeCertificateCredentials, HandshakePeer } from '../src/handshake-types.js';
import { createCertificateAuthority, issueCertificate } from '../src/certificate-authority.js';
import { createTrustStore, type TrustStore } from '../src/trust-store.js';
import { derToPem } from '../src/certificates.js';
import { identityFromSeed } from '../src/identity.js';
import { runHandshake, seededRandom } from './handshake-helpers.js';

/** One side's certificate in a vector: DER as issued by the vector CA, and its key seed. */
export interface VectorCertificate {
  commonName: string;
  usage: 'client' | 'server';
  certificateDerHex: string;
  /** RFC 8032 Ed25519 secret key (seed), 32 bytes hex: identityFromSeed(). */
  privateKeySeedHex: string;
}

/** The PKI of a certificate vector: the CA certificate both sides trust and the two leaves. */
export interface VectorCertificates {
  caCertificateDerHex: string;
  initiator: VectorCertificate;
  responder: VectorCertificate;
}

export interface VectorInputs {
  name: string;
  description: string;
  timeMs: number;
  initiatorSeed: string;
  responderSeed: string;
  suites: HandshakeSuite[];
  psk?: { id: string; keyHex: string };
  certificates?: VectorCertificates;
}

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function credentialsOf(c: VectorCertificate, trustStore: TrustStore): HandshakeCertificateCredentials {
  return { kind: 'certificate', certificate: hex(c.certificateDerHex), privateKey: identityFromSeed(hex(c.privateKeySeedHex)).privateKey, trustStore };
}

function peerOf(p: HandshakePeer): Record<string, unknown> {
  return p.kind === 'psk'
    ? { kind: 'psk', pskId: p.pskId }
    : { kind: 'certificate', commonName: p.commonName, serialHex: p.serialHex, fingerprintSha256: p.fingerprintSha256, publicKey: toHex(p.publicKey) };
}

/** Run the handshake described by `inputs` and return every message and derived value. */
export async function computeVector(inputs: VectorInputs): Promise<Record<string, unknown>> {
  const now = (): number => inputs.timeMs;
  const psk = inputs.psk === undefined ? undefined : hex(inputs.psk.keyHex);
  let certs: { initiator: HandshakeCertificateCredentials; responder: HandshakeCertificateCredentials } | undefined;
  if (inputs.certificates !== undefined) {
    const c = inputs.certificates;
    const trustStore = await createTrustStore({ authorities: [derToPem(hex(c.caCertificateDerHex))] });
    certs = { initiator: credentialsOf(c.initiator, trustStore), responder: credentialsOf(c.responder, trustStore) };
  }
  const initiator = createHandshakeInitiator({
    credentials: psk !== undefined ? { kind: 'psk', pskId: inputs.psk!.id, psk } : certs!.initiator,
    suites: inputs.suites, now, random: seededRandom(inputs.initiatorSeed),
  });
  const responder = createHandshakeResponder({
    ...(psk !== undefined ? { psk: { lookup: () => psk } } : { certificate: certs!.responder }),
    suites: inputs.suites, now, random: seededRandom(inputs.responderSeed), cookie: { mode: 'never' },
  });
  const run = runHandshake(initiator, responder);

  // Re-derive the intermediate values from the seeds, in the draw order of handshake.md §10.
  const ir = seededRandom(inputs.initiatorSeed);
  ir(4);
  ir(16);
  const eI = x25519KeyPair(ir(32));
  const hybrid = isHybridSuite(run.initiator.suite);
  const kem = hybrid ? mlkemKeyPair(ir(64)) : undefined;
  const init = decodeInit(run.init);
  const response = decodeResponse(run.response);
  const th1 = mixTranscript(TH0, init.body);
  const th2 = mixTranscript(th1, response.clear);
  const th3 = mixTranscript(th2, run.response.subarray(response.clear.length));
  const ssX = x25519Shared(eI.privateKey, response.x25519PublicKey);
  const ssPQ = kem === undefined ? undefined : mlkemDecapsulate(response.mlkemCiphertext!, kem.privateKey);
  const secrets = deriveHandshakeSecrets({ classical: ssX, postQuantum: ssPQ, psk, th2 });

  return {
    name: inputs.name,
    description: inputs.description,
    spec: 'docs/protocols/handshake.md',
    inputs,
    messages: { init: toHex(run.init), response: toHex(run.response), finish: toHex(run.finish) },
    derived: {
      suite: run.initiator.suite,
      version: run.initiator.version,
      initiatorSessionId: run.initiator.localSessionId,
      responderSessionId: run.responder.localSessionId,
      th1: toHex(th1),
      th2: toHex(th2),
      th3: toHex(th3),
      th4: toHex(run.initiator.transcriptHash),
      x25519Shared: toHex(ssX),
      mlkemShared: ssPQ === undefined ? null : toHex(ssPQ),
      hs: toHex(secrets.hs),
      hsKeyR2I: toHex(secrets.hsKeyR2I),
      hsKeyI2R: toHex(secrets.hsKeyI2R),
      finKeyR2I: toHex(secrets.finKeyR2I),
      finKeyI2R: toHex(secrets.finKeyI2R),
      keyI2R: toHex(run.initiator.sendKey),
      keyR2I: toHex(run.initiator.receiveKey),
      nonceI2R: toHex(run.initiator.sendNoncePrefix),
      nonceR2I: toHex(run.initiator.receiveNoncePrefix),
      initiatorSees: peerOf(run.initiator.peer),
      responderSees: peerOf(run.responder.peer),
      responderAgrees: toHex(run.responder.receiveKey) === toHex(run.initiator.sendKey) && toHex(run.responder.sendKey) === toHex(run.initiator.receiveKey),
    },
  };
}

export const VECTOR_TIME_MS = Date.UTC(2026, 10, 24, 6, 0, 0);

export const PSK_VECTORS: VectorInputs[] = [
  {
    name: 'psk-hybrid',
    description: 'PSK mode, hybrid X25519 + ML-KEM-768, ChaCha20-Poly1305 (default suite)',
    timeMs: VECTOR_TIME_MS,
    initiatorSeed: 'edgebox handshake vector initiator',
    responderSeed: 'edgebox handshake vector responder',
    suites: ['x25519-mlkem768-chacha20poly1305', 'x25519-mlkem768-aes256gcm'],
    psk: { id: 'vector-psk', keyHex: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' },
  },
  {
    name: 'psk-classical',
    description: 'PSK mode, classical X25519 only, AES-256-GCM (both sides configured for it)',
    timeMs: VECTOR_TIME_MS,
    initiatorSeed: 'edgebox handshake vector initiator classical',
    responderSeed: 'edgebox handshake vector responder classical',
    suites: ['x25519-aes256gcm'],
    psk: { id: 'vector-psk', keyHex: '1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100' },
  },
];

/** Fixed dates of the certificate vector's PKI: issued 2026-11-01, leaves valid one year. */
export const VECTOR_CA_ISSUED_MS = Date.UTC(2026, 10, 1, 0, 0, 0);
export const VECTOR_LEAF_NOT_BEFORE_MS = Date.UTC(2026, 10, 1, 0, 0, 0);
export const VECTOR_LEAF_VALIDITY_DAYS = 365;

/** Inputs of the certificate vectors, without the PKI (made once by makeVectorCertificates). */
export const CERT_VECTORS: (Omit<VectorInputs, 'certificates'> & { keySeeds: { initiator: string; responder: string } })[] = [
  {
    name: 'cert-hybrid',
    description: 'certificate mode (appliance CA, Ed25519 leaves: client initiator, server responder), hybrid X25519 + ML-KEM-768, ChaCha20-Poly1305',
    timeMs: VECTOR_TIME_MS,
    initiatorSeed: 'edgebox handshake vector initiator certificate',
    responderSeed: 'edgebox handshake vector responder certificate',
    suites: ['x25519-mlkem768-chacha20poly1305', 'x25519-mlkem768-aes256gcm'],
    keySeeds: {
      initiator: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      responder: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    },
  },
];

/**
 * Create the PKI of a certificate vector with the real appliance CA: fixed validity dates,
 * leaf keys from fixed seeds. The CA key and the serials are random, so this runs once and
 * the DER is stored in the vector (the generator reuses it on later runs).
 */
export async function makeVectorCertificates(keySeeds: { initiator: string; responder: string }): Promise<VectorCertificates> {
  const ca = await createCertificateAuthority({ commonName: 'edgebox vector CA', now: new Date(VECTOR_CA_ISSUED_MS + 5 * 60_000) });
  const leaf = async (commonName: string, usage: 'client' | 'server', seedHex: string): Promise<VectorCertificate> => {
    const issued = await issueCertificate(ca, {
      commonName,
      usage,
      publicKey: identityFromSeed(hex(seedHex)).publicKey,
      notBefore: new Date(VECTOR_LEAF_NOT_BEFORE_MS),
      validityDays: VECTOR_LEAF_VALIDITY_DAYS,
    });
    return { commonName, usage, certificateDerHex: toHex(issued.der), privateKeySeedHex: seedHex };
  };
  return {
    caCertificateDerHex: toHex(ca.certificateDer),
    initiator: await leaf('initiator.vector.edgebox', 'client', keySeeds.initiator),
    responder: await leaf('responder.vector.edgebox', 'server', keySeeds.responder),
  };
}
