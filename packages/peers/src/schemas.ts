/**
 * zod schemas for the config sections apps build from this package (ARCHITECTURE.md rule 4:
 * one config, zod schemas, errors naming path, value and expectation). Each schema runs the
 * same checks as the factories, so a config that validates also constructs.
 */
import { z } from 'zod';
import { TIMER_MAX_MS } from './constants.js';
import { isPeersError } from './errors.js';
import { parseCidr } from './ip.js';
import { parsePeerId } from './peer-id.js';
import { checkAddresses, checkMetadata, checkTags } from './peer-record.js';

/** Run a package validator inside zod, turning its PeersError into an issue at `path`. */
function refineWith(ctx: z.RefinementCtx, path: (string | number)[], check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch (err) {
    ctx.addIssue({ code: 'custom', path, message: isPeersError(err) ? err.message : String(err) });
    return false;
  }
}

/**
 * A statically configured peer: `{id, addresses?, metadata?, tags?, autoConnect?}` (the
 * address book's PeerInit).
 *
 * @example
 * const p2pConfig = z.object({ peers: z.array(peerInitSchema).default([]) });
 * for (const peer of p2pConfig.parse(raw).peers) book.add(peer);
 */
export const peerInitSchema = z
  .object({
    id: z.string(),
    addresses: z.array(z.string()).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    tags: z.array(z.string()).optional(),
    autoConnect: z.boolean().optional(),
  })
  .strict()
  .superRefine((peer, ctx) => {
    if (!refineWith(ctx, ['id'], () => parsePeerId(peer.id))) return;
    const id = parsePeerId(peer.id).id;
    if (peer.addresses !== undefined) refineWith(ctx, ['addresses'], () => checkAddresses(id, peer.addresses));
    if (peer.metadata !== undefined) refineWith(ctx, ['metadata'], () => checkMetadata(peer.metadata));
    if (peer.tags !== undefined) refineWith(ctx, ['tags'], () => checkTags(peer.tags));
  });

/**
 * An access rule in config: exactly one of `peer` or `cidr`, an action, optional reason and ttl.
 *
 * @example
 * for (const r of accessRuleSchema.array().parse(config.access)) {
 *   if (r.peer !== undefined) (r.action === 'block' ? acl.blockPeer : acl.allowPeer)(r.peer, r);
 *   else (r.action === 'block' ? acl.blockCidr : acl.allowCidr)(r.cidr!, r);
 * }
 */
export const accessRuleSchema = z
  .object({
    peer: z.string().optional(),
    cidr: z.string().optional(),
    action: z.enum(['allow', 'block']),
    reason: z.string().max(256).optional(),
    ttlMs: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if ((rule.peer === undefined) === (rule.cidr === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'an access rule names exactly one of peer or cidr' });
      return;
    }
    if (rule.peer !== undefined) refineWith(ctx, ['peer'], () => parsePeerId(rule.peer!));
    if (rule.cidr !== undefined) refineWith(ctx, ['cidr'], () => parseCidr(rule.cidr!));
  });

/**
 * Backoff options (createBackoff's init).
 *
 * @example const reconnect = backoffInitSchema.parse({ strategy: 'decorrelated', minMs: 250, maxMs: 30000 });
 */
export const backoffInitSchema = z
  .object({
    strategy: z.enum(['exponential', 'decorrelated']).optional(),
    minMs: z.number().int().min(1).max(TIMER_MAX_MS).optional(),
    maxMs: z.number().int().min(1).max(TIMER_MAX_MS).optional(),
    factor: z.number().min(1).max(1000).optional(),
    jitter: z.enum(['none', 'full', 'equal']).optional(),
  })
  .strict()
  .refine((b) => b.minMs === undefined || b.maxMs === undefined || b.minMs <= b.maxMs, { message: 'minMs must not exceed maxMs', path: ['maxMs'] });

/**
 * Circuit breaker options (createCircuitBreaker's init, without the isFailure callback).
 *
 * @example const breaker = createCircuitBreaker(circuitBreakerInitSchema.parse(config.breaker));
 */
export const circuitBreakerInitSchema = z
  .object({
    failureThreshold: z.number().int().min(1).max(10_000).optional(),
    windowMs: z.number().int().min(1).max(TIMER_MAX_MS).optional(),
    openMs: z.number().int().min(1).max(TIMER_MAX_MS).optional(),
    halfOpenProbes: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

/**
 * Rate limiter options (createRateLimiter's init).
 *
 * @example const perPeer = createRateLimiter(rateLimiterInitSchema.parse({ capacity: 200, refillPerSecond: 100 }));
 */
export const rateLimiterInitSchema = z
  .object({
    capacity: z.number().min(1).max(1e12),
    refillPerSecond: z.number().positive().max(1e12),
    maxKeys: z.number().int().min(1).max(100_000_000).optional(),
  })
  .strict();

/**
 * Connection limiter options (createConnectionLimiter's init).
 *
 * @example const limits = createConnectionLimiter(connectionLimiterInitSchema.parse({ maxTotal: 1000, maxPerKey: 8 }));
 */
export const connectionLimiterInitSchema = z
  .object({
    maxTotal: z.number().int().min(1).max(100_000_000),
    maxPerKey: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((c) => c.maxPerKey === undefined || c.maxPerKey <= c.maxTotal, { message: 'maxPerKey must not exceed maxTotal', path: ['maxPerKey'] });
