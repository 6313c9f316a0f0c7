// Fuzzing the certificate and CRL decoders: mutated, truncated, extended and random DER must
// end in a CryptoError with a CRYPTO_CERT_* code (or, for a no-op mutation, a success), never
// in another error. Size limits are tested at the limit and one past it.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CERT_MAX_DER_BYTES,
  createCertificateAuthority,
  createRevocationList,
  createTrustStore,
  CRL_MAX_DER_BYTES,
  derToPem,
  generateIdentity,
  inspectCertificate,
  isCryptoError,
  issueCertificate,
  pemToDer,
  type CertificateAuthority,
  type IssuedCertificate,
  type TrustStore,
} from '../src/index.js';

let ca: CertificateAuthority;
let leaf: IssuedCertificate;
let store: TrustStore;
let crlDer: Uint8Array;

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'fuzz CA' });
  leaf = await issueCertificate(ca, { commonName: 'fuzz-leaf', publicKey: generateIdentity().publicKey, usage: 'peer', subjectAltNames: { dns: ['f.lan'] } });
  store = await createTrustStore({ authorities: [ca.certificatePem] });
  crlDer = pemToDer(await createRevocationList(ca, [{ serialHex: '0a0b' }, { serialHex: leaf.serialHex }]), 'X509 CRL');
});

/** Run `fn`; anything thrown must be a CryptoError whose code starts with `prefix`. */
function onlyCryptoErrors(fn: () => unknown, prefix = 'CRYPTO_CERT_'): 'ok' | string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (isCryptoError(err) && err.code.startsWith(prefix)) return err.code;
    throw err;
  }
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip') b[at] = (b[at] ?? 0) ^ (1 << m.bit);
    else if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
  }
  return b;
}

describe('certificate decoder fuzzing', () => {
  it('mutated leaf DER raises only CRYPTO_CERT_* from verify and inspect', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const der = mutate(leaf.der, mutations);
        seen.add(onlyCryptoErrors(() => store.verify(der, { usage: 'peer' })));
        onlyCryptoErrors(() => inspectCertificate(der));
      }),
      { numRuns: 1500 },
    );
    // the mutations reach past the parser: signature and structure checks both fire
    expect(seen.has('CRYPTO_CERT_INVALID')).toBe(true);
    expect(seen.has('CRYPTO_CERT_UNTRUSTED')).toBe(true);
  });

  it('mutated CA DER raises only CRYPTO_CERT_* from verify', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        onlyCryptoErrors(() => store.verify(mutate(ca.certificateDer, mutations)));
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes (raw and DER-shaped) raise only CRYPTO_CERT_INVALID', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (body, shaped) => {
        const der = shaped ? Uint8Array.from([0x30, 0x82, (body.length >> 8) & 0xff, body.length & 0xff, ...body]) : body;
        expect(onlyCryptoErrors(() => store.verify(der))).toBe('CRYPTO_CERT_INVALID');
      }),
      { numRuns: 1000 },
    );
  });

  it('random PEM-ish strings raise only CRYPTO_CERT_INVALID', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.base64String({ maxLength: 400 }), (junk, b64) => {
        expect(onlyCryptoErrors(() => store.verify(junk))).toBe('CRYPTO_CERT_INVALID');
        const pem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
        expect(onlyCryptoErrors(() => store.verify(pem))).toBe('CRYPTO_CERT_INVALID');
      }),
      { numRuns: 500 },
    );
  });

  it('size limit: 8192 bytes is parsed (and fails as a certificate), 8193 is refused before parsing', () => {
    const atLimit = new Uint8Array(CERT_MAX_DER_BYTES);
    atLimit.set(leaf.der);
    expect(() => store.verify(atLimit)).toThrow(/not canonical DER|does not parse/);
    const over = new Uint8Array(CERT_MAX_DER_BYTES + 1);
    over.set(leaf.der);
    expect(() => store.verify(over)).toThrow(`certificate length ${CERT_MAX_DER_BYTES + 1} bytes outside 1..${CERT_MAX_DER_BYTES}`);
    expect(() => store.verify(derToPem(over))).toThrow(`certificate length ${CERT_MAX_DER_BYTES + 1} bytes`);
    expect(() => store.verify('x'.repeat(2 * CERT_MAX_DER_BYTES + 1))).toThrow('PEM length');
  });

  it('truncation at every length raises CRYPTO_CERT_INVALID', () => {
    for (let n = 0; n < leaf.der.length; n++) {
      expect(onlyCryptoErrors(() => store.verify(leaf.der.subarray(0, n)))).toBe('CRYPTO_CERT_INVALID');
    }
  });
});

describe('CRL decoder fuzzing', () => {
  it('mutated CRL DER raises only CryptoErrors from addRevocationList and never revokes by accident', async () => {
    const fresh = await createTrustStore({ authorities: [ca.certificatePem] });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const der = mutate(crlDer, mutations);
        try {
          await fresh.addRevocationList(der);
        } catch (err) {
          if (!(isCryptoError(err) && err.code.startsWith('CRYPTO_CERT_'))) throw err;
        }
      }),
      { numRuns: 300 },
    );
    // whatever got through had a valid CA signature, i.e. said exactly what the CA said
    const summary = fresh.authorities()[0]?.revocationList;
    if (summary !== undefined) expect(summary.revokedCount).toBe(2);
  });

  it('CRL size limit is enforced before parsing', async () => {
    const over = new Uint8Array(CRL_MAX_DER_BYTES + 1);
    over.set(crlDer);
    await expect(store.addRevocationList(over)).rejects.toThrow(`CRL length ${CRL_MAX_DER_BYTES + 1} bytes outside 1..${CRL_MAX_DER_BYTES}`);
    await expect(store.addRevocationList('x'.repeat(2 * CRL_MAX_DER_BYTES + 1))).rejects.toThrow('CRL PEM length');
  });
});

describe('pemToDer / derToPem', () => {
  it('round-trips any bytes with any label', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.constantFrom('CERTIFICATE', 'X509 CRL', 'PRIVATE KEY'), (der, label) => {
        const pem = derToPem(der, label);
        expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
        expect(pemToDer(`junk before\n${pem}junk after`, label)).toEqual(der);
        expect(onlyCryptoErrors(() => pemToDer(pem, 'OTHER LABEL'))).toBe('CRYPTO_CERT_INVALID');
      }),
      { numRuns: 200 },
    );
  });

  it('refuses malformed base64 and non-strings', () => {
    expect(onlyCryptoErrors(() => pemToDer('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----'))).toBe('CRYPTO_CERT_INVALID');
    expect(onlyCryptoErrors(() => pemToDer('-----BEGIN CERTIFICATE-----\nA=AA\n-----END CERTIFICATE-----'))).toBe('CRYPTO_CERT_INVALID');
    expect(onlyCryptoErrors(() => pemToDer(5 as never))).toBe('CRYPTO_CERT_INVALID');
  });
});
