/**
 * edgebox-p2p: a thin CLI over the p2p Service and network (ARCHITECTURE.md rule 2).
 *
 *   edgebox-p2p run --config F                host the service (runService: ops endpoint, signals)
 *   edgebox-p2p id --config F | --key F        the node's peer id (creates nothing)
 *   edgebox-p2p peers [--json]                 peers of a running node (its /status)
 *   edgebox-p2p stats [--json]                 counters of a running node
 *   edgebox-p2p send --to MA --stream S [--data TEXT] [--count N]
 *                                               dial MA (a multiaddr ending /p2p/<id>) from a
 *                                               throwaway identity, send, report the time
 *   edgebox-p2p ping --to MA [--count N]       handshake time and libp2p ping RTTs
 *   edgebox-p2p add (--peer ID | --to MA) [--address MA]... [--meta K=V]... [--auto-connect]
 *                                               add to the address book file (atomic)
 *   edgebox-p2p block (--peer ID | --cidr C) [--reason R] [--remove] --config F
 *                                               edit the config's block rules (atomic)
 *   edgebox-p2p listen --stream S [--to MA] [--listen MA] [--json] [--count N] [--timeout-ms MS]
 *                                               a throwaway node printing what arrives
 *
 * add and block take --pid PID to signal a running node (SIGHUP: reload applies them).
 * peers and stats find the ops endpoint with --url, else the config's ops host/port
 * (--config), else 127.0.0.1:9473. Exit status: 0 ok, 1 failure, 2 usage.
 */
import { parseArgs } from 'node:util';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList, type PeerInit } from '@edgebox/peers';
import type { HandledSignal } from '@edgebox/runtime';
import { createLogger, formatConfigError, loadConfig, resolveOpsUrl, runService } from '@edgebox/runtime';
import type { CliIo, ServiceHost } from '@edgebox/runtime';
import { P2pConfigSchema } from './config.js';
import { addPeerToBookFile, editBlockRule } from './cli-files.js';
import { P2P_OPS_PORT } from './constants.js';
import { invalidArgument } from './errors.js';
import { createP2pNetwork } from './network.js';
import { createP2pService, peerIdOfKeyFile, type P2pStatus } from './service.js';

/** Usage text. */
export const P2P_USAGE = `usage: edgebox-p2p <command> [options]

  run --config FILE                 run the node (the file is the "p2p" section)
  id (--config FILE | --key FILE)   print the node's peer id
  peers [--json]                    peers of a running node: state, suite, RTT, streams
  stats [--json]                    message / byte / drop counters of a running node
  send --to MULTIADDR --stream NAME [--data TEXT] [--count N]
                                    send from a throwaway identity (MULTIADDR ends /p2p/<id>)
  ping --to MULTIADDR [--count N]   handshake time and ping RTTs
  add (--peer ID | --to MULTIADDR/p2p/ID) [--address MULTIADDR]... [--meta KEY=VALUE]...
      [--auto-connect] (--config FILE | --book FILE) [--pid PID]
                                    add a peer to the address book file
  block (--peer ID | --cidr CIDR) [--reason TEXT] [--remove] --config FILE [--pid PID]
                                    add / remove a block rule in the config file
  listen --stream NAME [--to MULTIADDR] [--listen MULTIADDR] [--json] [--count N] [--timeout-ms MS]
                                    a throwaway node that prints messages arriving on NAME
                                    until N messages, MS ms, or SIGINT / SIGTERM

Options: --url URL (ops endpoint for peers/stats), --config FILE (read ops host/port from it),
--pid PID (send SIGHUP to a running node so it reloads what add / block wrote).`;

