/**
 * edgebox-tunnel: a thin CLI over the tunnel Service (ARCHITECTURE.md rule 2). Every command
 * is a few lines over the library; nothing lives only here.
 *
 *   edgebox-tunnel source --config F     host the service as the source (runService; SIGHUP reloads,
 *                                        SIGUSR2 makes a blue-green refresh)
 *   edgebox-tunnel dest --config F       host it as the dest
 *   edgebox-tunnel status [--json]       sessions and streams from a running one's /status
 *   edgebox-tunnel health                its /ready report; exit 0 when ready, 1 otherwise
 *   edgebox-tunnel certs ...             CA, issue, show, verify, revoke (certs-cli.ts)
 *
 * status and health find the ops endpoint with --url, else the config's ops host/port
 * (--config), else 127.0.0.1:9471. Exit status: 0 ok, 1 failure, 2 usage.
 */
import { parseArgs } from 'node:util';
import { createLogger, formatConfigError, loadConfig, resolveOpsUrl, runService } from '@edgebox/runtime';
import type { CliIo, ServiceHost } from '@edgebox/runtime';
import { runCertsCommand } from './certs-cli.js';
import { TUNNEL_OPS_PORT, TunnelConfigSchema } from './config.js';
import { createTunnelService, type TunnelStatus } from './service.js';

/** Usage text. */
export const TUNNEL_USAGE = `usage: edgebox-tunnel <command> [options]

  source --config FILE     run the tunnel source (the file is the "tunnel" section, role = "source";
                           SIGHUP reloads, SIGUSR2 refreshes the session blue-green)
  dest --config FILE       run the tunnel dest (role = "dest")
  status [--json]          sessions, streams and counters of a running source or dest
  health                   readiness of a running source or dest (exit 0 ready, 1 not)
  certs <command> ...      certificates: ca, issue, show, verify, revoke ("certs --help")

Options: --url URL (ops endpoint for status/health), --config FILE (read ops host/port from it).
Env: EDGEBOX_TUNNEL__HEARTBEAT__INTERVAL_MS=1000 overrides the config, EDGEBOX_LOG_LEVEL=debug.`;

