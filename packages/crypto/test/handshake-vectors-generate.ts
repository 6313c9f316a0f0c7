// Writes docs/protocols/vectors/handshake/*.json (handshake.md §10). Run once when the
// protocol changes:
//   node --conditions=@edgebox/source --import tsx packages/crypto/test/handshake-vectors-generate.ts [--new-certificates]
// Certificate vectors keep the CA and leaf certificates already in their file (CA keys and
// serials are random, so re-issuing would change every byte); --new-certificates issues new ones.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CERT_VECTORS, PSK_VECTORS, computeVector, makeVectorCertificates, type VectorInputs } from './handshake-vectors-lib.js';

const dir = join(import.meta.dirname, '../../../docs/protocols/vectors/handshake');
const fresh = process.argv.includes('--new-certificates');
mkdirSync(dir, { recursive: true });

async function write(inputs: VectorInputs): Promise<void> {
  writeFileSync(join(dir, `${inputs.name}.json`), `${JSON.stringify(await computeVector(inputs), null, 2)}\n`);
  console.log(`wrote ${inputs.name}.json`);
}

for (const v of PSK_VECTORS) await write(v);
for (const { keySeeds, ...v } of CERT_VECTORS) {
  const file = join(dir, `${v.name}.json`);
  const kept = !fresh && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { inputs: VectorInputs }).inputs.certificates : undefined;
  await write({ ...v, certificates: kept ?? (await makeVectorCertificates(keySeeds)) });
}