/** What the CLI talks to (process in production, fakes in tests). */
export type P2pIo = CliIo;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  to: { type: 'string' },
  stream: { type: 'string' },
  data: { type: 'string' },
  count: { type: 'string' },
  peer: { type: 'string' },
  address: { type: 'string', multiple: true },
  meta: { type: 'string', multiple: true },
  'auto-connect': { type: 'boolean' },
  book: { type: 'string' },
  cidr: { type: 'string' },
  reason: { type: 'string' },
  remove: { type: 'boolean' },
  pid: { type: 'string' },
  listen: { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/**
 * Run one CLI command. Resolves with the service host for `run` (it keeps running).
 *
 * @example await runP2pCli({ argv: process.argv.slice(2), env: process.env, out: console.log, err: console.error, exit: process.exit });
 */
export async function runP2pCli(io: P2pIo): Promise<ServiceHost | undefined> {
  let parsed;
  try {
    parsed = parseArgs({ args: io.argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const values = parsed.values as Values;
  const [command] = parsed.positionals;
  if (values.help === true || command === undefined) {
    io.out(P2P_USAGE);
    io.exit(command === undefined && values.help !== true ? 2 : 0);
    return undefined;
  }
  try {
    switch (command) {
      case 'run':
        return await run(io, values.config);
      case 'id':
        return await id(io, values);
      case 'peers':
      case 'stats':
        await show(io, command, values);
        return undefined;
      case 'send':
      case 'ping':
        await probe(io, command, values);
        return undefined;
      case 'add':
        await add(io, values);
        return undefined;
      case 'block':
        await block(io, values);
        return undefined;
      case 'listen':
        await listen(io, values);
        return undefined;
      default:
        return usage(io, `unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    io.err(`edgebox-p2p ${command}: ${formatConfigError(err)}`);
    io.exit(1);
    return undefined;
  }
}

function usage(io: P2pIo, message: string): undefined {
  io.err(`${message}\n${P2P_USAGE}`);
  io.exit(2);
  return undefined;
}

async function run(io: P2pIo, configFile: string | undefined): Promise<ServiceHost | undefined> {
  if (configFile === undefined) return usage(io, 'run needs --config FILE');
  const loaded = await loadConfig({ schema: P2pConfigSchema, file: configFile, env: io.env, section: 'p2p' });
  const logger = io.logger ?? createLogger({ app: 'p2p', env: io.env });
  const service = createP2pService({ logger });
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
  logger.info({ url: host.url, peerId: service.network?.peerId, addresses: service.network?.multiaddrs() }, `edgebox-p2p running: status at ${host.url}/status`);
  return host;
}

async function id(io: P2pIo, values: Values): Promise<undefined> {
  let keyFile = values.key;
  if (keyFile === undefined && values.config !== undefined) {
    keyFile = (await loadConfig({ schema: P2pConfigSchema, file: values.config, env: io.env, section: 'p2p' })).config.identity.keyFile;
  }
  if (keyFile === undefined) return usage(io, 'id needs --config FILE or --key FILE');
  io.out(await peerIdOfKeyFile(keyFile));
  return undefined;
}

async function opsUrl(io: P2pIo, values: Values): Promise<string> {
  return resolveOpsUrl({ url: values.url, config: values.config, schema: P2pConfigSchema, section: 'p2p', env: io.env, defaultPort: P2P_OPS_PORT });
}

async function show(io: P2pIo, command: 'peers' | 'stats', values: Values): Promise<void> {
  const url = `${await opsUrl(io, values)}/status`;
  const res = await (io.fetch ?? fetch)(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const status = ((await res.json()) as { service?: P2pStatus }).service;
  if (status === undefined) throw new Error(`${url} holds no service status`);
  if (values.json === true) {
    io.out(JSON.stringify(command === 'peers' ? status.peers : { peerId: status.peerId, addresses: status.addresses, counters: status.counters }, null, 2));
    return;
  }
  for (const line of command === 'peers' ? formatPeerTable(status) : formatStats(status)) io.out(line);
}

/**
 * The peers table (id, state, suite, RTT, messages / bytes in and out), one string per line.
 *
 * @example for (const line of formatPeerTable(service.status())) console.log(line);
 */
export function formatPeerTable(status: P2pStatus): string[] {
  const head = ['peer', 'state', 'auto', 'suite', 'rtt ms', 'msgs in', 'msgs out', 'bytes in', 'bytes out'];
  const rows = status.peers.map((p) => {
    const s = Object.values(p.streams);
    const sum = (k: 'messagesIn' | 'messagesOut' | 'bytesIn' | 'bytesOut'): string => String(s.reduce((a, x) => a + x[k], 0));
    return [p.peer, p.state, p.autoConnect ? 'yes' : 'no', p.suite ?? '-', p.rttMs === null ? '-' : p.rttMs.toFixed(1), sum('messagesIn'), sum('messagesOut'), sum('bytesIn'), sum('bytesOut')];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)];
}

/**
 * The node's counters as `name value` lines.
 *
 * @example formatStats(service.status()) // ['peer 12D3KooW...', 'handshakes 3', ...]
 */
export function formatStats(status: P2pStatus): string[] {
  const c = status.counters;
  return [
    `peer ${status.peerId ?? '-'}`,
    ...status.addresses.map((a) => `listen ${a}`),
    `handshakes ${c.handshakes} (failed ${c.handshakeFailures}, identity mismatches ${c.identityMismatches})`,
    `messages in ${c.messagesIn} (${c.bytesIn} bytes), out ${c.messagesOut} (${c.bytesOut} bytes)`,
    `dropped ${Object.entries(c.dropped).map(([k, v]) => `${k} ${v}`).join(', ') || '0'}`,
    `resumed ${c.resumed ?? 0} (fallbacks ${c.resumeRejected ?? 0}; tickets issued ${c.ticketsIssued ?? 0}, accepted ${c.ticketsAccepted ?? 0})`,
    `acks sent ${c.acksSent ?? 0}, received ${c.acksReceived ?? 0} (retries ${c.ackRetries ?? 0}, timeouts ${c.ackTimeouts ?? 0}, duplicates ${c.duplicates ?? 0})`,
    `send queue: waited ${c.sendQueued ?? 0}, refused full ${c.sendQueueFull ?? 0}`,
  ];
}

async function probe(io: P2pIo, command: 'send' | 'ping', values: Values): Promise<void> {
  const to = values.to;
  const match = to === undefined ? null : /^(.*)\/p2p\/([1-9A-HJ-NP-Za-km-z]+)$/.exec(to);
  if (match === null) {
    usage(io, `${command} needs --to MULTIADDR ending in /p2p/<peer id>`);
    return;
  }
  const count = Number(values.count ?? (command === 'ping' ? '3' : '1'));
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) {
    usage(io, `--count ${values.count} is not an integer in 1..1000000`);
    return;
  }
  if (command === 'send' && values.stream === undefined) {
    usage(io, 'send needs --stream NAME');
    return;
  }
  const peer = match[2]!;
  // A throwaway identity: the running node keeps its own key; this one only visits.
  const net = await createP2pNetwork({ listen: [] }, { identity: generateIdentity(), accessList: createAccessList() });
  await net.start();
  try {
    const t0 = performance.now();
    await net.connect(peer, [to!]);
    io.out(`established with ${peer} in ${(performance.now() - t0).toFixed(1)} ms`);
    if (command === 'ping') {
      for (let i = 0; i < count; i++) io.out(`ping ${i + 1}: ${(await net.ping(peer)).toFixed(1)} ms`);
      return;
    }
    const data = new TextEncoder().encode(values.data ?? 'ping from edgebox-p2p');
    const t1 = performance.now();
    for (let i = 0; i < count; i++) await net.send(peer, values.stream!, data);
    const s = (performance.now() - t1) / 1000;
    io.out(`sent ${count} message(s) of ${data.length} bytes on ${values.stream} in ${(s * 1000).toFixed(1)} ms`);
  } finally {
    await net.stop();
  }
}

const MULTIADDR_WITH_PEER = /^(.*)\/p2p\/([1-9A-HJ-NP-Za-km-z]+)$/;

/** SIGHUP to `--pid` so a running node reloads (cold path; a missing process is an error). */
function signalReload(io: P2pIo, values: Values): void {
  if (values.pid === undefined) {
    io.out('a running node applies this on reload (SIGHUP, or --pid PID)');
    return;
  }
  const pid = Number(values.pid);
  if (!Number.isInteger(pid) || pid < 2) throw invalidArgument('--pid', values.pid, 'a process id');
  process.kill(pid, 'SIGHUP');
  io.out(`sent SIGHUP to ${pid}`);
}

async function add(io: P2pIo, values: Values): Promise<void> {
  let id = values.peer;
  const addresses = [...(values.address ?? [])];
  if (values.to !== undefined) {
    const m = MULTIADDR_WITH_PEER.exec(values.to);
    if (m === null) return void usage(io, 'add --to needs a MULTIADDR ending in /p2p/<peer id>');
    if (id !== undefined && id !== m[2]) return void usage(io, `--peer ${id} is not the peer of --to ${values.to}`);
    id = m[2]!;
    if (m[1] !== '') addresses.push(m[1]!);
  }
  if (id === undefined) return void usage(io, 'add needs --peer ID or --to MULTIADDR/p2p/ID');
  let path = values.book;
  if (path === undefined && values.config !== undefined) {
    path = (await loadConfig({ schema: P2pConfigSchema, file: values.config, env: io.env, section: 'p2p' })).config.addressBook.path;
    if (path === undefined) throw invalidArgument('addressBook.path', 'unset', `set in ${values.config} (the book is in memory only)`);
  }
  if (path === undefined) return void usage(io, 'add needs --config FILE or --book FILE');
  const metadata: Record<string, string> = {};
  for (const kv of values.meta ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) return void usage(io, `--meta ${JSON.stringify(kv)} is not KEY=VALUE`);
    metadata[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const peer: PeerInit = { id, addresses, metadata, ...(values['auto-connect'] === true ? { autoConnect: true } : {}) };
  const { record, created, problems } = await addPeerToBookFile(path, peer);
  for (const p of problems) io.err(`address book: ${p}`);
  io.out(`${created ? 'added' : 'updated'} ${record.id} (${record.addresses.length} address(es), auto-connect ${record.autoConnect ? 'yes' : 'no'}) in ${path}`);
  signalReload(io, values);
}

async function block(io: P2pIo, values: Values): Promise<void> {
  if (values.config === undefined) return void usage(io, 'block needs --config FILE (the rule goes into access.rules)');
  if ((values.peer === undefined) === (values.cidr === undefined)) return void usage(io, 'block needs exactly one of --peer ID or --cidr CIDR');
  const { changed, rules } = await editBlockRule(values.config, { peer: values.peer, cidr: values.cidr, reason: values.reason, remove: values.remove });
  const what = values.peer ?? values.cidr!;
  if (!changed) io.out(`no block rule for ${what} in ${values.config}`);
  else io.out(`${values.remove === true ? 'unblocked' : 'blocked'} ${what} in ${values.config} (${rules} rule(s))`);
  if (changed) signalReload(io, values);
}

/** Text of a message for `listen`: UTF-8 when it decodes, else base64. */
function showData(data: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(data), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(data).toString('base64'), encoding: 'base64' };
  }
}

async function listen(io: P2pIo, values: Values): Promise<void> {
  const stream = values.stream;
  if (stream === undefined) return void usage(io, 'listen needs --stream NAME');
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (count !== Infinity && (!Number.isInteger(count) || count < 1 || count > 1_000_000)) return void usage(io, `--count ${values.count} is not an integer in 1..1000000`);
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 1)) return void usage(io, `--timeout-ms ${values['timeout-ms']} is not a positive integer`);
  const to = values.to === undefined ? null : MULTIADDR_WITH_PEER.exec(values.to);
  if (values.to !== undefined && to === null) return void usage(io, 'listen --to needs a MULTIADDR ending in /p2p/<peer id>');
  const net = await createP2pNetwork({ listen: [values.listen ?? '/ip4/127.0.0.1/tcp/0'], streams: [stream] }, { identity: generateIdentity(), accessList: createAccessList() });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  const signals: HandledSignal[] = ['SIGINT', 'SIGTERM'];
  const target = io.signalTarget ?? process;
  for (const s of signals) target.on(s, onSignal);
  await net.start();
  try {
    for (const a of net.multiaddrs()) io.out(values.json === true ? JSON.stringify({ listening: a }) : `listening on ${a}`);
    if (to !== null) {
      await net.connect(to[2]!, [values.to!]);
      io.out(values.json === true ? JSON.stringify({ established: to[2] }) : `established with ${to[2]}`);
    }
    const signal = timeoutMs === undefined ? stop.signal : AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]);
    let n = 0;
    try {
      for await (const m of net.messages({ streams: [stream], signal })) {
        const { text, encoding } = showData(m.data);
        io.out(values.json === true ? JSON.stringify({ peer: m.peer, stream: m.stream, receivedAt: m.receivedAt, bytes: m.data.length, encoding, data: text }) : `${m.peer} ${m.stream} ${text}`);
        if (++n >= count) break;
      }
    } catch (err) {
      if (!signal.aborted) throw err; // interrupted or timed out: a normal end
    }
  } finally {
    for (const s of signals) target.off(s, onSignal);
    await net.stop();
  }
}
