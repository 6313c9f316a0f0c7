/**
 * `edgebox`: the appliance CLI. `start` runs the appliance in this process (supervisor + admin
 * API); the other commands talk to a running one over its admin API, except `config validate`
 * (local) and `keys` (the key file in the data dir, read by the running API at once).
 *
 *   edgebox start [--config F] [--host H] [--port N]
 *   edgebox status | apps                       [--url U] [--key K] [--json]
 *   edgebox app <name> status|start|stop|restart|reload
 *   edgebox events [--follow] [--app X] [--kind Y] [--severity S]
 *   edgebox config validate [FILE] | show [--default]
 *   edgebox keys create --name N --role viewer|admin | list | revoke <id|name>   [--data-dir D]
 *
 * Config file: --config, else $EDGEBOX_CONFIG, else /etc/edgebox/edgebox.yaml, else
 * <dataDir>/edgebox.yaml (what `PUT /api/v1/config` writes without a file), else the embedded
 * default. API: --url, else $EDGEBOX_URL, else the config's supervisor.api. Key: --key or
 * $EDGEBOX_API_KEY. Exit codes: 0 ok, 1 failed / refused, 2 usage.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSseDecoder } from '@edgebox/events';
import { createLogger, formatConfigError, handleSignals, toErrorBody } from '@edgebox/runtime';
import type { CliIo } from '@edgebox/runtime';
import { createAdminApi } from './api/admin-api.js';
import { openKeyStore } from './auth/key-store.js';
import type { Role } from './auth/key-store.js';
import { defaultDataDir, loadAppliance } from './config/appliance-config.js';
import type { ApplianceConfig } from './config/appliance-config.js';
import { defaultApplianceDocument, defaultApplianceYaml } from './config/default-config.js';
import { CONFIG_FILE } from './constants.js';
import type { AppStatus } from './hosting/app-process.js';
import { createSupervisor } from './hosting/supervisor.js';
import type { ApplianceStatus } from './hosting/supervisor.js';

export const EDGEBOX_USAGE = `usage: edgebox <command> [options]

  start [--config F] [--host H] [--port N]     run the appliance (apps + admin API) here
  status [--json]                              the appliance and every app
  apps [--json]                                every app: state, pid, uptime, restarts
  app <name> status|start|stop|restart|reload  one app (bonding, tunnel, netevd, p2p)
  events [--follow] [--app X] [--kind Y] [--severity S] [--json]
                                               the event history; --follow keeps streaming
  config validate [FILE]                       check a config file (default: the one start uses)
  config show [--default]                      the running config (secrets redacted), or the default
  keys create --name N --role viewer|admin     a new API key (printed once)
  keys list | keys revoke <id|name>            [--data-dir D]

  common: --url U (admin API), --key K (API key), --config F, --json`;

/** The io of the CLI (runtime's CliIo, plus a way to wait for `start` to end in tests). */
export type EdgeboxIo = CliIo;

const OPTIONS = {
  config: { type: 'string' },
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  app: { type: 'string', multiple: true },
  kind: { type: 'string', multiple: true },
  severity: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string' },
  'data-dir': { type: 'string' },
  default: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

const exists = (f: string): Promise<boolean> => access(f).then(() => true, () => false);

/** The config file `start` uses, or undefined for the embedded default. */
export async function resolveConfigFile(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  if (flag !== undefined) return flag;
  if (env['EDGEBOX_CONFIG'] !== undefined && env['EDGEBOX_CONFIG'] !== '') return env['EDGEBOX_CONFIG'];
  if (await exists(CONFIG_FILE)) return CONFIG_FILE;
  const written = join(defaultDataDir(env, process.getuid?.() ?? 0), 'edgebox.yaml');
  return (await exists(written)) ? written : undefined;
}

/** The config `start` runs: the file, or the embedded default for this user. */
async function loadStartConfig(file: string | undefined, env: Readonly<Record<string, string | undefined>>): Promise<ApplianceConfig> {
  if (file !== undefined) return loadAppliance({ file, env });
  const uid = process.getuid?.() ?? 0;
  return loadAppliance({ value: defaultApplianceDocument({ dataDir: env['EDGEBOX_DATA_DIR'] ?? defaultDataDir(env, uid), uid }), env });
}

const pad = (rows: string[][]): string[] => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
};

