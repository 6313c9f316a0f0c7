/**
 * edgebox-bond: a thin CLI over the bonding Service (ARCHITECTURE.md rule 2). Every command
 * is a few lines over the library; nothing lives only here.
 *
 *   edgebox-bond client --config F      host the service in client mode (runService)
 *   edgebox-bond server --config F      host it in server mode
 *   edgebox-bond status [--json]        the per-link table from a running one's /status
 *   edgebox-bond links [--json]         the links only
 *   edgebox-bond keys psk               a new 32-byte PSK in base64
 *   edgebox-bond keys identity [--out F] a new Ed25519 identity (PKCS#8 PEM; public key in base64)
 *
 * status and links find the ops endpoint with --url, else the config's ops host/port
 * (--config), else 127.0.0.1:9470. Exit status: 0 ok, 1 failure, 2 usage.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { exportIdentityPem, generateIdentity } from '@edgebox/crypto';
import { createLogger, formatConfigError, loadConfig, resolveOpsUrl, runService } from '@edgebox/runtime';
import type { CliIo, ServiceHost } from '@edgebox/runtime';
import { BondingConfigSchema } from './config.js';
import { BONDING_OPS_PORT } from './constants.js';
import { createBondingService } from './service.js';
import type { BondingLinkStatus, BondingStatus } from './service.js';

/** Usage text. */
export const BOND_USAGE = `usage: edgebox-bond <command> [options]

  client --config FILE     run the bonding client (the file is the "bonding" section)
  server --config FILE     run the bonding server
  status [--json]          per-link table of a running client or server
  links [--json]           the links only
  keys psk                 print a new PSK (32 random bytes, base64)
  keys identity [--out F]  a new Ed25519 identity key (PKCS#8 PEM) for a certificate

Options: --url URL (ops endpoint for status/links), --config FILE (read ops host/port from it).
Env: EDGEBOX_BONDING__CLIENT__SCHEDULER=redundant overrides the config, EDGEBOX_LOG_LEVEL=debug.`;

/** What the CLI talks to (process in production, fakes in tests). */
export type BondIo = CliIo;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Run one CLI command. Resolves with the service host for client/server (it keeps running),
 * undefined otherwise.
 *
 * @example await runBondCli({ argv: process.argv.slice(2), env: process.env, out: console.log, err: console.error, exit: process.exit });
 */
