/**
 * netevd's REST API (node:http), on loopback by default; off loopback a bearer token is
 * required (config.ts refuses a config without one), and when a token is set every path but
 * /health needs it (compared in constant time).
 *
 *   GET  /health                       liveness + named checks (200, or 503 when failing)
 *   GET  /metrics                      edgebox_netevd_* (Prometheus text)
 *   GET  /api/v1/status                service status (interfaces, sources, scripts, routing, last reload)
 *   GET  /api/v1/interfaces            the interface table
 *   GET  /api/v1/interfaces/:name      one interface (404 NETEVD_NOT_FOUND)
 *   GET  /api/v1/routes                our default routes as the kernel has them, and the tables
 *   GET  /api/v1/rules                 our policy rules as the kernel has them
 *   GET  /api/v1/scripts               every script with its safety verdict
 *   GET  /api/v1/events                the history as JSON (?limit=, filters as below);
 *                                      SSE with `Accept: text/event-stream` or ?stream=1
 *                                      (Last-Event-ID resume; @edgebox/events serveSse)
 *                                      filters: app, kind, subject, interface, severity, where
 *   POST /api/v1/reload                re-read the config source and reload; 200 applied,
 *                                      409 refused (the error envelope says why)
 *   POST /api/v1/events                (api.simulate: true) simulate / replay: a JSON event {kind?, interface, states,
 *                                      addresses?, data?} or JSON lines of them, published with
 *                                      data.simulated (scripts run; table and routing untouched)
 *   GET  /api/v1/dead-letter           scripts that failed every attempt; DELETE clears it
 *
 * Errors use the envelope `{error:{code,message,details?}}`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileFilter, filterFromQuery, lastEventIdFrom, serveSse } from '@edgebox/events';
import type { JsonObject } from '@edgebox/events';
import type { Logger } from '@edgebox/runtime';
import { toErrorBody } from '@edgebox/runtime';
import type { NetevdConfig } from './config.js';
import { NetevdError, invalidArgument } from './errors.js';
import { listAllScripts } from './scripts.js';
import type { NetevdService, SimulateInit } from './service.js';

/** A listening API. */
export interface ApiServer {
  readonly url: string;
  readonly port: number;
  /** Take a reloaded config (the token may change; the listen address may not). */
  reconfigure(config: NetevdConfig): void;
  close(): Promise<void>;
}

/** Options of startApi. */
export interface ApiInit {
  service: NetevdService;
  config: NetevdConfig;
  logger: Logger;
}