/**
 * The apps table.
 *
 * @example formatAppsTable(status.apps).forEach((l) => console.log(l));
 */
export function formatAppsTable(apps: AppStatus[]): string[] {
  const rows = [['APP', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'DETAIL']];
  for (const a of apps) {
    const detail = a.reason ?? (a.lastError === null ? '' : `last error: ${a.lastError.message}`);
    rows.push([a.name, a.state, a.pid === null ? '-' : String(a.pid), a.uptimeSeconds === null ? '-' : `${Math.round(a.uptimeSeconds)}s`, String(a.restarts), detail]);
  }
  return pad(rows);
}

/**
 * Runs the edgebox CLI; resolves with the exit code (for `start`: when the appliance stopped).
 *
 * @example process.exitCode = await runEdgeboxCli({ argv: process.argv.slice(2), env: process.env, out: console.log, err: console.error, exit: process.exit });
 */
export async function runEdgeboxCli(io: EdgeboxIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: io.argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`edgebox: ${(err as Error).message}\n${EDGEBOX_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined || command === 'help') {
    io.out(EDGEBOX_USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const fetchFn = io.fetch ?? fetch;
  const json = values.json === true;

  const baseUrl = async (): Promise<string> => {
    if (values.url !== undefined) return values.url.replace(/\/+$/, '');
    if (io.env['EDGEBOX_URL'] !== undefined && io.env['EDGEBOX_URL'] !== '') return io.env['EDGEBOX_URL'].replace(/\/+$/, '');
    const config = await loadStartConfig(await resolveConfigFile(values.config, io.env), io.env);
    const h = config.supervisor.api.host === '0.0.0.0' ? '127.0.0.1' : config.supervisor.api.host;
    return `http://${h.includes(':') ? `[${h}]` : h}:${config.supervisor.api.port}`;
  };
  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const key = values.key ?? io.env['EDGEBOX_API_KEY'];
    const headers: Record<string, string> = {};
    if (key !== undefined && key !== '') headers['authorization'] = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = `${await baseUrl()}${path}`;
    let res: Response;
    try {
      res = await fetchFn(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      throw new Error(`cannot reach the appliance at ${url}: ${(err as Error).message} (is "edgebox start" running? --url)`, { cause: err });
    }
    const data = (await res.json().catch(() => null)) as { error?: { code: string; message: string; details?: unknown } } | null;
    if (!res.ok) {
      const e = data?.error;
      throw Object.assign(new Error(e === undefined ? `HTTP ${res.status}` : `${e.code}: ${e.message}`), { details: e?.details, code: e?.code });
    }
    return data;
  };
  const print = (value: unknown, lines: () => string[]): void => {
    if (json) io.out(JSON.stringify(value, null, 2));
    else for (const l of lines()) io.out(l);
  };

  try {
    switch (command) {
      case 'start':
        return await start(io, values);
      case 'status': {
        const s = (await api('GET', '/api/v1/status')) as ApplianceStatus;
        print(s, () => [`edgebox appliance pid ${s.pid}, up ${s.uptimeSeconds}s, api ${s.api.url ?? '-'} (${s.api.auth}), config ${s.configFile ?? 'embedded default'}, data ${s.dataDir}`, '', ...formatAppsTable(s.apps)]);
        return 0;
      }
      case 'apps': {
        const apps = (await api('GET', '/api/v1/apps')) as AppStatus[];
        print(apps, () => formatAppsTable(apps));
        return 0;
      }
      case 'app': {
        const [name, action = 'status'] = rest;
        if (name === undefined) throw new UsageError('app needs a name: edgebox app <name> status|start|stop|restart|reload');
        if (action === 'status') {
          const s = await api('GET', `/api/v1/apps/${encodeURIComponent(name)}`);
          print(s, () => [...formatAppsTable([s as AppStatus]), '', JSON.stringify((s as { service: unknown }).service, null, 2)]);
          return 0;
        }
        if (!['start', 'stop', 'restart', 'reload'].includes(action)) throw new UsageError(`app action "${action}": expected status, start, stop, restart or reload`);
        const r = await api('POST', `/api/v1/apps/${encodeURIComponent(name)}/${action}`);
        print(r, () => ('state' in (r as object) ? formatAppsTable([r as AppStatus]) : [JSON.stringify(r, null, 2)]));
        return 0;
      }
      case 'events':
        return await events(io, fetchFn, await baseUrl(), values);
      case 'config': {
        const [sub, file] = rest;
        if (sub === 'validate') {
          const f = file ?? (await resolveConfigFile(values.config, io.env));
          try {
            const c = f === undefined ? await loadStartConfig(undefined, io.env) : await loadAppliance({ file: f, env: io.env });
            io.out(`${f ?? 'embedded default config'} is valid: apps configured: ${Object.keys(c.apps).join(', ') || 'none'}`);
            return 0;
          } catch (err) {
            io.err(formatConfigError(err));
            return 1;
          }
        }
        if (sub === 'show') {
          if (values.default === true) {
            io.out(defaultApplianceYaml({ dataDir: defaultDataDir(io.env, process.getuid?.() ?? 0), uid: process.getuid?.() ?? 0 }));
            return 0;
          }
          const c = await api('GET', '/api/v1/config');
          io.out(json ? JSON.stringify(c, null, 2) : (await import('yaml')).stringify(c));
          return 0;
        }
        throw new UsageError('config needs validate or show');
      }
      case 'keys':
        return await keys(io, rest, values);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`edgebox: ${err.message}\n${EDGEBOX_USAGE}`);
      return 2;
    }
    const details = (err as { details?: { issues?: unknown } }).details;
    io.err(details?.issues !== undefined ? formatConfigError({ ...toErrorBody(err), code: 'RUNTIME_CONFIG_INVALID', details }) : `edgebox: ${(err as Error).message}`);
    return 1;
  }
}

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K] extends { type: 'boolean' } ? boolean : string };

