/**
 * Who may call the admin API (docs/supervisor.md "Auth"):
 *
 *   - keys are required when the API is bound off loopback, when supervisor.auth.requireKeys
 *     is set, or as soon as one active key exists; otherwise (loopback, no keys) local use is
 *     open, as on any daemon's local socket
 *   - a key comes as `Authorization: Bearer <key>` or `X-Api-Key: <key>`
 *   - no key or an unknown/revoked one: 401; a viewer key on anything but GET/HEAD: 403
 *   - /health and /ready are open (probes); the OpenAPI document is served outside the guard
 *
 * The principal is left on the request for the audit log.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { KeyStore, Principal } from '../auth/key-store.js';
import { API_SETTINGS, KEY_STORE } from '../api/tokens.js';
import type { ApiSettings } from '../api/tokens.js';
import { SupervisorError } from '../errors.js';

const OPEN_PATHS = new Set(['/health', '/ready']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** The key presented with a request, or undefined. */
export function presentedKey(headers: FastifyRequest['headers']): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const k = headers['x-api-key'];
  return typeof k === 'string' && k.length > 0 ? k : undefined;
}

/** The request as the guard leaves it. */
export type AuthedRequest = FastifyRequest & { principal?: Principal | null };

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    @Inject(API_SETTINGS) private readonly settings: ApiSettings,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const path = req.url.split('?', 1)[0]!;
    if (OPEN_PATHS.has(path)) return true;
    const required = !this.settings.loopback || this.settings.requireKeys || (await this.keys.hasActive());
    const presented = presentedKey(req.headers);
    if (!required && presented === undefined) {
      req.principal = null;
      return true;
    }
    if (presented === undefined) throw new SupervisorError('SUPERVISOR_UNAUTHORIZED', 'an API key is required: send "Authorization: Bearer <key>" (edgebox keys create --name N --role viewer|admin)');
    const principal = await this.keys.verify(presented);
    if (principal === null) throw new SupervisorError('SUPERVISOR_UNAUTHORIZED', 'the API key is unknown or revoked');
    req.principal = principal; // set before the role check: a refused call is audited with its key
    if (principal.role !== 'admin' && !SAFE_METHODS.has(req.method)) {
      throw new SupervisorError('SUPERVISOR_FORBIDDEN', `key "${principal.name}" has role ${principal.role}: ${req.method} needs role admin`, { details: { role: principal.role, method: req.method } });
    }
    return true;
  }
}
