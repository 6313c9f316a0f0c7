/**
 * Handshake benchmark (BENCH.md row `handshake-hybrid`): full in-memory handshakes per
 * second with the default hybrid suite and certificate authentication (Init -> Response ->
 * Finish, both sides verifying real appliance certificates with the trust store, plus the
 * transcript signatures). `measureHandshakes()` is called
 * by crypto-bench.ts; run alone with
 *   node --conditions=@edgebox/source --import tsx packages/crypto/bench/handshake-bench.ts
 */
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import type { HandshakeCertificateCredentials } from '../src/handshake-types.js';
import { createHandshakePki } from '../test/handshake-pki-fixture.js';

/** One BENCH.md result row. */
export interface HandshakeBenchResult {
  name: 'handshake-hybrid';
  value: number;
  unit: 'handshakes/s';
  kind: 'edgebox';
  runs: number;
}

function oneHandshake(initiator: HandshakeCertificateCredentials, r: ReturnType<typeof createHandshakeResponder>): void {
  const i = createHandshakeInitiator({ credentials: initiator });
  const response = r.receive(i.start(), { peerAddress: 'bench' }).send!;
  const step = i.receive(response);
  const done = r.receive(step.send!, { peerAddress: 'bench' });
  if (done.result === undefined || step.result === undefined) throw new Error('handshake did not complete');
  step.result.destroy();
  done.result.destroy();
}

/**
 * Median handshakes/s over `runs` runs of `durationMs` each.
 *
 * @example const row = await measureHandshakes({ runs: 3, durationMs: 2000 })
 */
export async function measureHandshakes(options: { runs?: number; durationMs?: number } = {}): Promise<HandshakeBenchResult> {
  const runs = options.runs ?? 3;
  const durationMs = options.durationMs ?? 2000;
  const pki = await createHandshakePki();
  const initiator = pki.initiator.credentials;
  const r = createHandshakeResponder({ certificate: pki.responder.credentials, cookie: { mode: 'never' } });
  oneHandshake(initiator, r); // warm-up
  const rates: number[] = [];
  for (let k = 0; k < runs; k++) {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < durationMs) {
      oneHandshake(initiator, r);
      n++;
    }
    rates.push((n * 1000) / (performance.now() - start));
  }
  rates.sort((a, b) => a - b);
  return { name: 'handshake-hybrid', value: Math.round(rates[Math.floor(rates.length / 2)]! * 10) / 10, unit: 'handshakes/s', kind: 'edgebox', runs };
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const row = await measureHandshakes();
  console.log(`${row.name}\t${row.value} ${row.unit} (median of ${row.runs})`);
}
