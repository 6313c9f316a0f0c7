// When the aead addon was not built (no compiler at install time, another OS), createAead falls
// back to node:crypto by default, and asking for 'native' explicitly says how to build it.
import type * as NodeModule from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('node:module');
  vi.resetModules();
});

describe('aead addon missing', () => {
  it("defaults to 'node' and refuses 'native' with CRYPTO_NATIVE_UNAVAILABLE", async () => {
    vi.resetModules();
    vi.doMock('node:module', async (importOriginal) => {
      const actual = await importOriginal<typeof NodeModule>();
      return {
        ...actual,
        createRequire: (url: string | URL) => {
          const real = actual.createRequire(url);
          return Object.assign((id: string) => {
            if (id.endsWith('aead.node')) throw new Error(`Cannot find module '${id}'`);
            return real(id) as unknown;
          }, real);
        },
      };
    });
    const crypto = await import('../src/aead.js');
    expect(crypto.nativeAeadAvailable()).toBe(false);
    expect(crypto.defaultAeadImplementation()).toBe('node');
    const aead = crypto.createAead('aes-256-gcm', new Uint8Array(32));
    expect(aead.implementation).toBe('node');
    expect(() => crypto.createAead('aes-256-gcm', new Uint8Array(32), { implementation: 'native' })).toThrow(
      expect.objectContaining({ code: 'CRYPTO_NATIVE_UNAVAILABLE', message: expect.stringMatching(/not built \(Cannot find module.*build-native/) }),
    );
  });
});
