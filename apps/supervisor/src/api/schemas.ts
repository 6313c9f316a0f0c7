/** OpenAPI schemas of the admin API's responses (plain objects: the bodies are the supervisor's JSON). */
import type { OpenAPIObject } from '@nestjs/swagger';
import { APP_NAMES } from '../constants.js';

/** An OpenAPI schema object (the package does not export the type by name). */
type SchemaObject = Exclude<NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string], { $ref: string }>;

const nullable = (type: SchemaObject['type']): SchemaObject => ({ type, nullable: true });

export const APP_STATUS_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', enum: [...APP_NAMES] },
    state: { type: 'string', enum: ['disabled', 'stopped', 'starting', 'running', 'stopping', 'backoff', 'crash-loop'] },
    enabled: { type: 'boolean' },
    reason: nullable('string'),
    pid: nullable('integer'),
    uptimeSeconds: nullable('number'),
    restarts: { type: 'integer' },
    lastError: { type: 'object', nullable: true, properties: { code: { type: 'string' }, message: { type: 'string' }, at: { type: 'string' } } },
    nextRestartAt: nullable('string'),
  },
} satisfies SchemaObject;

export const APPLIANCE_STATUS_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    pid: { type: 'integer' },
    uptimeSeconds: { type: 'number' },
    root: { type: 'boolean' },
    configFile: nullable('string'),
    dataDir: { type: 'string' },
    api: { type: 'object', properties: { url: nullable('string'), auth: { type: 'string', enum: ['keys', 'local-open'] } } },
    apps: { type: 'array', items: APP_STATUS_SCHEMA },
    events: { type: 'object', properties: { published: { type: 'integer' }, subscribers: { type: 'integer' } } },
  },
};

export const APPLY_RESULT_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    applied: { type: 'boolean' },
    configFile: { type: 'string' },
    apps: { type: 'object', additionalProperties: { type: 'object', properties: { outcome: { type: 'string' }, error: { type: 'object' }, reason: nullable('string') } } },
    restartRequired: { type: 'array', items: { type: 'string' } },
  },
};

export const CONFIG_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'The appliance config: supervisor plus one section per app (bonding, tunnel, netevd, p2p), each as that app documents it',
  properties: { supervisor: { type: 'object' }, bonding: { type: 'object' }, tunnel: { type: 'object' }, netevd: { type: 'object' }, p2p: { type: 'object' } },
};

export const HEALTH_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'failing'] },
    ready: { type: 'boolean' },
    checks: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, status: { type: 'string' }, message: { type: 'string' }, observedAt: { type: 'string' } } } },
  },
};

/** The error envelope every failing request returns. */
export const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } } } },
};
