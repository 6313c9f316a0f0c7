/**
 * What every app CLI shares: the io it runs against (the process in production, fakes in
 * tests) and where a running instance's ops server (/status, /health, /metrics) is.
 */
import type { z } from 'zod';
import { loadConfig } from './config.js';
import type { Logger } from './logger.js';
import type { SignalTarget } from './signals.js';

/** What an app CLI talks to (process in production, fakes in tests). */
export interface CliIo {
  argv: string[];
  env: Readonly<Record<string, string | undefined>>;
  out: (line: string) => void;
  err: (line: string) => void;
  exit: (code: number) => void;
  logger?: Logger;
  signalTarget?: SignalTarget;
  fetch?: typeof fetch;
}

/** Options of {@link resolveOpsUrl}. */
export interface OpsUrlInit<T extends { ops: { host: string; port: number } }> {
  /** `--url`: used as given (trailing slashes dropped). */
  url?: string | undefined;
  /** `--config FILE`: the ops host and port are read from it. */
  config?: string | undefined;
  /** The app's config schema and section, to read `config`. */
  schema: z.ZodType<T>;
  section: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The app's default ops port on 127.0.0.1, when neither url nor config is given. */
  defaultPort: number;
}

/**
 * The base URL of a running instance's ops server: `--url`, else the ops host and port of
 * `--config`, else 127.0.0.1 and the app's default port. IPv6 hosts are bracketed.
 *
 * @example
 * const base = await resolveOpsUrl({ url: values.url, config: values.config, schema, section: 'bonding', env: io.env, defaultPort: 9470 });
 * const status = await (await fetch(`${base}/status`)).json();
 */
export async function resolveOpsUrl<T extends { ops: { host: string; port: number } }>(init: OpsUrlInit<T>): Promise<string> {
  if (init.url !== undefined) return init.url.replace(/\/+$/, '');
  if (init.config !== undefined) {
    const { config } = await loadConfig({ schema: init.schema, file: init.config, env: init.env, section: init.section });
    const host = config.ops.host.includes(':') ? `[${config.ops.host}]` : config.ops.host;
    return `http://${host}:${config.ops.port}`;
  }
  return `http://127.0.0.1:${init.defaultPort}`;
}
