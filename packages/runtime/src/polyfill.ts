/**
 * Node polyfills every edgebox CLI loads first (`import '@edgebox/runtime/polyfill'` as the
 * first import of its entry file). Importing this module installs them; installing is
 * idempotent and never replaces a native implementation.
 *
 * - `Promise.withResolvers` (ES2024, native from Node 22): libp2p 3 calls it, Node 20 lacks it.
 *
 * The type of `Promise.withResolvers` is not declared globally here (a second declaration
 * would clash with `lib: ["ES2024"]`); code that calls it directly uses lib ES2024.
 */

/** What `Promise.withResolvers()` returns. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

type WithResolvers = <T>(this: PromiseConstructor) => Deferred<T>;

/**
 * Installs `withResolvers` on `ctor` (default: the global Promise) unless it already has one;
 * true when it installed it. Like the native one it is non-enumerable and respects subclassing
 * (`this`).
 *
 * @example
 * installPromiseWithResolvers(); // false on Node 22, true once on Node 20
 */
export function installPromiseWithResolvers(ctor: PromiseConstructor = Promise): boolean {
  const target = ctor as PromiseConstructor & { withResolvers?: WithResolvers };
  if (typeof target.withResolvers === 'function') return false;
  const withResolvers: WithResolvers = function withResolvers<T>(this: PromiseConstructor): Deferred<T> {
    let resolve!: Deferred<T>['resolve'];
    let reject!: Deferred<T>['reject'];
    const promise = new this<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  Object.defineProperty(target, 'withResolvers', { value: withResolvers, writable: true, configurable: true, enumerable: false });
  return true;
}

/**
 * Installs every polyfill; returns the names it installed (empty when all were native or
 * already installed).
 *
 * @example
 * installPolyfills(); // ['Promise.withResolvers'] on Node 20
 */
export function installPolyfills(): string[] {
  const installed: string[] = [];
  if (installPromiseWithResolvers()) installed.push('Promise.withResolvers');
  return installed;
}

installPolyfills();
