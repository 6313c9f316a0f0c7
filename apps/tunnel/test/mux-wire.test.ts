import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_DATA, FRAME_FIN, FRAME_OPEN } from '../src/constants.js';
import { encodeFrameBody } from '../src/frames.js';
import { createMux, type Mux } from '../src/mux.js';
import { createFrameSealer } from '../src/seal.js';
import { streamPair } from '../src/stream-pair.js';
import { isTunnelError } from '../src/errors.js';
import { keyPair, until } from './helpers.js';

const open: Mux[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.destroy();
});

describe('mux wire input', () => {
  it('frames split at every byte give the same stream', async () => {
    const [ka, kb] = keyPair();
    const sealer = createFrameSealer(ka);
    const frames = [
      encodeFrameBody({ type: FRAME_OPEN, channel: 1, open: { protocol: 'tcp', port: 80, target: '' } }),
      encodeFrameBody({ type: FRAME_DATA, channel: 1, data: Buffer.from('split at every byte') }),
      encodeFrameBody({ type: FRAME_FIN, channel: 1 }),
    ];
    const wire = Buffer.concat(frames.map((f, i) => sealer.seal([FRAME_OPEN, FRAME_DATA, FRAME_FIN][i]!, f.flags, 1, f.body)));
    const [a, b] = streamPair();
    let text = '';
    const mux = createMux({ transport: b, keys: kb }, { role: 'dest', onStream: (s) => s.on('error', () => {}).on('data', (c: Buffer) => (text += c.toString())) });
    open.push(mux);
    for (let i = 0; i < wire.length; i++) a.write(wire.subarray(i, i + 1));
    await until(() => text === 'split at every byte', 'bytes through');
    expect(mux.closed).toBe(false);
  });

  it('garbage closes the connection with a TunnelError and never throws out', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 6 }), async (chunks) => {
        const [a, b] = streamPair();
        const [, kb] = keyPair();
        const mux = createMux({ transport: b, keys: kb }, { role: 'dest', onStream: () => {} });
        a.on('error', () => {});
        for (const c of chunks) a.write(Buffer.concat([Buffer.from([1]), c])); // version byte right: reach deeper checks
        a.end();
        const err = await mux.done;
        expect(err === undefined || isTunnelError(err)).toBe(true);
        expect(mux.openStreams).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
