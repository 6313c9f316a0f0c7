/**
 * The ops endpoint of an app, on node:http, loopback by default:
 *
 *   GET /metrics  Prometheus text of the registries (content type from the first registry)
 *   GET /health   liveness: 200 when ok/degraded, 503 when failing; the HealthReport as JSON
 *   GET /ready    readiness: 200 when ready, 503 otherwise; {ready, status, checks}
 *   GET /status   the app's JSON status
 *
 * Other paths: 404, other methods: 405 (Allow: GET, HEAD), handler failures: 500, each with
 * the `{error:{code,message,details}}` envelope. HEAD answers like GET without a body.
 * `close()` also drops keep-alive connections, so tests and shutdowns do not hang.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { OPS_HEADERS_TIMEOUT_MS, OPS_HOST, OPS_REQUEST_TIMEOUT_MS } from './constants.js';
import { RuntimeError, toErrorEnvelope } from './errors.js';
import type { HealthReport } from './health.js';
import type { JsonValue } from './service.js';

/** Options of {@link createOpsServer}. */
export interface OpsServerInit {
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** Port (0 = any free port, for tests). */
  port: number;
  /** Registries served on /metrics; their metric names must not overlap. */
  registries: Registry | Registry[];
  /** Liveness report for /health. */
  health: () => HealthReport | Promise<HealthReport>;
  /** Readiness report for /ready (default: the health report and its `ready`). */
  ready?: () => HealthReport | Promise<HealthReport>;
  /** JSON for /status (default `{}`). */
  status?: () => JsonValue | Promise<JsonValue>;
  /** Told about handler failures (they are answered 500 either way). */
  onError?: (error: unknown, path: string) => void;
}

/** A listening ops server. */
export interface OpsServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (IPv6 hosts bracketed). */
  readonly url: string;
  /** Stops listening and closes every connection, idle keep-alive ones included. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an ops server; resolves once it listens. A bind failure is RUNTIME_LISTEN.
 *
 * @example
 * const ops = await createOpsServer({ port: 9464, registries: service.registry, health: () => service.health(), status: () => service.status() });
 * console.log(`${ops.url}/metrics`);
 * await ops.close();
 */
export async function createOpsServer(init: OpsServerInit): Promise<OpsServer> {
  const host = init.host ?? OPS_HOST;
  if (!Number.isInteger(init.port) || init.port < 0 || init.port > 65535) {
    throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `ops port ${String(init.port)} is not valid: expected integer 0..65535`);
  }
  const registries = Array.isArray(init.registries) ? init.registries : [init.registries];
  if (registries.length === 0) throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', 'ops server needs at least one registry');

  const routes: Record<string, () => Promise<{ status: number; type: string; body: string }>> = {
    '/metrics': async () => {
      const texts = await Promise.all(registries.map((r) => r.metrics()));
      return { status: 200, type: registries[0]!.contentType, body: texts.filter((t) => t.length > 0).join('\n') };
    },
    '/health': async () => {
      const report = await init.health();
      return json(report.status === 'failing' ? 503 : 200, report);
    },
    '/ready': async () => {
      const report = await (init.ready ?? init.health)();
      return json(report.ready ? 200 : 503, { ready: report.ready, status: report.status, checks: report.checks });
    },
    '/status': async () => json(200, init.status === undefined ? {} : await init.status()),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    let reply: { status: number; type: string; body: string };
    if (route === undefined) {
      reply = json(404, toErrorEnvelope(new RuntimeError('RUNTIME_NOT_FOUND', `no ops endpoint ${path}: try /metrics, /health, /ready or /status`)));
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      reply = json(405, toErrorEnvelope(new RuntimeError('RUNTIME_METHOD_NOT_ALLOWED', `${String(req.method)} ${path} is not allowed: expected GET or HEAD`)));
    } else {
      try {
        reply = await route();
      } catch (err) {
        init.onError?.(err, path);
        reply = json(500, toErrorEnvelope(err));
      }
    }
    res.statusCode = reply.status;
    res.setHeader('Content-Type', reply.type);
    res.setHeader('Content-Length', Buffer.byteLength(reply.body));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  };

  const server = createServer({ headersTimeout: OPS_HEADERS_TIMEOUT_MS, requestTimeout: OPS_REQUEST_TIMEOUT_MS }, (req, res) => {
    // the body (if any) is not read; draining it keeps keep-alive connections usable
    req.resume();
    handle(req, res).catch((err: unknown) => {
      init.onError?.(err, req.url ?? '');
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new RuntimeError('RUNTIME_LISTEN', `ops server cannot listen on ${host}:${init.port}: ${err.code ?? err.message}`, {
          cause: err,
          details: { host, port: init.port, errno: err.code },
        }),
      );
    };
    server.once('error', onError);
    server.listen(init.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function json(status: number, value: unknown): { status: number; type: string; body: string } {
  return { status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(value)}\n` };
}
