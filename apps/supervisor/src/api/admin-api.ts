/**
 * The admin API: NestJS on fastify, bound to supervisor.api (127.0.0.1:9400 by default).
 *
 *   /api/v1/...      status, apps, per-app resources, config, events (controllers in api/)
 *   /metrics /health /ready
 *   /api/docs        the OpenAPI document (Swagger UI when @fastify/static is installed,
 *                    else the document itself); /api/docs-json and /api/docs-yaml
 *
 * One guard (auth), one exception filter (the error envelope), an onResponse hook that
 * appends every mutating request to the audit log.
 */
import 'reflect-metadata';
import { isIP } from 'node:net';
import { Module } from '@nestjs/common';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Logger } from '@edgebox/runtime';
import { parse as parseYaml } from 'yaml';
import { openAuditLog } from '../auth/audit-log.js';
import { openKeyStore } from '../auth/key-store.js';
import type { KeyStore } from '../auth/key-store.js';
import { ApiKeyGuard } from '../common/auth-guard.js';
import type { AuthedRequest } from '../common/auth-guard.js';
import { ErrorEnvelopeFilter } from '../common/error-filter.js';
import type { Supervisor } from '../hosting/supervisor.js';
import { AppsController } from './apps.controller.js';
import { ConfigController } from './config.controller.js';
import { EventsController } from './events.controller.js';
import { OpsController } from './ops.controller.js';
import { ResourcesController } from './resources.controller.js';
import { StatusController } from './status.controller.js';
import { API_SETTINGS, KEY_STORE, SUPERVISOR } from './tokens.js';
import type { ApiSettings } from './tokens.js';

/** Every controller of the admin API (the OpenAPI test walks them). */
export const CONTROLLERS = [StatusController, AppsController, ResourcesController, ConfigController, EventsController, OpsController] as const;

@Module({})
class AdminModule {
  static with(supervisor: Supervisor, keys: KeyStore, settings: ApiSettings): DynamicModule {
    return {
      module: AdminModule,
      controllers: [...CONTROLLERS],
      providers: [
        { provide: SUPERVISOR, useValue: supervisor },
        { provide: KEY_STORE, useValue: keys },
        { provide: API_SETTINGS, useValue: settings },
      ],
    };
  }
}

/** Options of createAdminApi. */
export interface AdminApiInit {
  supervisor: Supervisor;
  /** Default: supervisor.config.supervisor.api. */
  host?: string;
  port?: number;
  logger?: Logger;
}

/** A listening admin API. */
export interface AdminApi {
  readonly url: string;
  readonly app: INestApplication;
  readonly document: OpenAPIObject;
  readonly keys: KeyStore;
  close(): Promise<void>;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * Builds and starts the admin API over a supervisor.
 *
 * @example
 * const api = await createAdminApi({ supervisor: sup });
 * console.log(`admin API: ${api.url}/api/v1/status`);
 */
export async function createAdminApi(init: AdminApiInit): Promise<AdminApi> {
  const { supervisor } = init;
  const host = init.host ?? supervisor.config.supervisor.api.host;
  const port = init.port ?? supervisor.config.supervisor.api.port;
  const dataDir = supervisor.config.supervisor.dataDir;
  const keys = openKeyStore(dataDir);
  const settings: ApiSettings = { loopback: isLoopbackHost(host), requireKeys: supervisor.config.supervisor.auth.requireKeys };
  const audit = openAuditLog(dataDir, (err) => init.logger?.error({ err }, 'audit log append failed'));

  const adapter = new FastifyAdapter({ bodyLimit: 1024 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(AdminModule.with(supervisor, keys, settings), adapter, { logger: false, abortOnError: false });
  const fastify = adapter.getInstance();
  // config bodies may be YAML, as the file is
  fastify.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseYaml(body as string) ?? {});
    } catch (err) {
      done(Object.assign(new Error(`body is not valid YAML: ${(err as Error).message.split('\n')[0]}`), { code: 'SUPERVISOR_INVALID_ARGUMENT', statusCode: 400 }), undefined);
    }
  });
  fastify.addHook('onResponse', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
    const principal = (req as AuthedRequest).principal;
    audit.append({
      time: new Date().toISOString(),
      keyId: principal?.keyId ?? null,
      keyName: principal?.name ?? (principal === null ? 'local' : null),
      role: principal?.role ?? null,
      method: req.method,
      path: req.url,
      remote: req.ip ?? null,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime),
    });
  });
  app.useGlobalFilters(new ErrorEnvelopeFilter());
  app.useGlobalGuards(new ApiKeyGuard(keys, settings));

  const config = new DocumentBuilder()
    .setTitle('edgebox appliance admin API')
    .setDescription('Apps, per-app resources, config, events, metrics and health of the edgebox appliance. Errors: {error:{code,message,details}}.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key (edgebox keys create): Authorization: Bearer ebk_...' }, 'apiKey')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The UI needs @fastify/static (not a dependency): serve the JSON/YAML and the document at /api/docs.
  SwaggerModule.setup('api/docs', app, document, { ui: false, raw: ['json', 'yaml'] });
  fastify.get('/api/docs', async (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(document)));

  await app.listen(port, host);
  const address = fastify.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  supervisor.apiUrl = url;
  supervisor.authMode = settings.loopback && !settings.requireKeys && !(await keys.hasActive()) ? 'local-open' : 'keys';
  return {
    url,
    app,
    document,
    keys,
    async close() {
      await app.close();
      await audit.flushed();
    },
  };
}
