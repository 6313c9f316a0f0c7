/**
 * @edgebox/framing benchmark (shared/BENCH.md rows for `framing`):
 *   framing-decode-1400         MB/s   1400-byte frames arriving in 1460-byte chunks (TCP MSS)
 *   framing-decode-64k          MB/s   64 KiB frames arriving in 1460-byte chunks
 *   framing-decode-1400-whole   MB/s   1400-byte frames arriving in 64 KiB chunks (zero-copy path)
 *   naive-concat-decode-1400    MB/s   reference: the common `Buffer.concat` + `slice` decoder,
 *                                      same input as framing-decode-1400 (kind "peer": not a
 *                                      shipped system, the pattern this package replaces)
 *   framing-encode-1400         MB/s   encodeFrameInto a reused buffer
 *   framing-header-parse        ns/op  decodeHeader into a reused header object
 *   framing-datagram-decode     datagrams/s  createDatagramDecoder().tryDecode of 1400-byte datagrams
 *
 * 1. Check that our decoder and the reference decode the same frames from the same chunks.
 * 2. Run every row alternately (runAlternating), RUNS runs of SLICE_MS each; report medians.
 * 3. Print the table, write bench-results/framing.json.
 *
 * Total time ≈ 7 rows x RUNS x SLICE_MS ≈ 10 s. Run: npx nx run framing:bench
 */
import { formatTable, measureRate, runAlternating, writeBenchResults, type Contender } from '@edgebox/bench';
import { createDatagramDecoder, encodeDatagram } from '../src/datagram.js';
import { encodeFrameInto, encodeFrames } from '../src/encoder.js';
import { createFrameHeader, decodeHeader } from '../src/header.js';
import { createStreamDecoder, type StreamDecoder } from '../src/stream-decoder.js';

const RUNS = 5;
const SLICE_MS = 300;
const MSS = 1460;
const STREAM_BYTES = 4 * 1024 * 1024; // per decode pass

function payload(bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 31) & 0xff);
}

/** A stream of ~STREAM_BYTES of `frameBytes`-payload frames, cut into `chunk`-byte views. */
function makeStream(frameBytes: number, chunk: number): { chunks: Uint8Array[]; bytes: number; frames: number } {
  const frames = Math.max(1, Math.floor(STREAM_BYTES / (frameBytes + 12)));
  const p = payload(frameBytes);
  const all = encodeFrames(Array.from({ length: frames }, (_, i) => ({ type: 0x11, channel: i & 0xff, payload: p })));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += chunk) chunks.push(all.subarray(i, i + chunk));
  return { chunks, bytes: all.length, frames };
}

/** Decode every chunk; returns frames seen and a checksum of payload lengths + first bytes. */
function decodeAll(decoder: StreamDecoder, chunks: readonly Uint8Array[]): number {
  let sum = 0;
  for (let i = 0; i < chunks.length; i++) {
    decoder.push(chunks[i]!);
    for (let f = decoder.read(); f !== null; f = decoder.read()) sum += f.payload.length + f.payload[0]!;
  }
  return sum;
}

/** The reference: concatenate every chunk onto the remainder, slice whole frames off. */
function naiveDecodeAll(chunks: readonly Uint8Array[]): number {
  let buf = Buffer.alloc(0);
  let sum = 0;
  for (let i = 0; i < chunks.length; i++) {
    buf = Buffer.concat([buf, chunks[i]!]);
    while (buf.length >= 12) {
      if (buf[0] !== 1 || buf[3] !== 0) throw new Error('bad frame');
      const len = buf.readUInt32BE(8);
      if (len > 256 * 1024) throw new Error('too large');
      if (buf.length < 12 + len) break;
      const p = buf.subarray(12, 12 + len);
      sum += p.length + p[0]!;
      buf = buf.subarray(12 + len);
    }
  }
  return sum;
}