async function start(io: EdgeboxIo, values: Values): Promise<number> {
  const file = await resolveConfigFile(values.config, io.env);
  let config: ApplianceConfig;
  try {
    config = await loadStartConfig(file, io.env);
  } catch (err) {
    io.err(formatConfigError(err));
    return 1;
  }
  const log = io.logger ?? createLogger({ app: 'supervisor', env: io.env });
  const supervisor = createSupervisor({ config, ...(file === undefined ? {} : { configFile: file }), logger: log, env: io.env });
  let api: Awaited<ReturnType<typeof createAdminApi>>;
  try {
    api = await createAdminApi({
      supervisor,
      logger: log,
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values.port === undefined ? {} : { port: Number(values.port) }),
    });
  } catch (err) {
    io.err(`edgebox: the admin API cannot listen on ${values.host ?? config.supervisor.api.host}:${values.port ?? config.supervisor.api.port}: ${(err as Error).message}`);
    return 1;
  }
  // The API listens first: /ready says "not yet" while the apps start.
  io.out(`edgebox admin API: ${api.url}/api/v1/status  (docs ${api.url}/api/docs, metrics ${api.url}/metrics, auth ${supervisor.authMode})`);
  io.out(`config: ${file ?? 'embedded default'}; data dir: ${config.supervisor.dataDir}`);
  await supervisor.start();
  for (const a of supervisor.apps()) io.out(`  ${a.name.padEnd(8)} ${a.state === 'disabled' ? (a.reason ?? 'disabled') : `${a.state}${a.reason === null ? '' : ` (${a.reason})`}`}`);
  io.out('ready');

  return new Promise<number>((resolve) => {
    const handle = handleSignals({
      deadlineMs: config.supervisor.stopDeadlineMs,
      onStop: async ({ deadlineMs }) => {
        await api.close().catch(() => undefined);
        await supervisor.stop(deadlineMs);
        handle.dispose();
        io.out('stopped');
        resolve(0);
      },
      onReload: async () => {
        const r = await supervisor.reload().catch((err: unknown) => ({ error: toErrorBody(err) }));
        log.info({ result: r }, 'reload (SIGHUP)');
      },
      exit: io.exit,
      logger: log,
      ...(io.signalTarget === undefined ? {} : { target: io.signalTarget }),
    });
  });
}

