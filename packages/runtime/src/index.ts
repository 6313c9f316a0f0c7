/**
 * @edgebox/runtime: the common life of an edgebox app. The Service contract and its
 * lifecycle helper, config loading + validation, logging, metrics, health, signals, the ops
 * server and `runService`, which hosts a Service as a process.
 *
 * Subpaths: `@edgebox/runtime/polyfill` (side effect: Node polyfills, import it first) and
 * `@edgebox/runtime/testing` (the Service contract suite, vitest).
 */
export * from './errors.js';
export * from './constants.js';
export * from './typed-events.js';
export * from './service.js';
export * from './lifecycle-states.js';
export * from './lifecycle.js';
export * from './redact.js';
export * from './config-parse.js';
export * from './config-issues.js';
export * from './config-env.js';
export * from './config.js';
export * from './schema-walk.js';
export * from './logger.js';
export * from './metrics.js';
export * from './health.js';
export * from './signals.js';
export * from './ops-server.js';
export * from './host.js';
export * from './cli.js';
