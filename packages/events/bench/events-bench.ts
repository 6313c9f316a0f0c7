/**
 * @edgebox/events benchmark (shared/BENCH.md format; no required names for this package):
 *   bus-publish-0-subs          events/s  publish with no subscriber (history ring only)
 *   bus-publish-16-stalled      events/s  16 subscribers that never read (drop-oldest, ring full)
 *   bus-publish-16-reading      events/s  16 subscribers emptied every 128 publishes (their
 *                                         next() calls included): what stalled ones cost
 *                                         compared with live ones
 *   event-parse                 events/s  parseEvent of a ~350-byte JSON event (IPC receive side)
 *   event-create                events/s  createEventFactory().create (validate + copy + freeze)
 *   filter-match                events/s  a compiled `kind ~ link.* and states.new == routable and data.rttMs > 50`
 *   sse-encode                  events/s  encodeSseEvent
 *   jsonl-decode-events         events/s  createEventLinesDecoder over 64 KiB chunks
 *
 * 1. Check that the readers see what was published (the contenders do the work they claim).
 * 2. Run every row alternately, RUNS runs of SLICE_MS each; report medians.
 * 3. Print the table, write bench-results/events.json.
 *
 * Total time ≈ 8 rows x RUNS x SLICE_MS ≈ 5 s. Run: npx nx run events:bench
 */
import { formatTable, measureRate, runAlternating, writeBenchResults, type Contender } from '@edgebox/bench';
import { createEventBus, type EventBus } from '../src/bus.js';
import { createEventLinesDecoder } from '../src/decode.js';
import { encodeEventLine, encodeSseEvent } from '../src/encode.js';
import { parseFilterExpression } from '../src/filter.js';
import { createEventFactory, parseEvent, type EventV1 } from '../src/schema.js';
import type { Subscription } from '../src/subscription.js';

const RUNS = 3;
const SLICE_MS = 200;

const factory = createEventFactory({ source: 'netevd' });
const sample: EventV1 = factory.create({
  kind: 'link.state',
  subject: 'eth0',
  interface: 'eth0',
  states: { old: 'degraded', new: 'routable' },
  addresses: ['10.0.0.2/24', 'fe80::2/64'],
  data: { ifindex: 3, backend: 'networkd', operstate: 'routable', rttMs: 72 },
});
const sampleJson = JSON.stringify(sample);

function busWith(n: number): { bus: EventBus; subs: Subscription[] } {
  const bus = createEventBus({ historySize: 1024, maxSubscribers: 64 });
  return { bus, subs: Array.from({ length: n }, () => bus.subscribe({ bufferSize: 256, overflow: 'drop-oldest' })) };
}

// 1. Sanity: a reading subscriber receives what was published, in order.
{
  const { bus, subs } = busWith(1);
  for (let i = 0; i < 10; i++) bus.publish(sample);
  let seen = 0;
  for (let i = 0; i < 10; i++) void subs[0]!.next().then((r) => (seen += r.value?.seq === i + 1 ? 1 : 0));
  await Promise.resolve();
  if (seen !== 10 || bus.stats().dropped !== 0) throw new Error(`sanity: reader saw ${seen}/10`);
  const lines = createEventLinesDecoder().push(encodeEventLine(sample));
  if (!lines[0]?.ok || JSON.stringify(lines[0].value) !== sampleJson) throw new Error('sanity: JSON-lines round trip');
}

const idle = busWith(0).bus;
const stalled = busWith(16).bus;
const reading = busWith(16);
let published = 0;
const filter = parseFilterExpression('kind ~ link.* and states.new == routable and data.rttMs > 50');
const sseEntry = idle.publish(sample)!;
const jsonlChunk = Buffer.from(encodeEventLine(sample).repeat(Math.floor(65536 / (sampleJson.length + 1))));
const linesPerChunk = Math.floor(65536 / (sampleJson.length + 1));
const decoder = createEventLinesDecoder();

const contenders: Contender[] = [
  { name: 'bus-publish-0-subs', unit: 'events/s', run: () => measureRate(() => idle.publish(sample), { durationMs: SLICE_MS, batch: 256 }) },
  { name: 'bus-publish-16-stalled', unit: 'events/s', ratioTo: 'bus-publish-16-reading', run: () => measureRate(() => stalled.publish(sample), { durationMs: SLICE_MS, batch: 256 }) },
  {
    name: 'bus-publish-16-reading',
    unit: 'events/s',
    run: () =>
      measureRate(
        () => {
          reading.bus.publish(sample);
          if (++published % 128 === 0) for (const s of reading.subs) for (let i = 0; i < 128; i++) void s.next();
        },
        { durationMs: SLICE_MS, batch: 256 },
      ),
  },
  { name: 'event-parse', unit: 'events/s', run: () => measureRate(() => parseEvent(sampleJson), { durationMs: SLICE_MS }) },
  {
    name: 'event-create',
    unit: 'events/s',
    run: () =>
      measureRate(() => factory.create({ kind: 'link.state', subject: 'eth0', states: { new: 'routable' }, data: { ifindex: 3, rttMs: 72 } }), {
        durationMs: SLICE_MS,
      }),
  },
  { name: 'filter-match', unit: 'events/s', run: () => measureRate(() => filter(sample), { durationMs: SLICE_MS, batch: 1024 }) },
  { name: 'sse-encode', unit: 'events/s', run: () => measureRate(() => encodeSseEvent(sseEntry), { durationMs: SLICE_MS, batch: 64 }) },
  {
    name: 'jsonl-decode-events',
    unit: 'events/s',
    run: () => measureRate(() => decoder.push(jsonlChunk), { durationMs: SLICE_MS, batch: 1 }) * linesPerChunk,
  },
];

const rows = await runAlternating(contenders, RUNS);
console.log(formatTable(rows));
console.log(`stalled subscribers dropped ${stalled.stats().dropped} events (their own; publish never waited)`);
console.log(`wrote ${writeBenchResults('events', rows)}`);
