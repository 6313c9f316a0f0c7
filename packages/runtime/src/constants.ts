/**
 * Defaults of @edgebox/runtime, units in names. Tunables come in through options; these are
 * only what `??` falls back to.
 */

/** How long a graceful stop may take before it is abandoned (RUNTIME_STOP_TIMEOUT). */
export const STOP_DEADLINE_MS = 10_000;

/** Ops server bind address: loopback only unless an operator says otherwise. */
export const OPS_HOST = '127.0.0.1';

/** Ops server port of the demo and the default of `runService` (the Prometheus exporter range). */
export const OPS_PORT = 9464;

/** Ops server: time allowed to receive a request's headers. */
export const OPS_HEADERS_TIMEOUT_MS = 10_000;

/** Ops server: time allowed for a whole request. */
export const OPS_REQUEST_TIMEOUT_MS = 30_000;

/** Environment variable read for the log level. */
export const LOG_LEVEL_ENV = 'EDGEBOX_LOG_LEVEL';
