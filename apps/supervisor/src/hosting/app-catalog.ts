/**
 * What the supervisor knows about each app: how to load its Service (a dynamic import, so a
 * child process loads only its own app and the parent only the schemas), its config schema,
 * whether a config needs root, and the resources the admin API passes through to it.
 *
 * Resources read the Service's own views (status(), netevd's interfaces()/routingState()):
 * the supervisor holds no second copy of any app's state.
 */
import type { AnyService, JsonValue } from '@edgebox/runtime';
import { toJsonSafe } from '@edgebox/runtime';
import type { z } from 'zod';
import type { AppName } from '../constants.js';

/** A resource reader: the running service and the query string of the request. */
export type ResourceReader = (service: AnyService, query: Readonly<Record<string, string>>) => JsonValue | Promise<JsonValue>;

/** The resources of each app, by name (also the API paths `/api/v1/<app>/<resource>`). */
export const APP_RESOURCES = {
  bonding: ['links', 'clients'],
  tunnel: ['sessions', 'streams'],
  netevd: ['interfaces', 'routes', 'rules', 'events'],
  p2p: ['peers', 'streams'],
} as const satisfies Record<AppName, readonly string[]>;

type Status = Record<string, unknown>;
const statusOf = (s: AnyService): Status => s.status() as unknown as Status;
const json = (v: unknown): JsonValue => (toJsonSafe(v) ?? null) as JsonValue;

interface NetevdViews {
  interfaces(): unknown[];
  routingState(): Promise<{ tables: Record<string, number>; rules: unknown[]; routes: unknown[] }>;
  bus: { since(cursor: string): { entries: { event: unknown }[] } };
}

const readers: Record<AppName, Record<string, ResourceReader>> = {
  bonding: {
    // one row per link of every peer (a client has one peer: its server)
    links: (s) => json(((statusOf(s)['peers'] as { links: unknown[] }[] | undefined) ?? []).flatMap((p) => p.links)),
    // a server's clients (a client lists its server): the per-peer rows without the link table
    clients: (s) => json(((statusOf(s)['peers'] as Record<string, unknown>[] | undefined) ?? []).map(({ links: _links, ...peer }) => peer)),
  },
  tunnel: {
    sessions: (s) => {
      const st = statusOf(s) as { source?: { sessions: unknown[] } | null; dest?: { sessions: unknown[] } | null };
      return json(st.source?.sessions ?? st.dest?.sessions ?? []);
    },
    // the tunnel keeps counts, not a per-stream table: open streams per session and per service
    streams: (s) => {
      const st = statusOf(s) as { openStreams?: number; source?: { sessions: { id: number; openStreams: number }[] } | null; dest?: { sessions: { id: number; openStreams: number }[]; services: unknown[] } | null };
      const sessions = st.source?.sessions ?? st.dest?.sessions ?? [];
      return json({ openStreams: st.openStreams ?? 0, sessions: sessions.map((x) => ({ session: x.id, openStreams: x.openStreams })), services: st.dest?.services ?? [] });
    },
  },
  netevd: {
    interfaces: (s) => json((s as unknown as NetevdViews).interfaces()),
    routes: async (s) => json((await (s as unknown as NetevdViews).routingState()).routes),
    rules: async (s) => json((await (s as unknown as NetevdViews).routingState()).rules),
    events: (s, q) => {
      const limit = Math.min(Math.max(Number(q['limit'] ?? 100) || 100, 1), 1000);
      return json((s as unknown as NetevdViews).bus.since('0').entries.slice(-limit).map((e) => e.event));
    },
  },
  p2p: {
    peers: (s) => json(((statusOf(s)['peers'] as Record<string, unknown>[] | undefined) ?? []).map(({ streams: _streams, ...peer }) => peer)),
    streams: (s) =>
      json(
        ((statusOf(s)['peers'] as { peer: string; streams: Record<string, Record<string, number>> }[] | undefined) ?? []).flatMap((p) =>
          Object.entries(p.streams).map(([name, counters]) => ({ peer: p.peer, stream: name, ...counters })),
        ),
      ),
  },
};

/** How a child gets its service: the app module, loaded on demand. */
export async function loadService(app: AppName): Promise<AnyService> {
  switch (app) {
    case 'bonding':
      return (await import('@edgebox/bonding')).createBondingService() as unknown as AnyService;
    case 'tunnel':
      return (await import('@edgebox/tunnel')).createTunnelService() as unknown as AnyService;
    case 'netevd':
      return (await import('@edgebox/netevd')).createNetevdService() as unknown as AnyService;
    case 'p2p':
      return (await import('@edgebox/p2p')).createP2pService() as unknown as AnyService;
  }
}

/**
 * The app's config schema (the parent validates sections with it before any child sees them).
 * Only the app's config module is loaded: the whole app (libp2p, the data planes) stays out of
 * the supervisor's own process (about 30 MB of RSS).
 *
 * @example const schema = await loadSchema('tunnel'); schema.safeParse(section);
 */
export async function loadSchema(app: AppName): Promise<z.ZodType> {
  switch (app) {
    case 'bonding':
      return (await import('@edgebox/bonding/config')).BondingConfigSchema as unknown as z.ZodType;
    case 'tunnel':
      return (await import('@edgebox/tunnel/config')).TunnelConfigSchema as unknown as z.ZodType;
    case 'netevd':
      return (await import('@edgebox/netevd/config')).NetevdConfigSchema as unknown as z.ZodType;
    case 'p2p':
      return (await import('@edgebox/p2p/config')).P2pConfigSchema as unknown as z.ZodType;
  }
}

/**
 * Why a validated section cannot run without root, or null. Bonding always needs a TUN device
 * (CAP_NET_ADMIN); netevd only when it changes routing (routed interfaces or ECMP, not dry-run).
 *
 * @example rootNeed('netevd', { routing: { interfaces: [] } }); // null
 */
export function rootNeed(app: AppName, config: unknown): string | null {
  if (app === 'bonding') return 'a TUN device and routes (CAP_NET_ADMIN)';
  if (app === 'netevd') {
    const c = config as { dryRun?: boolean; routing?: { interfaces?: unknown[]; ecmp?: unknown } };
    if (c.dryRun !== true && ((c.routing?.interfaces?.length ?? 0) > 0 || c.routing?.ecmp !== undefined)) return 'policy routing (CAP_NET_ADMIN)';
  }
  return null;
}

/**
 * Reads one resource of a running service.
 *
 * @example await readResource('p2p', service, 'peers', {});
 */
export async function readResource(app: AppName, service: AnyService, resource: string, query: Readonly<Record<string, string>>): Promise<JsonValue> {
  const reader = Object.hasOwn(readers[app], resource) ? readers[app][resource] : undefined;
  if (reader === undefined) throw Object.assign(new Error(`${app} has no resource "${resource}": expected one of ${APP_RESOURCES[app].join(', ')}`), { code: 'SUPERVISOR_NOT_FOUND' });
  return reader(service, query);
}
