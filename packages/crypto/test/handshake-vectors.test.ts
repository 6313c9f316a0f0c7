// The committed test vectors (docs/protocols/vectors/handshake/*.json, handshake.md §10)
// are reproduced byte for byte: PSK hybrid and classical, and certificate mode on the real
// appliance PKI (CA and leaf certificates carried in the vector as DER).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectCertificate } from '../src/certificates.js';
import { CERT_VECTORS, PSK_VECTORS, VECTOR_LEAF_NOT_BEFORE_MS, VECTOR_LEAF_VALIDITY_DAYS, computeVector, type VectorInputs } from './handshake-vectors-lib.js';

const dir = join(import.meta.dirname, '../../../docs/protocols/vectors/handshake');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const read = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as { inputs: VectorInputs; derived: Record<string, unknown> };

describe('handshake test vectors', () => {
  it('has a vector for every generated case (psk-hybrid, psk-classical, cert-hybrid)', () => {
    expect(files.sort()).toEqual([...PSK_VECTORS, ...CERT_VECTORS].map((v) => `${v.name}.json`).sort());
  });

  for (const file of files) {
    it(`reproduces ${file}`, async () => {
      const vector = read(file);
      expect(vector.derived['responderAgrees']).toBe(true);
      expect(await computeVector(vector.inputs)).toEqual(vector);
    });
  }

  it('cert-hybrid carries CA-issued certificates with fixed validity, checked at the vector time', () => {
    const { inputs, derived } = read('cert-hybrid.json');
    const pki = inputs.certificates!;
    const ca = inspectCertificate(Buffer.from(pki.caCertificateDerHex, 'hex'));
    expect(ca).toMatchObject({ isCa: true, commonName: 'edgebox vector CA' });
    for (const side of [pki.initiator, pki.responder]) {
      const leaf = inspectCertificate(Buffer.from(side.certificateDerHex, 'hex'));
      expect(leaf).toMatchObject({ isCa: false, commonName: side.commonName, issuerCommonName: 'edgebox vector CA', usage: side.usage });
      expect(leaf.notBefore.getTime()).toBe(VECTOR_LEAF_NOT_BEFORE_MS);
      expect(leaf.notAfter.getTime()).toBe(VECTOR_LEAF_NOT_BEFORE_MS + VECTOR_LEAF_VALIDITY_DAYS * 86_400_000);
      expect(inputs.timeMs).toBeGreaterThan(leaf.notBefore.getTime());
      expect(inputs.timeMs).toBeLessThan(leaf.notAfter.getTime());
    }
    expect(derived['initiatorSees']).toMatchObject({ kind: 'certificate', commonName: pki.responder.commonName });
    expect(derived['responderSees']).toMatchObject({ kind: 'certificate', commonName: pki.initiator.commonName });
  });
});