function decodeContender(name: string, frameBytes: number, chunk: number, ratioTo?: string): Contender {
  const stream = makeStream(frameBytes, chunk);
  const decoder = createStreamDecoder();
  return {
    name,
    unit: 'MB/s',
    ratioTo,
    run: () => (measureRate(() => decodeAll(decoder, stream.chunks), { durationMs: SLICE_MS, batch: 1 }) * stream.bytes) / 1e6,
  };
}

function naiveContender(): Contender {
  const stream = makeStream(1400, MSS);
  return {
    name: 'naive-concat-decode-1400',
    unit: 'MB/s',
    kind: 'peer',
    run: () => (measureRate(() => naiveDecodeAll(stream.chunks), { durationMs: SLICE_MS, batch: 1 }) * stream.bytes) / 1e6,
  };
}

function encodeContender(): Contender {
  const p = payload(1400);
  const out = new Uint8Array(64 * 1024);
  const frame = { type: 0x11, flags: 0, channel: 7, payload: p };
  const perBuffer = Math.floor(out.length / (12 + 1400));
  const fill = (): void => {
    let at = 0;
    for (let i = 0; i < perBuffer; i++) at = encodeFrameInto(out, at, frame);
  };
  return {
    name: 'framing-encode-1400',
    unit: 'MB/s',
    run: () => (measureRate(fill, { durationMs: SLICE_MS, batch: 4 }) * perBuffer * 1412) / 1e6,
  };
}

function headerContender(): Contender {
  const buf = encodeFrames([{ type: 0x11, flags: 1, channel: 12345, payload: payload(100) }]);
  const into = createFrameHeader();
  return {
    name: 'framing-header-parse',
    unit: 'ns/op',
    run: () => 1e9 / measureRate(() => decodeHeader(buf, 0, into), { durationMs: SLICE_MS, batch: 1024 }),
  };
}

function datagramContender(): Contender {
  const dec = createDatagramDecoder({ knownTypes: [0x40, 0x41] });
  const dgram = encodeDatagram({ type: 0x40, receiver: 42, counter: 123_456_789, body: payload(1400) });
  let sink = 0;
  const one = (): void => {
    const d = dec.tryDecode(dgram);
    if (d !== null) sink += d.counter + d.body.length;
  };
  return {
    name: 'framing-datagram-decode',
    unit: 'datagrams/s',
    run: () => {
      const rate = measureRate(one, { durationMs: SLICE_MS, batch: 1024 });
      if (sink < 0) throw new Error('unreachable');
      return rate;
    },
  };
}

/** Step 1: our decoder and the reference agree on the same input; refuse to time otherwise. */
function checkAgreement(): void {
  for (const [frameBytes, chunk] of [
    [1400, MSS],
    [64 * 1024, MSS],
    [1400, 64 * 1024],
  ] as const) {
    const s = makeStream(frameBytes, chunk);
    const ours = decodeAll(createStreamDecoder(), s.chunks);
    const ref = naiveDecodeAll(s.chunks);
    const want = s.frames * (frameBytes + payload(1)[0]!);
    if (ours !== ref || ours !== want) throw new Error(`${frameBytes} B frames in ${chunk} B chunks: decoder ${ours}, reference ${ref}, expected ${want}`);
  }
}

async function main(): Promise<void> {
  checkAgreement();
  console.log(`framing bench: decoder and reference agree; ${RUNS} alternating runs of ${SLICE_MS} ms per row`);
  const rows = await runAlternating(
    [
      decodeContender('framing-decode-1400', 1400, MSS, 'naive-concat-decode-1400'),
      naiveContender(),
      decodeContender('framing-decode-64k', 64 * 1024, MSS),
      decodeContender('framing-decode-1400-whole', 1400, 64 * 1024),
      encodeContender(),
      headerContender(),
      datagramContender(),
    ],
    RUNS,
  );
  console.log(formatTable(rows));
  console.log(`wrote ${writeBenchResults('framing', rows)}`);
}

await main();
