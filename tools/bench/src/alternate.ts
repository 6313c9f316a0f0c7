/**
 * Run contenders alternately: round 1 runs A, B, C; round 2 runs B, C, A; ... so every
 * contender sees the same machine conditions (thermal state, noisy neighbours) and their
 * ratio holds on a shared 2-core box. A contender that throws is reported with value null
 * and the error, never silently dropped, and is not run again.
 */
import { median, roundSignificant } from './stats.js';
import type { BenchKind, BenchRow } from './types.js';

/** One thing to measure. */
export interface Contender {
  name: string;
  unit: string;
  /** Default 'edgebox'. */
  kind?: BenchKind;
  /** Compare this row against another by name in the printed table. */
  ratioTo?: string;
  /** Set when the contender cannot run at all (peer not installed): reported as null + this. */
  unavailable?: string;
  /** One measurement (e.g. MB/s over a fixed time slice). */
  run(): number | Promise<number>;
}

/** A result row with its raw samples. */
export interface AlternatingResult extends BenchRow {
  samples: number[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Run each contender `runs` times, alternating, and return one row per contender with the
 * median value (4 significant digits), in the contenders' order.
 *
 * @example
 * const rows = await runAlternating([
 *   { name: 'aead-node-chacha-1400', unit: 'MB/s', ratioTo: 'aead-noble-chacha-1400', run: () => mbps(nodeSeal) },
 *   { name: 'aead-noble-chacha-1400', unit: 'MB/s', run: () => mbps(nobleSeal) },
 * ], 5);
 */
export async function runAlternating(contenders: readonly Contender[], runs: number): Promise<AlternatingResult[]> {
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs ${runs} is not an integer >= 1`);
  const samples: number[][] = contenders.map(() => []);
  const errors: (string | undefined)[] = contenders.map((c) => c.unavailable);
  const n = contenders.length;
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < n; k++) {
      const i = (round + k) % n;
      if (errors[i] !== undefined) continue;
      try {
        const v = await contenders[i]!.run();
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`run returned ${String(v)}, expected a finite number`);
        samples[i]!.push(v);
      } catch (err) {
        errors[i] = message(err);
      }
    }
  }
  return contenders.map((c, i) => {
    const error = errors[i];
    const row: AlternatingResult = {
      name: c.name,
      value: error === undefined ? roundSignificant(median(samples[i]!)) : null,
      unit: c.unit,
      kind: c.kind ?? 'edgebox',
      runs: samples[i]!.length,
      samples: samples[i]!,
    };
    if (error !== undefined) row.error = error;
    if (c.ratioTo !== undefined) row.ratioTo = c.ratioTo;
    return row;
  });
}

/**
 * Repeat `fn` for about `durationMs` (at least `minIterations` times) and return calls per
 * second. Checks the clock only every `batch` calls so timing does not dominate tiny calls.
 *
 * @example const perSecond = measureRate(() => aead.seal(nonce, packet), { durationMs: 500 });
 */
export function measureRate(fn: () => unknown, options: { durationMs?: number; batch?: number; minIterations?: number } = {}): number {
  const durationMs = options.durationMs ?? 500;
  const batch = options.batch ?? 16;
  const minIterations = options.minIterations ?? 1;
  const start = performance.now();
  let n = 0;
  let elapsed: number;
  do {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    elapsed = performance.now() - start;
  } while (elapsed < durationMs || n < minIterations);
  return (n * 1000) / elapsed;
}
