/**
 * edgebox-netevd: a thin CLI over the netevd Service and its REST API (ARCHITECTURE.md rule 2).
 *
 *   run --config F [--dry-run]        host the service (runService): ops endpoint, API, SIGHUP
 *                                     reload (a bad file is refused, kept visible in the API),
 *                                     SIGTERM stop
 *   validate [--config F]             check a config file; errors name path, value, expectation
 *   test SCRIPT [--link X] [--state S] [--addresses "A B"] [--backend B]
 *                                     run one script as an event would (safety checks, env, timeout)
 *   status | list interfaces|routes|rules|scripts | show interface X | events [--follow]
 *   | reload | dead-letter             ask a running daemon's API; tables, or --json
 *   simulate --link X --state S [--old S] [--addresses "A B"] [--backend B] [--kind K]
 *   replay FILE                        publish made-up events (JSON lines, e.g. `events --json`
 *                                      output) on a running daemon: its scripts run for them,
 *                                      its interface table and routing do not change
 *
 * The API is found with --url, else the config's api host/port (--config, default
 * /etc/netevd/netevd.yaml when readable), else 127.0.0.1:9480; the token with --token, else
 * NETEVD_TOKEN, else the config's api.token. Exit status: 0 ok, 1 failure, 2 usage.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createEventFactory, createSseDecoder } from '@edgebox/events';
import { createLogger, formatConfigError, handleSignals, loadConfig, runService } from '@edgebox/runtime';
import type { CliIo, ReloadResult, ServiceHost } from '@edgebox/runtime';
import { NetevdConfigSchema, validate } from './config.js';
import type { NetevdConfig } from './config.js';
import { API_PORT, DEFAULT_CONFIG_FILE, SCRIPT_KILL_GRACE_MS, SCRIPT_TIMEOUT_MS } from './constants.js';
import { NetevdError } from './errors.js';
import { runScript } from './script-runner.js';
import { assertRunnable, scriptEnv } from './scripts.js';
import { createNetevdService } from './service.js';
import type { NetevdService, NetevdServiceInit } from './service.js';

/** Usage text. */
export const NETEVD_USAGE = `usage: edgebox-netevd <command> [options]

  run --config FILE [--dry-run]   run the daemon (default config ${DEFAULT_CONFIG_FILE})
  validate [--config FILE]        check a config file
  test SCRIPT [--link X] [--state S] [--addresses "A B"] [--backend B]
                                  run one script as an event would
  status                          daemon, sources, scripts, routing, last reload
  list interfaces|routes|rules|scripts
  show interface NAME
  events [--follow] [--kind K] [--interface I] [--where COND]
  reload                          re-read the config file (like SIGHUP)
  dead-letter [--clear]           scripts that failed every attempt
  simulate --link X --state S [--old S] [--addresses "A B"] [--backend B] [--kind K]
                                  run the daemon's scripts for a made-up event
  replay FILE                     the same for each event of a JSON-lines file (events --json)

Options: --json, --url URL (API), --token T (or NETEVD_TOKEN), --config FILE.`;

