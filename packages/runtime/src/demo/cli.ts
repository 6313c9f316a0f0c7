/**
 * The demo CLI (behind `npm start`): hosts the demo heartbeat service with `runService` and
 * prints what started and where to look.
 *
 *   node packages/runtime/dist/demo/main.js [--config FILE] [--port N] [--host ADDR]
 *
 * Port: --port, else EDGEBOX_PORT, else 9464. Config: --config FILE (YAML/TOML/JSON, the demo
 * section itself), else the embedded default; EDGEBOX_DEMO__INTERVAL_MS=250 overrides either.
 */
import { parseArgs } from 'node:util';
import { formatConfigError } from '../config.js';
import { OPS_HOST, OPS_PORT } from '../constants.js';
import { createLogger } from '../logger.js';
import type { Logger } from '../logger.js';
import { runService } from '../host.js';
import type { ServiceHost } from '../host.js';
import type { SignalTarget } from '../signals.js';
import { createDemoService, DEMO_DEFAULT_CONFIG } from './demo-service.js';

export const DEMO_USAGE = `usage: edgebox-demo [--config FILE] [--port N] [--host ADDR]

Runs the demo heartbeat service with its ops endpoints (/metrics /health /ready /status).
  --config FILE  demo config (YAML, TOML or JSON), e.g. "intervalMs: 500"; default: embedded
  --port N       ops port (default: EDGEBOX_PORT or ${OPS_PORT}; 0 = any free port)
  --host ADDR    ops address (default ${OPS_HOST})
Env: EDGEBOX_DEMO__INTERVAL_MS=250 overrides the config, EDGEBOX_LOG_LEVEL=debug the log level.`;

export interface DemoIo {
  argv: string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Prints one line to stdout. */
  out: (line: string) => void;
  /** Prints one line to stderr. */
  err: (line: string) => void;
  /** Process exit (signals and failures). */
  exit: (code: number) => void;
  logger?: Logger;
  signalTarget?: SignalTarget;
}

/**
 * Parses the arguments, starts the demo and prints the banner; on bad arguments or config it
 * prints why and exits 2 / 1. Resolves with the host (undefined when it exited).
 *
 * @example
 * await runDemo({ argv: process.argv.slice(2), env: process.env, out: console.log, err: console.error, exit: process.exit });
 */
export async function runDemo(io: DemoIo): Promise<ServiceHost | undefined> {
  let values: { config?: string; port?: string; host?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: io.argv,
      options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n${DEMO_USAGE}`);
    io.exit(2);
    return undefined;
  }
  if (values.help === true) {
    io.out(DEMO_USAGE);
    io.exit(0);
    return undefined;
  }
  const portText = values.port ?? io.env['EDGEBOX_PORT'] ?? String(OPS_PORT);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    io.err(`port ${JSON.stringify(portText)} is not valid: expected integer 0..65535`);
    io.exit(2);
    return undefined;
  }

  const service = createDemoService();
  const logger = io.logger ?? createLogger({ app: 'demo', env: io.env, pretty: process.stdout.isTTY });
  let host: ServiceHost;
  try {
    host = await runService({
      service,
      configFile: values.config,
      defaultConfig: DEMO_DEFAULT_CONFIG,
      logger,
      opsPort: port,
      opsHost: values.host ?? OPS_HOST,
      env: io.env,
      exit: io.exit,
      signalTarget: io.signalTarget,
    });
  } catch (err) {
    io.err(`edgebox demo did not start: ${formatConfigError(err)}`);
    io.exit(1);
    return undefined;
  }

  const config = service.config;
  io.out(
    [
      `edgebox demo started: heartbeat ticker "demo" counting a tick every ${config?.intervalMs ?? '?'} ms (pid ${process.pid}, config: ${values.config ?? 'embedded default'})`,
      `  metrics  ${host.url}/metrics`,
      `  health   ${host.url}/health`,
      `  ready    ${host.url}/ready`,
      `  status   ${host.url}/status`,
      'Ctrl-C or SIGTERM stops it; SIGHUP re-reads the config.',
    ].join('\n'),
  );
  return host;
}