async function events(io: EdgeboxIo, fetchFn: typeof fetch, base: string, values: Values): Promise<number> {
  const q = new URLSearchParams();
  for (const a of values.app ?? []) q.append('app', a);
  for (const k of values.kind ?? []) q.append('kind', k);
  if (values.severity !== undefined) q.set('severity', values.severity);
  const key = values.key ?? io.env['EDGEBOX_API_KEY'];
  const ac = new AbortController();
  const headers: Record<string, string> = { 'last-event-id': '0' };
  if (key !== undefined && key !== '') headers['authorization'] = `Bearer ${key}`;
  const res = await fetchFn(`${base}/api/v1/events?${q}`, { headers, signal: ac.signal });
  if (!res.ok || res.body === null) {
    const data = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    io.err(`edgebox: ${data?.error === undefined ? `HTTP ${res.status}` : `${data.error.code}: ${data.error.message}`}`);
    return 1;
  }
  const decoder = createSseDecoder();
  const reader = res.body.getReader();
  // without --follow: the history, then stop once nothing came for a moment
  let idle: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    if (values.follow === true) return;
    clearTimeout(idle);
    idle = setTimeout(() => ac.abort(), 500);
  };
  arm();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const r of decoder.push(new TextDecoder().decode(value))) {
        if (!r.ok || r.message.data === '') continue;
        const e = JSON.parse(r.message.data) as { time: string; source: string; kind: string; severity: string; subject?: string; states?: { old?: string; new: string }; data?: unknown };
        if (values.json === true) io.out(r.message.data);
        else io.out(`${e.time} ${e.source.padEnd(10)} ${e.kind.padEnd(22)} ${e.severity.padEnd(7)} ${e.subject ?? ''}${e.states === undefined ? '' : ` ${e.states.old ?? '-'} -> ${e.states.new}`}`);
      }
      arm();
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(idle);
  }
  return 0;
}

async function keys(io: EdgeboxIo, rest: string[], values: Values): Promise<number> {
  const dataDir = values['data-dir'] ?? (await loadStartConfig(await resolveConfigFile(values.config, io.env), io.env)).supervisor.dataDir;
  const store = openKeyStore(dataDir);
  const [sub, arg] = rest;
  switch (sub) {
    case 'create': {
      if (values.name === undefined || values.role === undefined) throw new UsageError('keys create needs --name N --role viewer|admin');
      const { key, info } = await store.create({ name: values.name, role: values.role as Role });
      if (values.json === true) io.out(JSON.stringify({ key, ...info }, null, 2));
      else {
        io.out(key);
        io.err(`created ${info.role} key "${info.name}" (id ${info.id}) in ${store.file}: the key is shown only now`);
      }
      return 0;
    }
    case 'list': {
      const list = await store.list();
      if (values.json === true) io.out(JSON.stringify(list, null, 2));
      else for (const l of pad([['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'], ...list.map((k) => [k.id, k.name, k.role, k.createdAt, k.revokedAt ?? '-'])])) io.out(l);
      return 0;
    }
    case 'revoke': {
      if (arg === undefined) throw new UsageError('keys revoke needs an id or a name');
      const k = await store.revoke(arg);
      io.out(values.json === true ? JSON.stringify(k, null, 2) : `revoked key "${k.name}" (id ${k.id})`);
      return 0;
    }
    default:
      throw new UsageError('keys needs create, list or revoke');
  }
}


