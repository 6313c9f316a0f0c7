// docs/protocols/vectors/framing/*.json (framing.md §8): the codec must reproduce every valid
// vector byte for byte, decode it to its fields, and raise exactly the listed code on every
// invalid one. A wrong vector fails here.
import { describe, expect, it } from 'vitest';
import {
  createDatagramDecoder,
  createStreamDecoder,
  decodeDatagram,
  encodeDatagram,
  encodeFrame,
  isFramingError,
  type KnownTypes,
} from '../src/index.js';
import { copyFrame, decodeChunks, hex, loadVectors, toHex } from './helpers.js';

interface VectorOptions {
  maxPayload?: number;
  maxDatagram?: number;
  knownTypes?: (number | [number, number])[];
}

interface StreamValid {
  name: string;
  options?: VectorOptions;
  type: number;
  flags: number;
  channel: number;
  payload: string;
  hex: string;
}

interface Invalid {
  name: string;
  options?: VectorOptions;
  hex: string;
  error: string;
  framesBefore?: number;
}

interface VectorFile<V> {
  version: number;
  headerBytes: number;
  valid: V[];
  invalid: Invalid[];
}

interface DatagramValid {
  name: string;
  type: number;
  flags: number;
  receiver: number;
  counter: string;
  counterNumber: number;
  body: string;
  hex: string;
}

function knownTypes(o: VectorOptions | undefined): KnownTypes | undefined {
  const k = o?.knownTypes;
  if (k === undefined) return undefined;
  return k.every((e) => typeof e === 'number') ? (k as number[]) : new Map(k.map((e) => (typeof e === 'number' ? [e, 0xff] : e)));
}

const stream = loadVectors<VectorFile<StreamValid>>('stream.json');
const datagram = loadVectors<VectorFile<DatagramValid>>('datagram.json');

describe('stream vectors', () => {
  it('are version 1 with a 12-byte header and cover valid and invalid cases', () => {
    expect(stream.version).toBe(1);
    expect(stream.headerBytes).toBe(12);
    expect(stream.valid.length).toBeGreaterThanOrEqual(5);
    expect(stream.invalid.length).toBeGreaterThanOrEqual(8);
  });

  for (const v of stream.valid) {
    it(`valid ${v.name}: encodes to hex and decodes to its fields`, () => {
      const opts = { maxPayload: v.options?.maxPayload };
      expect(toHex(encodeFrame({ type: v.type, flags: v.flags, channel: v.channel, payload: hex(v.payload) }, opts))).toBe(v.hex);
      const decoder = createStreamDecoder({ ...opts, knownTypes: knownTypes(v.options) });
      expect(decodeChunks(decoder, [hex(v.hex)])).toEqual([{ type: v.type, flags: v.flags, channel: v.channel, payload: v.payload }]);
      expect(() => decoder.end()).not.toThrow();
    });
  }

  it('valid vectors concatenated decode as one stream, also one byte at a time', () => {
    const plain = stream.valid.filter((v) => v.options === undefined);
    const all = hex(plain.map((v) => v.hex).join(''));
    const want = plain.map((v) => ({ type: v.type, flags: v.flags, channel: v.channel, payload: v.payload }));
    expect(decodeChunks(createStreamDecoder(), [all])).toEqual(want);
    const bytes = [...all].map((b) => Uint8Array.of(b));
    expect(decodeChunks(createStreamDecoder(), bytes)).toEqual(want);
  });

  for (const v of stream.invalid) {
    it(`invalid ${v.name}: raises ${v.error}`, () => {
      const decoder = createStreamDecoder({ maxPayload: v.options?.maxPayload, knownTypes: knownTypes(v.options) });
      const frames: unknown[] = [];
      let error: unknown;
      try {
        decoder.push(hex(v.hex));
        for (let f = decoder.read(); f !== null; f = decoder.read()) frames.push(copyFrame(f));
        decoder.end();
      } catch (err) {
        error = err;
      }
      expect(isFramingError(error)).toBe(true);
      expect((error as { code: string }).code).toBe(v.error);
      expect(frames).toHaveLength(v.framesBefore ?? 0);
      expect(decoder.error).toBe(error);
    });
  }
});

describe('datagram vectors', () => {
  it('are version 1 with a 16-byte header and cover valid and invalid cases', () => {
    expect(datagram.version).toBe(1);
    expect(datagram.headerBytes).toBe(16);
    expect(datagram.valid.length).toBeGreaterThanOrEqual(5);
    expect(datagram.invalid.length).toBeGreaterThanOrEqual(6);
  });

  for (const v of datagram.valid) {
    it(`valid ${v.name}: encodes to hex and decodes to its fields`, () => {
      const counter = BigInt(v.counter);
      const counterArg = counter <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(counter) : counter;
      expect(toHex(encodeDatagram({ type: v.type, flags: v.flags, receiver: v.receiver, counter: counterArg, body: hex(v.body) }))).toBe(v.hex);
      expect(toHex(encodeDatagram({ type: v.type, flags: v.flags, receiver: v.receiver, counter, body: hex(v.body) }))).toBe(v.hex);
      const d = decodeDatagram(hex(v.hex));
      expect({ type: d.type, flags: d.flags, receiver: d.receiver, counter: d.counterBigInt, body: toHex(d.body) }).toEqual({
        type: v.type,
        flags: v.flags,
        receiver: v.receiver,
        counter,
        body: v.body,
      });
      expect(d.counter).toBe(v.counterNumber);
      expect(d.counterLo).toBe(Number(counter & 0xffffffffn));
      expect(d.counterHi).toBe(Number(counter >> 32n));
      expect(toHex(d.header)).toBe(v.hex.slice(0, 32));
    });
  }

  for (const v of datagram.invalid) {
    it(`invalid ${v.name}: raises ${v.error}, and tryDecode drops it`, () => {
      const limits = { maxDatagram: v.options?.maxDatagram, knownTypes: knownTypes(v.options) };
      let error: unknown;
      try {
        decodeDatagram(hex(v.hex), undefined, limits);
      } catch (err) {
        error = err;
      }
      expect(isFramingError(error)).toBe(true);
      expect((error as { code: string }).code).toBe(v.error);
      const dec = createDatagramDecoder(limits);
      expect(dec.tryDecode(hex(v.hex))).toBeNull();
      expect(dec.drops.total).toBe(1);
    });
  }
});