/** What the CLI talks to (process in production, fakes in tests). */
export interface NetevdIo extends CliIo {
  /** Service options for `run` (tests inject sources, runners). */
  serviceInit?: NetevdServiceInit;
  /** Stops `events --follow` (tests). */
  signal?: AbortSignal;
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  'dry-run': { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  kind: { type: 'string' },
  interface: { type: 'string' },
  where: { type: 'string' },
  link: { type: 'string' },
  state: { type: 'string' },
  addresses: { type: 'string' },
  backend: { type: 'string' },
  clear: { type: 'boolean' },
  old: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** A running daemon hosted by `run`. */
export interface NetevdHost {
  host: ServiceHost;
  service: NetevdService;
  /** Re-read the config and reload, recording the outcome in the service (SIGHUP does this). */
  reload(): Promise<ReloadResult>;
  stop(): Promise<void>;
}

/**
 * Run one CLI command. Resolves with the host for `run` (it keeps running), else undefined.
 *
 * @example await runNetevdCli({ argv: process.argv.slice(2), env: process.env, out: console.log, err: console.error, exit: process.exit });
 */
export async function runNetevdCli(io: NetevdIo): Promise<NetevdHost | undefined> {
  let parsed;
  try {
    parsed = parseArgs({ args: io.argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const values = parsed.values as Values;
  const [command, sub, arg] = parsed.positionals;
  if (values.help === true || command === undefined) {
    io.out(NETEVD_USAGE);
    io.exit(command === undefined && values.help !== true ? 2 : 0);
    return undefined;
  }
  try {
    switch (command) {
      case 'run':
        return await run(io, values);
      case 'validate': {
        const file = values.config ?? DEFAULT_CONFIG_FILE;
        const c = await validate(file, io.env);
        if (values.json === true) io.out(JSON.stringify(c, null, 2));
        else io.out(`${file}: valid (backends ${c.backends.join(', ')}; ${c.routing.interfaces.length} routed interface(s); scripts in ${c.scripts.dir})`);
        return done(io);
      }
      case 'test':
        if (sub === undefined) return usage(io, 'test needs a SCRIPT path');
        return await testScript(io, sub, values);
      case 'status':
        await showStatus(io, values);
        return done(io);
      case 'list':
        if (sub !== 'interfaces' && sub !== 'routes' && sub !== 'rules' && sub !== 'scripts') return usage(io, `list ${sub ?? ''}: expected interfaces, routes, rules or scripts`);
        await list(io, sub, values);
        return done(io);
      case 'show':
        if (sub !== 'interface' || arg === undefined) return usage(io, 'expected "show interface NAME"');
        await showInterface(io, arg, values);
        return done(io);
      case 'events':
        await showEvents(io, values);
        return done(io);
      case 'reload': {
        const { status, body } = await api(io, values, '/api/v1/reload', { method: 'POST' }, [200, 409]);
        const r = body as { applied: boolean; error?: { code: string; message: string } };
        if (values.json === true) io.out(JSON.stringify(r, null, 2));
        else io.out(r.applied ? 'reload applied' : `reload refused (${r.error?.code ?? status}): ${r.error?.message ?? ''}`);
        io.exit(r.applied ? 0 : 1);
        return undefined;
      }
      case 'dead-letter': {
        const { body } = await api(io, values, '/api/v1/dead-letter', { method: values.clear === true ? 'DELETE' : 'GET' });
        if (values.json === true || values.clear === true) io.out(JSON.stringify(body, null, 2));
        else {
          const rows = (body as { time: string; script: string; state: string; interface: string | null; attempts: number; exitCode: number | null; timedOut: boolean; error: string | null }[]).map((d) => [d.time, d.state, d.interface ?? '-', d.script, String(d.attempts), d.timedOut ? 'timeout' : d.exitCode === null ? (d.error ?? 'signal') : `exit ${d.exitCode}`]);
          for (const l of formatTable(['time', 'state', 'interface', 'script', 'attempts', 'result'], rows)) io.out(l);
        }
        return done(io);
      }
      case 'simulate': {
        if (values.link === undefined || values.state === undefined) return usage(io, 'simulate needs --link X --state S');
        const event = {
          kind: values.kind ?? 'link.state',
          interface: values.link,
          states: values.old === undefined ? { new: values.state } : { old: values.old, new: values.state },
          addresses: (values.addresses ?? '').split(/\s+/).filter((a) => a !== ''),
          data: { backend: values.backend ?? 'netlink' },
        };
        const { body } = await api(io, values, '/api/v1/events', { method: 'POST', body: JSON.stringify(event) });
        io.out(values.json === true ? JSON.stringify(body) : `published event ${(body as { published: number[] }).published.join(', ')}`);
        return done(io);
      }
      case 'replay': {
        if (sub === undefined) return usage(io, 'replay needs a FILE of JSON lines');
        const text = await readFile(sub, 'utf8');
        const { body } = await api(io, values, '/api/v1/events', { method: 'POST', body: text });
        const ids = (body as { published: number[] }).published;
        io.out(values.json === true ? JSON.stringify(body) : `replayed ${ids.length} event(s) from ${sub}`);
        return done(io);
      }
      default:
        return usage(io, `unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    io.err(`edgebox-netevd ${command}: ${formatConfigError(err)}`);
    io.exit(1);
    return undefined;
  }
}

function done(io: NetevdIo): undefined {
  io.exit(0);
  return undefined;
}

function usage(io: NetevdIo, message: string): undefined {
  io.err(`${message}\n${NETEVD_USAGE}`);
  io.exit(2);
  return undefined;
}

async function run(io: NetevdIo, values: Values): Promise<NetevdHost | undefined> {
  const configFile = values.config ?? DEFAULT_CONFIG_FILE;
  // --dry-run is the config's dryRun, set through the env layer so SIGHUP re-reads keep it.
  const env = values['dry-run'] === true ? { ...io.env, EDGEBOX_NETEVD__DRY_RUN: 'true' } : io.env;
  const loaded = await loadConfig({ schema: NetevdConfigSchema, file: configFile, env, section: 'netevd' });
  const logger = io.logger ?? createLogger({ app: 'netevd', env: io.env });
  // The service's POST /reload needs the host, which exists only after the service is made.
  const hooks: { reload?: () => Promise<ReloadResult> } = {};
  const service = createNetevdService({ logger, ...io.serviceInit, reloadSource: () => (hooks.reload === undefined ? Promise.resolve({ applied: false, error: { code: 'NETEVD_RELOAD_UNSUPPORTED', message: 'not running yet' } }) : hooks.reload()) });
  const host = await runService({ service, configFile, logger, opsPort: loaded.config.ops.port, opsHost: loaded.config.ops.host, env, signals: false, exit: io.exit, signalTarget: io.signalTarget });
  const reload = async (): Promise<ReloadResult> => {
    const result = await host.reload();
    // host.reload refuses a file that does not parse before the service sees it: record that too.
    service.noteReload(result);
    return result;
  };
  hooks.reload = reload;
  const signals = handleSignals({
    onStop: ({ deadlineMs }) => host.stop({ deadlineMs }),
    onReload: async () => {
      await reload();
    },
    exit: io.exit,
    logger,
    target: io.signalTarget,
  });
  logger.info({ api: service.apiUrl, ops: host.url, dryRun: loaded.config.dryRun }, `edgebox-netevd running${loaded.config.dryRun ? ' (dry run)' : ''}`);
  return {
    host,
    service,
    reload,
    async stop() {
      await host.stop();
      signals.dispose();
    },
  };
}

async function configFor(io: NetevdIo, values: Values): Promise<NetevdConfig | undefined> {
  const file = values.config ?? (values.url === undefined ? DEFAULT_CONFIG_FILE : undefined);
  if (file === undefined) return undefined;
  try {
    return (await loadConfig({ schema: NetevdConfigSchema, file, env: io.env, section: 'netevd' })).config;
  } catch (err) {
    if (values.config !== undefined) throw err;
    return undefined; // the default file is optional for client commands
  }
}

async function api(io: NetevdIo, values: Values, path: string, init: RequestInit = {}, okStatuses: number[] = [200]): Promise<{ status: number; body: unknown }> {
  const config = await configFor(io, values);
  let base = values.url?.replace(/\/+$/, '');
  if (base === undefined) {
    const host = config?.api.host ?? '127.0.0.1';
    base = `http://${host.includes(':') ? `[${host}]` : host}:${config?.api.port ?? API_PORT}`;
  }
  const token = values.token ?? io.env['NETEVD_TOKEN'] ?? config?.api.token;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new NetevdError('NETEVD_API', `${base}${path}: ${(err as Error).message} (is edgebox-netevd running? --url)`, { cause: err });
  }
  const body = (await res.json()) as unknown;
  if (!okStatuses.includes(res.status)) {
    const e = (body as { error?: { code?: string; message?: string } }).error;
    throw new NetevdError('NETEVD_API', `${path} answered ${res.status}: ${e?.code ?? ''} ${e?.message ?? ''}`.trim(), { details: { status: res.status, error: e } });
  }
  return { status: res.status, body };
}

/**
 * A plain text table, one string per line, columns padded.
 *
 * @example formatTable(['name', 'state'], [['eth0', 'routable']]);
 */
export function formatTable(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

type IfaceRow = { name: string; ifindex: number | null; state: string; oldState: string | null; backend: string; addresses: string[]; since: string; events: number };

function interfaceRows(list: IfaceRow[]): string[] {
  return formatTable(
    ['idx', 'name', 'state', 'backend', 'addresses', 'since'],
    list.map((i) => [String(i.ifindex ?? '-'), JSON.stringify(i.name).slice(1, -1), i.state, i.backend, i.addresses.join(' ') || '-', i.since]),
  );
}

async function showStatus(io: NetevdIo, values: Values): Promise<void> {
  const { body } = await api(io, values, '/api/v1/status');
  if (values.json === true) {
    io.out(JSON.stringify(body, null, 2));
    return;
  }
  const s = body as { running: boolean; sources: { backend: string; state: string; error: string | null; healthy?: boolean; detail?: string | null }[]; interfaces: IfaceRow[]; scripts: { runs: number; failures: number; timeouts: number; transitions: number }; deadLetters: number; routing: { dryRun: boolean; stats: { rules: number; routes: number; errors: number } } | null; reload: { at: string; applied: boolean; error: { code: string; message: string } | null } | null };
  io.out(`netevd ${s.running ? 'running' : 'not running'}; sources: ${s.sources.map((x) => `${x.backend} ${x.state}${x.error !== null ? ` (${x.error})` : x.healthy === false ? ` (unhealthy: ${x.detail ?? ''})` : ''}`).join(', ')}`);
  io.out(`scripts: ${s.scripts.transitions} transitions, ${s.scripts.runs} runs, ${s.scripts.failures} failed, ${s.scripts.timeouts} timed out; dead letters ${s.deadLetters}`);
  if (s.routing !== null) io.out(`routing${s.routing.dryRun ? ' (dry run)' : ''}: ${s.routing.stats.rules} rules, ${s.routing.stats.routes} routes, ${s.routing.stats.errors} errors`);
  if (s.reload !== null) io.out(`last reload ${s.reload.at}: ${s.reload.applied ? 'applied' : `REFUSED ${s.reload.error?.code ?? ''}: ${s.reload.error?.message ?? ''}`}`);
  for (const l of interfaceRows(s.interfaces)) io.out(l);
}

async function list(io: NetevdIo, what: 'interfaces' | 'routes' | 'rules' | 'scripts', values: Values): Promise<void> {
  const { body } = await api(io, values, `/api/v1/${what}`);
  if (values.json === true) {
    io.out(JSON.stringify(body, null, 2));
    return;
  }
  if (what === 'interfaces') for (const l of interfaceRows(body as IfaceRow[])) io.out(l);
  if (what === 'rules') {
    const rules = (body as { rules: { family: number; priority: number; selector: string; address: string; table: number }[] }).rules;
    for (const l of formatTable(['family', 'priority', 'selector', 'address', 'table'], rules.map((r) => [`ipv${r.family}`, String(r.priority), r.selector, r.address, String(r.table)]))) io.out(l);
  }
  if (what === 'routes') {
    const b = body as { tables: Record<string, number>; routes: { family: number; table: number; metric: number | null; nexthops: { dev: string; gateway: string | null }[] }[] };
    for (const l of formatTable(['interface', 'table'], Object.entries(b.tables).map(([k, v]) => [k, String(v)]))) io.out(l);
    io.out('');
    for (const l of formatTable(['family', 'table', 'metric', 'next hops'], b.routes.map((r) => [`ipv${r.family}`, String(r.table), r.metric === null ? '-' : String(r.metric), r.nexthops.map((h) => `${h.gateway ?? 'on-link'} dev ${h.dev}`).join(', ')]))) io.out(l);
  }
  if (what === 'scripts') {
    const scripts = body as { state: string; name: string; runnable: boolean; problem: string | null; mode: string | null }[];
    for (const l of formatTable(['state', 'script', 'mode', 'runs?'], scripts.map((s) => [s.state, JSON.stringify(s.name).slice(1, -1), s.mode ?? '-', s.runnable ? 'yes' : `no: ${s.problem ?? ''}`]))) io.out(l);
  }
}

async function showInterface(io: NetevdIo, name: string, values: Values): Promise<void> {
  const { body } = await api(io, values, `/api/v1/interfaces/${encodeURIComponent(name)}`);
  if (values.json === true) {
    io.out(JSON.stringify(body, null, 2));
    return;
  }
  const i = body as IfaceRow & { data: Record<string, unknown>; lastEventId: number };
  for (const [k, v] of [['name', JSON.stringify(i.name).slice(1, -1)], ['ifindex', String(i.ifindex ?? '-')], ['state', i.state], ['previous', i.oldState ?? '-'], ['backend', i.backend], ['addresses', i.addresses.join(' ') || '-'], ['since', i.since], ['events', String(i.events)], ['data', JSON.stringify(i.data)]] as const) io.out(`${k.padEnd(10)} ${v}`);
}

function eventLine(e: { time: string; kind: string; interface?: string; states?: { old?: string; new: string }; addresses?: string[]; data?: Record<string, unknown> }): string {
  const states = e.states === undefined ? '' : `${e.states.old ?? '-'} -> ${e.states.new}`;
  return `${e.time}  ${e.kind.padEnd(14)} ${JSON.stringify(e.interface ?? '').slice(1, -1).padEnd(12)} ${states.padEnd(22)} ${(e.addresses ?? []).join(' ')}`.trimEnd();
}

async function showEvents(io: NetevdIo, values: Values): Promise<void> {
  const q = new URLSearchParams();
  if (values.kind !== undefined) q.set('kind', values.kind);
  if (values.interface !== undefined) q.set('interface', values.interface);
  if (values.where !== undefined) q.set('where', values.where);
  if (values.follow !== true) {
    const { body } = await api(io, values, `/api/v1/events?${q}`);
    for (const e of body as Parameters<typeof eventLine>[0][]) io.out(values.json === true ? JSON.stringify(e) : eventLine(e));
    return;
  }
  q.set('stream', '1');
  const config = await configFor(io, values);
  const base = values.url?.replace(/\/+$/, '') ?? `http://${config?.api.host ?? '127.0.0.1'}:${config?.api.port ?? API_PORT}`;
  const token = values.token ?? io.env['NETEVD_TOKEN'] ?? config?.api.token;
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  // Follow across daemon restarts and reloads: when the stream ends, reconnect (1 s apart)
  // with the last event id, so the daemon's bus replays what was missed, once. The first
  // connection failing is an error; later ones are retried until aborted.
  let lastEventId: string | undefined;
  let connected = false;
  const aborted = (): boolean => io.signal?.aborted === true;
  while (!aborted()) {
    const h = lastEventId === undefined ? headers : { ...headers, 'last-event-id': lastEventId };
    try {
      const res = await (io.fetch ?? fetch)(`${base}/api/v1/events?${q}`, { headers: h, ...(io.signal === undefined ? {} : { signal: io.signal }) });
      if (!res.ok || res.body === null) throw new NetevdError('NETEVD_API', `events stream answered ${res.status}`);
      connected = true;
      const decoder = createSseDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const r of decoder.push(chunk)) {
          if (!r.ok) continue;
          if (r.message.id !== '') lastEventId = r.message.id;
          io.out(values.json === true ? r.message.data : eventLine(JSON.parse(r.message.data) as Parameters<typeof eventLine>[0]));
        }
      }
    } catch (err) {
      if (aborted()) return;
      if (!connected) throw err;
    }
    if (!aborted()) await new Promise((r) => setTimeout(r, 1000));
  }
}

async function testScript(io: NetevdIo, path: string, values: Values): Promise<undefined> {
  const config = values.config === undefined ? undefined : await validate(values.config, io.env);
  await assertRunnable(path, config?.scripts.ownerUid ?? 0);
  const state = values.state ?? 'routable';
  const event = createEventFactory({ source: 'netevd' }).create({
    kind: 'link.state',
    interface: values.link ?? 'test0',
    subject: values.link ?? 'test0',
    states: { new: state },
    addresses: (values.addresses ?? '').split(/\s+/).filter((a) => a !== ''),
    data: { backend: values.backend ?? 'netlink', ifindex: 1, test: true },
  });
  const { env, dropped } = scriptEnv(event);
  if (dropped.length > 0) io.err(`dropped (failed validation): ${dropped.join(', ')}`);
  const r = await runScript(path, env, { timeoutMs: config?.scripts.timeoutMs ?? SCRIPT_TIMEOUT_MS, killGraceMs: config?.scripts.killGraceMs ?? SCRIPT_KILL_GRACE_MS });
  if (values.json === true) io.out(JSON.stringify({ env, result: r }, null, 2));
  else {
    io.out(`${path}: ${r.ok ? 'ok' : r.timedOut ? 'timed out (process group killed)' : r.error ?? `exit ${r.exitCode ?? '-'} signal ${r.signal ?? '-'}`} in ${r.durationMs} ms`);
    if (r.stdout !== '') io.out(`stdout:\n${r.stdout.trimEnd()}`);
    if (r.stderr !== '') io.out(`stderr:\n${r.stderr.trimEnd()}`);
  }
  io.exit(r.ok ? 0 : 1);
  return undefined;
}
