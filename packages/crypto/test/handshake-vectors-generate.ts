// Writes docs/protocols/vectors/handshake/*.json (handshake.md §10). Run once when the
// protocol changes:
//   node --conditions=@edgebox/source --import tsx packages/crypto/test/handshake-vectors-generate.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PSK_VECTORS, computeVector } from './handshake-vectors-lib.js';

const dir = join(import.meta.dirname, '../../../docs/protocols/vectors/handshake');
mkdirSync(dir, { recursive: true });
for (const v of PSK_VECTORS) {
  writeFileSync(join(dir, `${v.name}.json`), `${JSON.stringify(computeVector(v), null, 2)}\n`);
  console.log(`wrote ${v.name}.json`);
}
