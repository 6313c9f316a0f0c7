import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installPolyfills, installPromiseWithResolvers } from '../src/polyfill.js';
import type { Deferred } from '../src/polyfill.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

type WithResolversCtor = PromiseConstructor & { withResolvers<T>(): Deferred<T> };

describe('Promise.withResolvers polyfill', () => {
  it('installs on a Promise copy whose withResolvers was removed, once, respecting the subclass', async () => {
    class Copy<T> extends Promise<T> {}
    Object.defineProperty(Copy, 'withResolvers', { value: undefined, configurable: true, writable: true });
    expect(installPromiseWithResolvers(Copy as unknown as PromiseConstructor)).toBe(true);
    expect(installPromiseWithResolvers(Copy as unknown as PromiseConstructor)).toBe(false);
    const desc = Object.getOwnPropertyDescriptor(Copy, 'withResolvers')!;
    expect(desc).toMatchObject({ enumerable: false, writable: true, configurable: true });
    const ctor = Copy as unknown as WithResolversCtor;
    const ok = ctor.withResolvers<number>();
    expect(ok.promise).toBeInstanceOf(Copy);
    ok.resolve(42);
    await expect(ok.promise).resolves.toBe(42);
    const bad = ctor.withResolvers<number>();
    bad.reject(new Error('no'));
    await expect(bad.promise).rejects.toThrow('no');
  });

  it('leaves a native or already installed implementation alone', () => {
    const global = Promise as WithResolversCtor;
    const before = global.withResolvers;
    expect(typeof before).toBe('function'); // installed on import of the module, or native
    expect(installPromiseWithResolvers()).toBe(false);
    expect(installPolyfills()).toEqual([]);
    expect(global.withResolvers).toBe(before);
  });

  it('importing @edgebox/runtime/polyfill in a fresh process without it installs it, idempotently', () => {
    const script = `
      delete Promise.withResolvers;
      const before = typeof Promise.withResolvers;
      const mod = await import('@edgebox/runtime/polyfill');
      const after = typeof Promise.withResolvers;
      const again = mod.installPolyfills();
      const { promise, resolve } = Promise.withResolvers();
      resolve('done');
      console.log(JSON.stringify({ before, after, again, value: await promise, enumerable: Object.keys(Promise).includes('withResolvers') }));
    `;
    const out = execFileSync(process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: pkgDir, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: 'undefined', after: 'function', again: [], value: 'done', enumerable: false });
  });
});