const STATUS_OF: Record<string, number> = {
  NETEVD_NOT_FOUND: 404,
  NETEVD_UNAUTHORIZED: 401,
  NETEVD_FORBIDDEN: 403,
  NETEVD_INVALID_ARGUMENT: 400,
  EVENTS_FILTER_SYNTAX: 400,
  EVENTS_INVALID_EVENT: 400,
  EVENTS_TOO_LARGE: 400,
  EVENTS_SUBSCRIBER_LIMIT: 503,
  EVENTS_BUS_CLOSED: 503,
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const body = toErrorBody(err);
  send(res, STATUS_OF[body.code] ?? 500, { error: body });
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

const MAX_BODY_BYTES = 1024 * 1024;

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new NetevdError('NETEVD_INVALID_ARGUMENT', `request body over ${max} bytes`, { details: { max } }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A JSON event or JSON lines of them → simulate inits (fields checked by createEvent). */
function parseSimulateBody(text: string): SimulateInit[] {
  const trimmed = text.trim();
  const docs: unknown[] = [];
  try {
    if (trimmed.startsWith('[')) docs.push(...(JSON.parse(trimmed) as unknown[]));
    else for (const line of trimmed.split('\n')) if (line.trim() !== '') docs.push(JSON.parse(line));
  } catch (err) {
    throw new NetevdError('NETEVD_INVALID_ARGUMENT', `body is not JSON or JSON lines: ${(err as Error).message}`);
  }
  if (docs.length === 0 || docs.length > 10_000) throw invalidArgument('events', docs.length, '1..10000 events');
  return docs.map((d, n) => {
    if (typeof d !== 'object' || d === null) throw invalidArgument(`events[${n}]`, d, 'an object');
    const o = d as Record<string, unknown>;
    const states = o['states'] as { old?: string; new: string } | undefined;
    if (typeof states !== 'object' || states === null || typeof states.new !== 'string') throw invalidArgument(`events[${n}].states`, JSON.stringify(states), 'an object {old?, new}');
    return {
      ...(typeof o['kind'] === 'string' ? { kind: o['kind'] } : {}),
      ...(typeof o['interface'] === 'string' ? { interface: o['interface'] } : {}),
      states: states.old === undefined ? { new: states.new } : { old: states.old, new: states.new },
      ...(Array.isArray(o['addresses']) ? { addresses: o['addresses'] as string[] } : {}),
      ...(typeof o['data'] === 'object' && o['data'] !== null ? { data: o['data'] as JsonObject } : {}),
    };
  });
}

/**
 * Start the API on the config's host and port.
 *
 * @example
 * const api = await startApi({ service, config, logger });
 * console.log(`${api.url}/api/v1/status`);
 */
export async function startApi(init: ApiInit): Promise<ApiServer> {
  const { service, logger } = init;
  let config = init.config;
  let tokenDigest = config.api.token === undefined ? null : digest(config.api.token);
  const sse = new Set<AbortController>();

  function authorized(req: IncomingMessage): boolean {
    if (tokenDigest === null) return true;
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Bearer ')) return false;
    return timingSafeEqual(digest(h.slice(7).trim()), tokenDigest);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://netevd');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/health' && (method === 'GET' || method === 'HEAD')) {
      const report = await service.health();
      send(res, report.status === 'failing' ? 503 : 200, report);
      return;
    }
    if (!authorized(req)) throw new NetevdError('NETEVD_UNAUTHORIZED', 'this API needs "Authorization: Bearer <token>" (api.token)');
    const get = method === 'GET' || method === 'HEAD';
    if (path === '/metrics' && get) {
      const text = await service.registry.metrics();
      res.writeHead(200, { 'content-type': service.registry.contentType });
      res.end(text);
      return;
    }
    if (path === '/api/v1/status' && get) return send(res, 200, service.status());
    if (path === '/api/v1/interfaces' && get) return send(res, 200, service.interfaces());
    if (path.startsWith('/api/v1/interfaces/') && get) {
      let name: string;
      try {
        name = decodeURIComponent(path.slice('/api/v1/interfaces/'.length));
      } catch {
        throw invalidArgument('interface', path.slice('/api/v1/interfaces/'.length), 'a percent-encoded interface name');
      }
      const found = service.interfaces().find((i) => i.name === name);
      if (found === undefined) throw new NetevdError('NETEVD_NOT_FOUND', `interface ${JSON.stringify(name)} is not known`, { details: { interface: name } });
      return send(res, 200, found);
    }
    if ((path === '/api/v1/routes' || path === '/api/v1/rules') && get) {
      const state = await service.routingState();
      return send(res, 200, path.endsWith('routes') ? { tables: state.tables, routes: state.routes } : { rules: state.rules });
    }
    if (path === '/api/v1/scripts' && get) return send(res, 200, await listAllScripts(config.scripts.dir, config.scripts.ownerUid));
    if (path === '/api/v1/dead-letter') {
      if (get) return send(res, 200, service.deadLetters());
      if (method === 'DELETE') return send(res, 200, { cleared: service.clearDeadLetters() });
    }
    if (path === '/api/v1/reload' && method === 'POST') {
      const result = await service.reloadFromSource();
      return send(res, result.applied ? 200 : 409, result.applied ? { applied: true } : { applied: false, error: result.error });
    }
    if (path === '/api/v1/events' && method === 'POST') {
      if (!config.api.simulate) throw new NetevdError('NETEVD_FORBIDDEN', 'simulate and replay are off on this daemon (api.simulate: true turns them on)', { details: { setting: 'api.simulate' } });
      const text = await readBody(req, MAX_BODY_BYTES);
      const inits = parseSimulateBody(text);
      const made = service.simulate(inits);
      return send(res, 200, { published: made.map((e) => e.id) });
    }
    if (path === '/api/v1/events' && get) {
      const stream = url.searchParams.get('stream') === '1' || (req.headers.accept ?? '').includes('text/event-stream');
      const spec = filterFromQuery(url.searchParams, { ignore: ['stream', 'limit', 'lastEventId'] });
      if (stream) {
        const ac = new AbortController();
        sse.add(ac);
        try {
          const lastEventId = lastEventIdFrom(req.headers) ?? url.searchParams.get('lastEventId') ?? undefined;
          await serveSse({ bus: service.bus, response: res, filter: spec, signal: ac.signal, name: 'api-sse', heartbeatMs: 15_000, ...(lastEventId === undefined ? {} : { lastEventId }) });
        } finally {
          sse.delete(ac);
        }
        return;
      }
      const filter = compileFilter(spec);
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 1000) || 1000, 1), 10_000);
      const entries = service.bus.history().filter((e) => filter(e.event)).slice(-limit);
      return send(res, 200, entries.map((e) => ({ ...e.event, cursor: e.id })));
    }
    throw new NetevdError('NETEVD_NOT_FOUND', `${method} ${path} is not an endpoint of this API`, { details: { method, path } });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (toErrorBody(err).code === 'RUNTIME_INTERNAL') logger.error({ err, url: req.url }, 'API request failed');
      sendError(res, err);
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // SSE streams stay open

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new NetevdError('NETEVD_API', `API cannot listen on ${config.api.host}:${config.api.port}: ${err.message}`, { cause: err })));
    server.listen(config.api.port, config.api.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
  return {
    url: `http://${host}:${port}`,
    port,
    reconfigure(next) {
      config = next;
      tokenDigest = next.api.token === undefined ? null : digest(next.api.token);
    },
    async close() {
      for (const ac of sse) ac.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