export async function runBondCli(io: BondIo): Promise<ServiceHost | undefined> {
  let parsed;
  try {
    parsed = parseArgs({ args: io.argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, sub] = positionals;
  if (values.help === true || command === undefined) {
    io.out(BOND_USAGE);
    io.exit(command === undefined && values.help !== true ? 2 : 0);
    return undefined;
  }
  try {
    switch (command) {
      case 'client':
      case 'server':
        return await runMode(io, command, values.config);
      case 'status':
      case 'links':
        await showStatus(io, command, values);
        return undefined;
      case 'keys':
        if (sub === 'psk') io.out(randomBytes(32).toString('base64'));
        else if (sub === 'identity') await identity(io, values.out);
        else return usage(io, `keys ${sub ?? ''}: expected "keys psk" or "keys identity"`);
        return undefined;
      default:
        return usage(io, `unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    io.err(`edgebox-bond ${command}: ${formatConfigError(err)}`);
    io.exit(1);
    return undefined;
  }
}

function usage(io: BondIo, message: string): undefined {
  io.err(`${message}\n${BOND_USAGE}`);
  io.exit(2);
  return undefined;
}

async function runMode(io: BondIo, mode: 'client' | 'server', configFile: string | undefined): Promise<ServiceHost | undefined> {
  if (configFile === undefined) return usage(io, `${mode} needs --config FILE`);
  const loaded = await loadConfig({ schema: BondingConfigSchema, file: configFile, env: io.env, section: 'bonding' });
  if (loaded.config.mode !== mode) return usage(io, `${configFile} has mode ${loaded.config.mode}: run "edgebox-bond ${loaded.config.mode}"`);
  const logger = io.logger ?? createLogger({ app: 'bonding', env: io.env });
  const host = await runService({
    service: createBondingService({ logger }),
    configFile,
    logger,
    opsPort: loaded.config.ops.port,
    opsHost: loaded.config.ops.host,
    env: io.env,
    exit: io.exit,
    signalTarget: io.signalTarget,
  });
  logger.info({ url: host.url, mode }, `edgebox-bond ${mode} running: status at ${host.url}/status`);
  return host;
}

async function opsUrl(io: BondIo, values: { url?: string | undefined; config?: string | undefined }): Promise<string> {
  return resolveOpsUrl({ url: values.url, config: values.config, schema: BondingConfigSchema, section: 'bonding', env: io.env, defaultPort: BONDING_OPS_PORT });
}

async function showStatus(io: BondIo, command: 'status' | 'links', values: { url?: string | undefined; config?: string | undefined; json?: boolean | undefined }): Promise<void> {
  const url = `${await opsUrl(io, values)}/status`;
  const res = await (io.fetch ?? fetch)(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const body = (await res.json()) as { service?: BondingStatus };
  const status = body.service;
  if (status === undefined) throw new Error(`${url} holds no service status`);
  const links = status.peers.flatMap((p) => p.links);
  if (values.json === true) {
    io.out(JSON.stringify(command === 'links' ? links : status, null, 2));
    return;
  }
  if (command === 'status') {
    const hs = status.handshake;
    io.out(`mode ${status.mode ?? '-'}  tun ${status.tun?.name ?? '-'} mtu ${status.tun?.mtu ?? '-'}${hs !== null ? `  handshake ${hs.state} (server ${hs.server})${hs.lastError !== null ? `: ${hs.lastError}` : ''}` : ''}${status.server !== null ? `  listen ${status.server.listen}  clients ${status.server.clients}/${status.server.maxClients}` : ''}`);
    for (const p of status.peers) {
      io.out(`peer ${p.name}${p.tunAddress !== null ? ` (${p.tunAddress})` : ''}: ${p.connected ? 'connected' : 'not connected'}, scheduler ${p.scheduler}, tx ${p.txPackets} pkts, rx ${p.rxPackets} pkts, reorder wait ${p.reorder.maxWaitMs} ms`);
    }
  }
  for (const line of formatLinkTable(links)) io.out(line);
}

/**
 * The per-link table (state, RTT, jitter, loss, rate, bytes), one string per line.
 *
 * @example for (const line of formatLinkTable(status.peers[0].links)) console.log(line);
 */
export function formatLinkTable(links: readonly BondingLinkStatus[]): string[] {
  const head = ['peer', 'link', 'state', 'rtt ms', 'jitter ms', 'loss %', 'tx Mbit/s', 'rx Mbit/s', 'tx bytes', 'rx bytes'];
  const rows = links.map((l) => [
    l.peer,
    l.label === null ? l.name : `${l.name} (${l.label})`,
    l.state,
    l.rttMs === null ? '-' : l.rttMs.toFixed(1),
    l.jitterMs.toFixed(1),
    (l.lossRatio * 100).toFixed(2),
    l.txRateMbps.toFixed(1),
    l.rxRateMbps.toFixed(1),
    String(l.txBytes),
    String(l.rxBytes),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)];
}

async function identity(io: BondIo, out: string | undefined): Promise<void> {
  const id = generateIdentity();
  const pem = exportIdentityPem(id);
  if (out !== undefined) {
    await writeFile(out, pem.privateKeyPem, { mode: 0o600 });
    io.out(`wrote ${out}; public key (base64) ${Buffer.from(id.publicKey).toString('base64')}`);
  } else {
    io.out(pem.privateKeyPem.trimEnd());
    io.out(`# public key (base64) ${Buffer.from(id.publicKey).toString('base64')}`);
  }
}
