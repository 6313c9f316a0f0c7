import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStreamDecoder, frameHeaderView } from '@edgebox/framing';
import { describe, expect, it } from 'vitest';
import { MAX_SEALED_PAYLOAD_BYTES, TUNNEL_FRAME_TYPES } from '../src/constants.js';
import { decodeFrameBody, encodeFrameBody, type TunnelFrame } from '../src/frames.js';
import { createFrameSealer, nextTrafficKey } from '../src/seal.js';
import type { AeadAlgorithm } from '@edgebox/crypto';

const dir = join(import.meta.dirname, '../../../docs/protocols/vectors/tunnel');
interface Valid { name: string; type: number; channel: number; flags: number; fields: Record<string, unknown>; body: string }
interface Invalid { name: string; type: number; channel: number; flags: number; body?: string; bodyFill?: number; bodyLength?: number; error: string }
const frames = JSON.parse(readFileSync(join(dir, 'frames.json'), 'utf8')) as { valid: Valid[]; invalid: Invalid[] };
interface SealedFrame { counter: number; type: number; channel: number; flags: number; plaintext: string; hex: string }
interface Session { aead: AeadAlgorithm; key: string; noncePrefix: string; frames: SealedFrame[]; rekey: { key: string; next: string }; afterRekey: SealedFrame }
const sealed = JSON.parse(readFileSync(join(dir, 'sealed.json'), 'utf8')) as { sessions: Session[] };

function normalize(f: TunnelFrame): Record<string, unknown> {
  const { type: _t, channel: _c, ...rest } = f as TunnelFrame & Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  return out;
}

describe('frame body vectors (tunnel.md §10)', () => {
  it.each(frames.valid.map((v) => [v.name, v] as const))('%s decodes to its fields and encodes back', (_n, v) => {
    const body = Buffer.from(v.body, 'hex');
    const f = decodeFrameBody(v.type, v.channel, v.flags, body);
    expect(normalize(f)).toEqual(v.fields);
    const again = encodeFrameBody(f);
    expect(again.flags).toBe(v.flags);
    expect(again.body.toString('hex')).toBe(v.body);
  });

  it.each(frames.invalid.map((v) => [v.name, v] as const))('%s is refused with its code', (_n, v) => {
    const body = v.body !== undefined ? Buffer.from(v.body, 'hex') : Buffer.alloc(v.bodyLength!, v.bodyFill!);
    expect(() => decodeFrameBody(v.type, v.channel, v.flags, body)).toThrow(expect.objectContaining({ code: v.error }));
  });
});

describe('sealed frame vectors (tunnel.md §3, §6)', () => {
  it.each(sealed.sessions.map((s) => [s.aead, s] as const))('%s: seal gives the vector bytes and open gives the plaintext', (_n, s) => {
    const key = Buffer.from(s.key, 'hex');
    const prefix = Buffer.from(s.noncePrefix, 'hex');
    const keys = { aead: s.aead, sendKey: key, receiveKey: key, sendNoncePrefix: prefix, receiveNoncePrefix: prefix };
    const tx = createFrameSealer(keys);
    const rx = createFrameSealer(keys);
    const decoder = createStreamDecoder({ maxPayload: MAX_SEALED_PAYLOAD_BYTES, knownTypes: TUNNEL_FRAME_TYPES });
    for (const f of s.frames) {
      expect(tx.sendCounter).toBe(f.counter);
      expect(tx.seal(f.type, f.flags, f.channel, Buffer.from(f.plaintext, 'hex')).toString('hex')).toBe(f.hex);
      decoder.push(Buffer.from(f.hex, 'hex'));
      const frame = decoder.read()!;
      expect(Buffer.from(rx.open(frameHeaderView(frame), frame.payload)).toString('hex')).toBe(f.plaintext);
      expect(decoder.read()).toBeNull();
    }
    expect(Buffer.from(nextTrafficKey(Buffer.from(s.rekey.key, 'hex'))).toString('hex')).toBe(s.rekey.next);
    tx.rotateSend();
    rx.rotateReceive();
    const a = s.afterRekey;
    const bytes = tx.seal(a.type, a.flags, a.channel, Buffer.from(a.plaintext, 'hex'));
    expect(bytes.toString('hex')).toBe(a.hex);
    expect(Buffer.from(rx.openInPlace(bytes.subarray(0, 12), bytes.subarray(12))).toString('hex')).toBe(a.plaintext);
  });
});
