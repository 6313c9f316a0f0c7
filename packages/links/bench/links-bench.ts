/**
 * @edgebox/links micro-benchmark: ns per call of the per-packet functions (no BENCH.md rows
 * are required for links; these names are ours):
 *   pick-{aggregate,lowest-latency,redundant}-{3,8}   Scheduler.pick over 3 / 8 up links
 *   rtt-sample, jitter-update, loss-receive, delivery-rate, token-bucket   one update each
 *
 * 1. Check the contenders do what they claim (pick returns a link, loss counts packets) and
 *    that they allocate nothing: CHECK_CALLS calls each (after a warm-up) should trigger no
 *    garbage collection (the hot-path rule of shared/CONVENTIONS.md). One allocation of 16
 *    bytes per call would mean dozens of young-generation GCs; more than GC_TOLERANCE (the
 *    JIT and the observer itself allocate a little) is printed as a warning.
 * 2. Run them alternately (runAlternating), RUNS runs of SLICE_MS, median; print the table
 *    and write bench-results/links.json.
 *
 * Run: npx nx run links:bench
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { formatTable, measureRate, runAlternating, writeBenchResults, type Contender } from '@edgebox/bench';
import { createDeliveryRateEstimator } from '../src/delivery-rate.js';
import { createJitterEstimator } from '../src/jitter.js';
import { createLossEstimator } from '../src/loss.js';
import { createRttEstimator } from '../src/rtt.js';
import { createScheduler, type SchedulerKind, type SchedulerLink } from '../src/scheduler.js';
import { createTokenBucket } from '../src/token-bucket.js';

const RUNS = 5;
const SLICE_MS = 250;
const CHECK_CALLS = 2_000_000;
const GC_TOLERANCE = 2;

/** One measured function: its row name and the call to time. */
interface Op {
  name: string;
  op: () => unknown;
}

function nsPerCall(fn: () => unknown): number {
  return 1e9 / measureRate(fn, { durationMs: SLICE_MS, batch: 256 });
}

function links(n: number): SchedulerLink[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `l${i}`,
    state: i === n - 1 ? 'degraded' : 'up',
    tier: 'primary',
    weight: 1 + (i % 3),
    capBytesPerSec: i === 0 ? 50e6 : undefined,
    estimators: { rtt: { srttMs: 10 + i, sampleCount: 1 }, deliveryRate: { rateBytesPerSec: 5e6 * (i + 1) } },
  }));
}

function pickOp(kind: SchedulerKind, n: number): Op {
  const scheduler = createScheduler(kind, { links: links(n) });
  const out = new Int32Array(n);
  let tick = 0;
  if (scheduler.pick(1400, 0, out) < 1) throw new Error(`${kind}: pick chose nothing`);
  return {
    name: `pick-${kind}-${n}`,
    // integer ms (a Smi): a double captured by the closure would be boxed by the harness itself
    op: () => scheduler.pick(1400, tick++ >> 10, out),
  };
}

function estimatorOps(): Op[] {
  const rtt = createRttEstimator();
  const jitter = createJitterEstimator();
  const loss = createLossEstimator();
  const rate = createDeliveryRateEstimator({}, { now: () => 0 });
  const bucket = createTokenBucket({ rateBytesPerSec: 1e12 });
  // Integers below 2^30 (Smis) in the closures: a captured double would be boxed by the
  // harness on every call and hide what the ops themselves allocate. The u32 wrap is tested
  // in test/loss.test.ts.
  let t = 0;
  let seq = 0;
  for (let i = 0; i < 100; i++) loss.onReceive(seq++);
  if (loss.received !== 100 || loss.lossRatio !== 0) throw new Error('loss estimator miscounted the warm-up');
  return [
    { name: 'rtt-sample', op: () => rtt.addSample(20 + (t & 7), (t = (t + 1) & 0x3fff_ffff)) },
    { name: 'jitter-update', op: () => jitter.update(t, (t = (t + 1) & 0x3fff_ffff) + (t & 3)) },
    // every 64th number is skipped: a 1.6% loss keeps the gap path exercised
    { name: 'loss-receive', op: () => loss.onReceive((seq = (seq + ((seq & 63) === 0 ? 2 : 1)) & 0x3fff_ffff)) },
    { name: 'delivery-rate', op: () => rate.onDelivered(1400, (t = (t + 1) & 0x3fff_ffff) >> 6) },
    { name: 'token-bucket', op: () => bucket.tryTake(1400, (t = (t + 1) & 0x3fff_ffff) >> 6) },
  ];
}

/** Step 1: garbage collections during CHECK_CALLS calls of each op (0 = allocation-free). */
async function allocationCheck(ops: readonly Op[]): Promise<Map<string, number>> {
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
  const result = new Map<string, number>();
  for (const { name, op } of ops) {
    for (let i = 0; i < 200_000; i++) op(); // warm-up: let the JIT optimise
    await settle();
    gcs = 0;
    for (let i = 0; i < CHECK_CALLS; i++) op();
    await settle();
    result.set(name, gcs);
  }
  observer.disconnect();
  return result;
}

async function main(): Promise<void> {
  const ops: Op[] = [];
  for (const n of [3, 8]) for (const kind of ['aggregate', 'lowest-latency', 'redundant'] as const) ops.push(pickOp(kind, n));
  ops.push(...estimatorOps());
  const gcs = await allocationCheck(ops);
  const offenders = [...gcs].filter(([, n]) => n > GC_TOLERANCE);
  console.log(
    offenders.length === 0
      ? `links bench: allocation check passed (GCs per ${CHECK_CALLS} calls: ${[...gcs.values()].join(' ')})`
      : `links bench: WARNING garbage collections during ${CHECK_CALLS} calls: ${offenders.map(([name, n]) => `${name} ${n}`).join(', ')}`,
  );
  const contenders: Contender[] = ops.map(({ name, op }) => ({ name, unit: 'ns/op', run: () => nsPerCall(op) }));
  console.log(`links bench: ${RUNS} alternating runs of ${SLICE_MS} ms per row`);
  const rows = await runAlternating(contenders, RUNS);
  console.log(formatTable(rows));
  console.log(`wrote ${writeBenchResults('links', rows)}`);
}

await main();
