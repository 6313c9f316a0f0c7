import { describe, expect, it } from 'vitest';
import { FRAME_DATA, FRAME_PING } from '../src/constants.js';
import { createFrameSealer } from '../src/seal.js';
import { keyPair } from './helpers.js';

describe('sealed framing', () => {
  it.each(['aes-256-gcm', 'chacha20-poly1305'] as const)('%s: frames open in order, in place or not', (aead) => {
    const [ka, kb] = keyPair(aead);
    const tx = createFrameSealer(ka);
    const rx = createFrameSealer(kb);
    for (let i = 0; i < 5; i++) {
      const f = tx.seal(FRAME_DATA, 0, 1, Buffer.from(`frame ${i}`));
      expect(f.length).toBe(tx.sealedLength(7));
      const plain = i % 2 === 0 ? rx.open(f.subarray(0, 12), f.subarray(12)) : rx.openInPlace(f.subarray(0, 12), f.subarray(12));
      expect(Buffer.from(plain).toString()).toBe(`frame ${i}`);
    }
    expect(tx.sendCounter).toBe(5);
    expect(rx.receiveCounter).toBe(5);
  });

  it('a frame out of order, altered header or wrong key fails with TUNNEL_AUTH', () => {
    const [ka, kb] = keyPair();
    const tx = createFrameSealer(ka);
    const rx = createFrameSealer(kb);
    const f0 = tx.seal(FRAME_PING, 0, 0, Buffer.alloc(8));
    const f1 = tx.seal(FRAME_PING, 0, 0, Buffer.alloc(8));
    expect(() => rx.open(f1.subarray(0, 12), f1.subarray(12))).toThrow(expect.objectContaining({ code: 'TUNNEL_AUTH' }));
    const h = Buffer.from(f0.subarray(0, 12));
    h[7] = 9; // channel
    expect(() => rx.open(h, f0.subarray(12))).toThrow(expect.objectContaining({ code: 'TUNNEL_AUTH' }));
    expect(() => rx.openInPlace(h, Buffer.from(f0.subarray(12)))).toThrow(expect.objectContaining({ code: 'TUNNEL_AUTH' }));
    expect(() => rx.open(h, Buffer.alloc(3))).toThrow(/length 3 < tag 16/);
    expect(() => createFrameSealer(ka).open(f0.subarray(0, 12), f0.subarray(12))).toThrow(expect.objectContaining({ code: 'TUNNEL_AUTH' }));
  });

  it('sealInto writes at an offset and refuses oversized bodies', () => {
    const [ka] = keyPair();
    const tx = createFrameSealer(ka);
    const out = Buffer.alloc(100);
    expect(tx.sealInto(out, 10, FRAME_DATA, 0, 1, Buffer.from('abc'))).toBe(10 + 12 + 3 + 16);
    expect(() => tx.seal(FRAME_DATA, 0, 1, Buffer.alloc(65537))).toThrow(expect.objectContaining({ code: 'TUNNEL_INVALID_ARGUMENT' }));
  });

  it('needsRekey by messages, bytes and time; rotation resets the counters', () => {
    let now = 0;
    const [ka, kb] = keyPair();
    const byMessages = createFrameSealer(ka, { rekeyAfterMessages: 3, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(byMessages.needsRekey()).toBe(false);
      byMessages.seal(FRAME_PING, 0, 0, Buffer.alloc(8));
    }
    expect(byMessages.needsRekey()).toBe(true);
    expect(byMessages.rotateSend()).toBe(1);
    expect(byMessages.sendCounter).toBe(0);
    expect(byMessages.needsRekey()).toBe(false);

    const byBytes = createFrameSealer(ka, { rekeyAfterBytes: 100, now: () => now });
    byBytes.seal(FRAME_DATA, 0, 1, Buffer.alloc(99));
    expect(byBytes.needsRekey()).toBe(false);
    byBytes.seal(FRAME_DATA, 0, 1, Buffer.alloc(1));
    expect(byBytes.sendBytes).toBe(100);
    expect(byBytes.needsRekey()).toBe(true);

    const byTime = createFrameSealer(kb, { rekeyAfterMs: 1000, now: () => now });
    now = 999;
    expect(byTime.needsRekey()).toBe(false);
    now = 1000;
    expect(byTime.needsRekey()).toBe(true);
    byTime.rotateSend();
    expect(byTime.needsRekey()).toBe(false);
    expect(byTime.sendGeneration).toBe(1);
    expect(byTime.rotateReceive()).toBe(1);
    expect(byTime.receiveGeneration).toBe(1);
  });

  it('refuses bad keys and any use after destroy', () => {
    const [ka] = keyPair();
    expect(() => createFrameSealer({ ...ka, sendNoncePrefix: Buffer.alloc(3) })).toThrow(/prefix length 3/);
    expect(() => createFrameSealer({ ...ka, sendKey: Buffer.alloc(5) })).toThrow(expect.objectContaining({ code: 'TUNNEL_INVALID_ARGUMENT' }));
    const s = createFrameSealer(ka);
    s.destroy();
    s.destroy();
    expect(s.destroyed).toBe(true);
    expect(() => s.seal(FRAME_PING, 0, 0, Buffer.alloc(8))).toThrow(expect.objectContaining({ code: 'TUNNEL_CLOSED' }));
    expect(() => s.open(Buffer.alloc(12), Buffer.alloc(16))).toThrow(expect.objectContaining({ code: 'TUNNEL_CLOSED' }));
  });
});
