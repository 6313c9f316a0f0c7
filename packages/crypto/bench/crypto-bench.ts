/**
 * @edgebox/crypto benchmark (shared/BENCH.md rows for `crypto`):
 *   aead-{node,noble}-{chacha,aesgcm}-{1400,64k}   seal throughput, MB/s (10^6 bytes/s)
 *   handshake-hybrid                                full in-memory handshakes/s
 *
 * 1. Check that node:crypto and noble produce the same bytes (and open each other's output)
 *    for every algorithm and size; refuse to time anything otherwise.
 * 2. Time all AEAD contenders alternately (runAlternating), RUNS runs of SLICE_MS each, and
 *    take the median. Each seal uses a fresh counter nonce and writes into a reused buffer
 *    (sealInto), as the data plane does.
 * 3. Run the extra rows (handshake), print the table, write bench-results/crypto.json.
 *
 * Total time is bounded: 8 contenders x RUNS x SLICE_MS + the handshake rows (~20-30 s).
 * To add a measured row: write a function returning a Contender (alternated with the AEAD
 * rows) and list it in contenders(), or one returning a BenchRow and list it in EXTRA_ROWS.
 *
 * Run: npx nx run crypto:bench
 */
import { formatTable, measureRate, runAlternating, writeBenchResults, type BenchRow, type Contender } from '@edgebox/bench';
import { createAead, type AeadAlgorithm, type AeadImplementation } from '../src/aead.js';
import { createNonceSequence } from '../src/nonce.js';
import { measureHandshakes } from './handshake-bench.js';

const RUNS = 5;
const SLICE_MS = 300;
const SIZES = [
  { label: '1400', bytes: 1400 },
  { label: '64k', bytes: 64 * 1024 },
] as const;
const ALGORITHMS: { label: string; algorithm: AeadAlgorithm }[] = [
  { label: 'chacha', algorithm: 'chacha20-poly1305' },
  { label: 'aesgcm', algorithm: 'aes-256-gcm' },
];
const IMPLEMENTATIONS: AeadImplementation[] = ['node', 'noble'];

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const PREFIX = Uint8Array.of(0, 0, 0, 1);
const AAD = new Uint8Array(16).fill(0xaa); // a typical data-plane header

function payload(bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 31) & 0xff);
}

/** Step 1: same bytes out of node:crypto and noble, and each opens the other's output. */
function checkAgreement(): void {
  for (const { algorithm } of ALGORITHMS) {
    for (const { bytes } of SIZES) {
      const node = createAead(algorithm, KEY, { implementation: 'node' });
      const noble = createAead(algorithm, KEY, { implementation: 'noble' });
      const nonce = new Uint8Array(12).fill(3);
      const pt = payload(bytes);
      const a = node.seal(nonce, pt, AAD);
      const b = noble.seal(nonce, pt, AAD);
      if (Buffer.compare(a, b) !== 0) throw new Error(`${algorithm} ${bytes} B: node and noble produced different bytes`);
      if (Buffer.compare(noble.open(nonce, a, AAD), pt) !== 0 || Buffer.compare(node.open(nonce, b, AAD), pt) !== 0) {
        throw new Error(`${algorithm} ${bytes} B: cross-open failed`);
      }
      node.destroy();
      noble.destroy();
    }
  }
}

/** One AEAD row: seal `bytes`-byte packets for SLICE_MS, report MB/s. */
function aeadContender(implementation: AeadImplementation, alg: (typeof ALGORITHMS)[number], size: (typeof SIZES)[number]): Contender {
  const aead = createAead(alg.algorithm, KEY, { implementation });
  const nonces = createNonceSequence({ prefix: PREFIX });
  const pt = payload(size.bytes);
  const out = new Uint8Array(size.bytes + aead.tagLength);
  const seal = (): void => {
    nonces.next();
    aead.sealInto(nonces.nonce, pt, out, AAD);
  };
  return {
    name: `aead-${implementation}-${alg.label}-${size.label}`,
    unit: 'MB/s',
    ratioTo: implementation === 'node' ? `aead-noble-${alg.label}-${size.label}` : undefined,
    run: () => (measureRate(seal, { durationMs: SLICE_MS, batch: size.bytes > 4096 ? 1 : 16 }) * size.bytes) / 1e6,
  };
}

function contenders(): Contender[] {
  const list: Contender[] = [];
  for (const size of SIZES) for (const alg of ALGORITHMS) for (const impl of IMPLEMENTATIONS) list.push(aeadContender(impl, alg, size));
  return list;
}

/** Rows measured on their own after the alternating AEAD rows. */
const EXTRA_ROWS: (() => Promise<BenchRow>)[] = [() => measureHandshakes({ runs: 3, durationMs: 2000 })];

async function main(): Promise<void> {
  checkAgreement();
  console.log(`crypto bench: node:crypto and noble agree; ${RUNS} alternating runs of ${SLICE_MS} ms per AEAD row`);
  const rows: BenchRow[] = await runAlternating(contenders(), RUNS);
  for (const extra of EXTRA_ROWS) {
    try {
      rows.push(await extra());
    } catch (err) {
      // never silently missing: a failed row is reported with value null (BENCH.md)
      rows.push({ name: 'handshake-hybrid', value: null, unit: 'handshakes/s', kind: 'edgebox', runs: 0, error: err instanceof Error ? err.message : String(err) });
    }
  }
  console.log(formatTable(rows));
  console.log(`wrote ${writeBenchResults('crypto', rows)}`);
}

await main();
