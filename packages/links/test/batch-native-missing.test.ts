// When the batch_io addon was not built (no compiler at install time, another OS), loading it
// fails with LINKS_NATIVE_UNAVAILABLE, saying how to build it, so callers fall back to dgram.
import type * as NodeModule from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('node:module');
  vi.resetModules();
});

describe('batch_io addon missing', () => {
  it('throws LINKS_NATIVE_UNAVAILABLE from every factory, and batchIoAvailable() is false', async () => {
    vi.resetModules();
    vi.doMock('node:module', async (importOriginal) => {
      const actual = await importOriginal<typeof NodeModule>();
      return {
        ...actual,
        createRequire: (url: string | URL) => {
          const real = actual.createRequire(url);
          return Object.assign((id: string) => {
            if (id.endsWith('batch_io.node')) throw new Error(`Cannot find module '${id}'`);
            return real(id) as unknown;
          }, real);
        },
      };
    });
    const links = await import('../src/index.js');
    expect(links.batchIoAvailable()).toBe(false);
    for (const attempt of [() => links.loadBatchIo(), () => links.createBatchUdpSocket({ localAddress: '127.0.0.1' }), () => links.createTunBatchIo({ fd: 0 })]) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(links.isLinksError(error, 'LINKS_NATIVE_UNAVAILABLE')).toBe(true);
      expect((error as Error).message).toContain('build-native');
      expect((error as Error).message).toContain('Cannot find module');
    }
    // a link that asked for batching falls back to node:dgram and says so
    const link = await links.createUdpLink({ id: 'a', localAddress: '127.0.0.1', batched: true });
    expect(link.batched).toBe(false);
    await link.close();
  });
});