/** What the CLI talks to (process in production, fakes in tests). */
export interface TunnelIo extends CliIo {
  /** Where SIGUSR2 (blue-green refresh of a source) comes from (default process). */
  refreshSignal?: { on(event: 'SIGUSR2', listener: () => void): unknown };
  /** Streams handed to `certs` (default process.stdout / stderr). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Run one CLI command. Resolves with the service host for source/dest (it keeps running),
 * undefined otherwise.
 *
 * @example await runTunnelCli({ argv: process.argv.slice(2), env: process.env, out: console.log, err: console.error, exit: process.exit });
 */
export async function runTunnelCli(io: TunnelIo): Promise<ServiceHost | undefined> {
  if (io.argv[0] === 'certs') {
    // certs has its own options: hand it the rest untouched.
    io.exit(await runCertsCommand(io.argv.slice(1), { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr }));
    return undefined;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: io.argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.help === true || command === undefined) {
    io.out(TUNNEL_USAGE);
    io.exit(command === undefined && values.help !== true ? 2 : 0);
    return undefined;
  }
  try {
    switch (command) {
      case 'source':
      case 'dest':
        return await runRole(io, command, values.config);
      case 'status':
        await showStatus(io, values);
        return undefined;
      case 'health':
        await showHealth(io, values);
        return undefined;
      default:
        return usage(io, `unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    io.err(`edgebox-tunnel ${command}: ${formatConfigError(err)}`);
    io.exit(1);
    return undefined;
  }
}

function usage(io: TunnelIo, message: string): undefined {
  io.err(`${message}\n${TUNNEL_USAGE}`);
  io.exit(2);
  return undefined;
}

async function runRole(io: TunnelIo, role: 'source' | 'dest', configFile: string | undefined): Promise<ServiceHost | undefined> {
  if (configFile === undefined) return usage(io, `${role} needs --config FILE`);
  const loaded = await loadConfig({ schema: TunnelConfigSchema, file: configFile, env: io.env, section: 'tunnel' });
  if (loaded.config.role !== role) return usage(io, `${configFile} has role ${loaded.config.role}: run "edgebox-tunnel ${loaded.config.role}"`);
  const logger = io.logger ?? createLogger({ app: 'tunnel', env: io.env });
  const service = createTunnelService({ logger });
  const host = await runService({
    service,
    configFile,
    logger,
    opsPort: loaded.config.ops.port,
    opsHost: loaded.config.ops.host,
    env: io.env,
    exit: io.exit,
    signalTarget: io.signalTarget,
  });
  if (role === 'source') {
    // An operator (or the e2e) asks for a new session without a restart: kill -USR2 <pid>.
    (io.refreshSignal ?? process).on('SIGUSR2', () => {
      service.refresh().then(
        (id) => logger.info({ session: id }, 'blue-green refresh: new session up, the old one drains'),
        (err: unknown) => logger.warn({ err }, 'blue-green refresh failed'),
      );
    });
  }
  logger.info({ url: host.url, role }, `edgebox-tunnel ${role} running: status at ${host.url}/status`);
  return host;
}

async function opsUrl(io: TunnelIo, values: { url?: string | undefined; config?: string | undefined }): Promise<string> {
  return resolveOpsUrl({ url: values.url, config: values.config, schema: TunnelConfigSchema, section: 'tunnel', env: io.env, defaultPort: TUNNEL_OPS_PORT });
}

async function showStatus(io: TunnelIo, values: { url?: string | undefined; config?: string | undefined; json?: boolean | undefined }): Promise<void> {
  const url = `${await opsUrl(io, values)}/status`;
  const res = await (io.fetch ?? fetch)(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const body = (await res.json()) as { service?: TunnelStatus };
  const status = body.service;
  if (status === undefined) throw new Error(`${url} holds no service status`);
  if (values.json === true) {
    io.out(JSON.stringify(status, null, 2));
    return;
  }
  for (const line of formatStatus(status)) io.out(line);
}

async function showHealth(io: TunnelIo, values: { url?: string | undefined; config?: string | undefined }): Promise<void> {
  const url = `${await opsUrl(io, values)}/ready`;
  const res = await (io.fetch ?? fetch)(url, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json().catch(() => ({}))) as { status?: string; ready?: boolean; checks?: { name: string; status: string; message?: string }[] };
  io.out(`${res.ok ? 'ready' : 'not ready'} (${body.status ?? res.status})`);
  for (const c of body.checks ?? []) io.out(`  ${c.name}: ${c.status}${c.message === undefined ? '' : ` ${c.message}`}`);
  io.exit(res.ok ? 0 : 1);
}

/**
 * The status as text lines: a summary, then one line per session.
 *
 * @example for (const line of formatStatus(service.status())) console.log(line);
 */
export function formatStatus(status: TunnelStatus): string[] {
  const c = status.counters;
  const lines = [
    `${status.role ?? '-'} (${status.mode ?? '-'}) ${status.running ? 'running' : 'stopped'}: ${status.openStreams} streams open, ${c.streamsOpened} opened, handshakes ${c.handshakesOk} ok / ${c.handshakesFailed} failed, reconnects ${c.reconnects}, refreshes ${c.refreshes}, rekeys ${c.rekeys}`,
  ];
  const s = status.source;
  if (s !== null) {
    lines.push(`dest ${s.dest}: ${s.connected ? 'connected' : s.connecting ? 'connecting' : 'not connected'}, circuit ${s.circuit}, ${s.clients} clients, ${s.udpFlows} udp flows${s.lastError === null ? '' : `, last error ${s.lastError}`}`);
    for (const l of s.listeners) lines.push(`  listen ${l.protocol} ${l.address} -> ${l.kind === 'entry' ? 'entry' : `port ${l.port}`}`);
  }
  const d = status.dest;
  if (d !== null) {
    lines.push(`listen ${d.listen}: ${d.sessions.length} sessions, ${d.udpFlows} udp flows`);
    for (const v of d.services) lines.push(`  service ${v.name} ${v.protocol}/${v.port} -> ${v.target}: ${v.open} open${v.maxConnections > 0 ? ` (max ${v.maxConnections})` : ''}`);
  }
  for (const x of [...(s?.sessions ?? []), ...(d?.sessions ?? [])]) {
    lines.push(`  session ${x.id} ${x.state} ${x.peer}@${x.remote} ${x.suite}: ${x.openStreams} streams, in ${x.bytesIn} B, out ${x.bytesOut} B, rekeys ${x.rekeys}, rtt ${x.rttMs === null ? '-' : `${x.rttMs.toFixed(2)} ms`}`);
  }
  return lines;
}
