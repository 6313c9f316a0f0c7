import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_DATA,
  FRAME_DATAGRAM,
  FRAME_GOAWAY,
  FRAME_OPEN,
  FRAME_PING,
  FRAME_REKEY,
  FRAME_RESET,
  FRAME_WINDOW_UPDATE,
  codeName,
} from '../src/constants.js';
import { isTunnelError } from '../src/errors.js';
import {
  decodeFrameBody,
  encodeCode,
  encodeFrameBody,
  encodeGoAway,
  encodeOpen,
  encodeRekey,
  encodeWindowUpdate,
  openBodyLength,
  type TunnelFrame,
} from '../src/frames.js';

const frameArb: fc.Arbitrary<TunnelFrame> = fc.oneof(
  fc.record({
    type: fc.constant(FRAME_OPEN),
    channel: fc.integer({ min: 1, max: 0x7fffffff }),
    open: fc.record({
      protocol: fc.constantFrom('tcp' as const, 'udp' as const),
      port: fc.integer({ min: 1, max: 65535 }),
      target: fc.oneof(fc.constant(''), fc.tuple(fc.stringMatching(/^[a-z0-9.-]{1,60}$/), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`)),
    }),
  }),
  fc.record({ type: fc.constantFrom(0x11 as const, 0x14 as const), channel: fc.integer({ min: 1, max: 0x7fffffff }) }),
  fc.record({ type: fc.constantFrom(0x12 as const, 0x15 as const), channel: fc.integer({ min: 1, max: 0x7fffffff }), code: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ type: fc.constant(FRAME_DATA), channel: fc.integer({ min: 1, max: 0x7fffffff }), data: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
  fc.record({ type: fc.constant(FRAME_DATAGRAM), channel: fc.integer({ min: 1, max: 0x7fffffff }), data: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ type: fc.constant(FRAME_WINDOW_UPDATE), channel: fc.integer({ min: 0, max: 0x7fffffff }), credit: fc.integer({ min: 1, max: 0x7fffffff }) }),
  fc.record({ type: fc.constantFrom(0x18 as const, 0x19 as const), channel: fc.constant(0 as const), opaque: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
  fc.record({ type: fc.constant(FRAME_REKEY), channel: fc.constant(0 as const), ack: fc.boolean(), generation: fc.integer({ min: 1, max: 0xffffffff }) }),
  fc.record({ type: fc.constant(FRAME_GOAWAY), channel: fc.constant(0 as const), lastStreamId: fc.integer({ min: 0, max: 0x7fffffff }), code: fc.integer({ min: 0, max: 0xffff }) }),
);

function plain(f: TunnelFrame): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  return out;
}

describe('frame bodies', () => {
  it('every frame survives encode then decode', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const { flags, body } = encodeFrameBody(f);
        const back = decodeFrameBody(f.type, f.channel, flags, body);
        expect(plain(back)).toEqual(plain(f));
      }),
    );
  });

  it('random bodies raise only tunnel errors', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x3f }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 80 }), (type, channel, flags, body) => {
        try {
          decodeFrameBody(type, channel, flags, body);
        } catch (err) {
          expect(isTunnelError(err)).toBe(true);
          expect(['TUNNEL_MALFORMED', 'TUNNEL_PROTOCOL']).toContain((err as { code: string }).code);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses out-of-range fields when encoding, naming the field', () => {
    const b = Buffer.alloc(400);
    expect(() => encodeOpen(b, 0, { protocol: 'tcp', port: 0, target: '' })).toThrow(/port 0/);
    expect(() => encodeOpen(b, 0, { protocol: 'sctp' as 'tcp', port: 1, target: '' })).toThrow(/protocol sctp/);
    expect(() => encodeOpen(b, 0, { protocol: 'tcp', port: 1, target: 'nohost' })).toThrow(/host:port/);
    expect(() => encodeOpen(b, 0, { protocol: 'tcp', port: 1, target: `${'a'.repeat(260)}:1` })).toThrow(/255/);
    expect(() => encodeOpen(Buffer.alloc(8), 0, { protocol: 'tcp', port: 1, target: 'abc:1' })).toThrow(/needs 11 bytes/);
    expect(() => encodeCode(b, 0, 70000)).toThrow(/u16/);
    expect(() => encodeWindowUpdate(b, 0, 0)).toThrow(/credit 0/);
    expect(() => encodeRekey(b, 0, 0)).toThrow(/generation 0/);
    expect(() => encodeGoAway(b, 0, -1, 0)).toThrow(/lastStreamId -1/);
    expect(() => encodeFrameBody({ type: FRAME_DATA, channel: 1, data: new Uint8Array(0) })).toThrow(/DATA body length 0/);
    expect(() => encodeFrameBody({ type: FRAME_PING, channel: 0, opaque: new Uint8Array(7) })).toThrow(/opaque length 7/);
    expect(() => encodeFrameBody({ type: FRAME_RESET, channel: 0, code: 0 })).toThrow(expect.objectContaining({ code: 'TUNNEL_PROTOCOL' }));
    expect(openBodyLength({ protocol: 'udp', port: 53, target: 'a:53' })).toBe(10);
  });

  it('DATA size limit: 65536 accepted, 65537 refused', () => {
    expect(() => decodeFrameBody(FRAME_DATA, 1, 0, new Uint8Array(65536))).not.toThrow();
    expect(() => decodeFrameBody(FRAME_DATA, 1, 0, new Uint8Array(65537))).toThrow(/65537/);
  });

  it('names wire codes, unknown ones as UNKNOWN', () => {
    expect(codeName(3)).toBe('LIMIT');
    expect(codeName(999)).toBe('UNKNOWN');
  });
});
