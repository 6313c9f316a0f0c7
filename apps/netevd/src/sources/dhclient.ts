/**
 * The dhclient source: ISC dhclient lease files as `lease.changed` events, for hosts where
 * dhclient (not networkd or NetworkManager) runs DHCP.
 *
 *   1. read     each configured lease file; the last `lease { ... }` block per interface is the
 *               current lease (dhclient appends renewed leases and rewrites the file by rename)
 *   2. watch    the files' directories (fs.watch survives the rename), re-read 50 ms after the
 *               last change
 *   3. publish  a lease that is new or changed → `lease.changed` {old?, new: bound | expired},
 *               `addresses` [fixed-address/prefix], `data` {backend: dhclient, routers, dns,
 *               domain, expire, leaseTime, file}; scripts in `bound.d` / `expired.d` run for it
 *   4. startup  start() publishes the current lease of every interface (`data.startup`)
 *
 * The daemon also takes each lease's first router as the gateway hint of its interface's
 * policy table when the config names none and the main table has no default via it.
 * A file that does not parse is reported and skipped; the source keeps going.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isIP } from 'node:net';
import type { EventBus, EventFactory } from '@edgebox/events';

/** One parsed lease. */
export interface DhcpLease {
  interface: string;
  address: string;
  prefix: number | null;
  routers: string[];
  dns: string[];
  domain: string | null;
  leaseTime: number | null;
  /** `expire` as ISO 8601 (UTC), or null (never / missing). */
  expire: string | null;
}

/** Options of createDhclientSource. */
export interface DhclientSourceInit {
  bus: EventBus;
  events: EventFactory;
  files: readonly string[];
  accept?: (name: string) => boolean;
  onError?: (err: unknown) => void;
  /** Now, for expiry (tests). */
  now?: () => number;
}

/** The dhclient source. */
export interface DhclientSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Current leases by interface. */
  leases(): Map<string, DhcpLease>;
  /** Re-read now. */
  refresh(): Promise<void>;
  health(): { ok: boolean; detail: string };
  stats(): { reads: number; errors: number; published: number; lastError: string | null };
}

function prefixOf(mask: string | undefined): number | null {
  if (mask === undefined || isIP(mask) !== 4) return null;
  const bits = mask.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const ones = bits.toString(2).replace(/0+$/, '');
  return ones.includes('0') ? null : ones.length;
}

// `expire 5 2026/12/04 01:00:00;` (UTC) or `expire never;`
function dateOf(value: string | undefined): string | null {
  const m = value === undefined ? null : /^\d+ (\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (m === null) return null;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))).toISOString();
}

const unquote = (s: string): string => s.replace(/^"(.*)"$/, '$1');

/**
 * Parse a dhclient lease file: the last lease per interface.
 *
 * @example parseLeases('lease {\n interface "eth0";\n fixed-address 192.0.2.5;\n option routers 192.0.2.1;\n}\n').get('eth0')?.routers; // ['192.0.2.1']
 */
export function parseLeases(text: string): Map<string, DhcpLease> {
  const out = new Map<string, DhcpLease>();
  const re = /lease\s*\{([^}]*)\}/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const fields = new Map<string, string>();
    for (const raw of m[1]!.split(';')) {
      const line = raw.trim();
      if (line === '') continue;
      const opt = /^option\s+(\S+)\s+(.*)$/.exec(line);
      if (opt !== null) fields.set(`option ${opt[1]}`, opt[2]!.trim());
      else {
        const sp = line.indexOf(' ');
        if (sp > 0) fields.set(line.slice(0, sp), line.slice(sp + 1).trim());
      }
    }
    const iface = fields.get('interface');
    const address = fields.get('fixed-address');
    if (iface === undefined || address === undefined || isIP(address) === 0) continue;
    const list = (k: string): string[] => (fields.get(k) ?? '').split(/[\s,]+/).filter((a) => isIP(a) !== 0);
    const leaseTime = Number(fields.get('option dhcp-lease-time'));
    out.set(unquote(iface), {
      interface: unquote(iface),
      address,
      prefix: prefixOf(fields.get('option subnet-mask')),
      routers: list('option routers'),
      dns: list('option domain-name-servers'),
      domain: fields.has('option domain-name') ? unquote(fields.get('option domain-name')!) : null,
      leaseTime: Number.isFinite(leaseTime) ? leaseTime : null,
      expire: dateOf(fields.get('expire')),
    });
  }
  return out;
}

/**
 * Create the dhclient source (not started).
 *
 * @example
 * const src = createDhclientSource({ bus, events, files: ['/var/lib/dhcp/dhclient.leases'] });
 * await src.start();
 */
export function createDhclientSource(init: DhclientSourceInit): DhclientSource {
  const accept = init.accept ?? (() => true);
  const now = init.now ?? Date.now;
  let current = new Map<string, { lease: DhcpLease; state: string; key: string }>();
  const watchers: FSWatcher[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  const stats = { reads: 0, errors: 0, published: 0, lastError: null as string | null };

  async function read(startup: boolean): Promise<void> {
    const next = new Map<string, { lease: DhcpLease; state: string; key: string; file: string }>();
    for (const file of init.files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // no lease yet
        stats.errors++;
        stats.lastError = `${file}: ${(err as Error).message}`;
        init.onError?.(err);
        continue;
      }
      for (const [iface, lease] of parseLeases(text)) {
        if (!accept(iface)) continue;
        const state = lease.expire !== null && Date.parse(lease.expire) <= now() ? 'expired' : 'bound';
        next.set(iface, { lease, state, key: JSON.stringify([lease, state]), file });
      }
    }
    stats.reads++;
    for (const [iface, n] of next) {
      const was = current.get(iface);
      if (was !== undefined && was.key === n.key) continue;
      const l = n.lease;
      try {
        init.bus.publish(
          init.events.create({
            kind: 'lease.changed',
            subject: iface,
            interface: iface,
            states: was === undefined ? { new: n.state } : { old: was.state, new: n.state },
            addresses: [l.prefix === null ? l.address : `${l.address}/${l.prefix}`],
            data: { backend: 'dhclient', routers: l.routers, dns: l.dns, domain: l.domain, expire: l.expire, leaseTime: l.leaseTime, file: n.file, startup },
          }),
        );
        stats.published++;
      } catch (err) {
        stats.errors++;
        stats.lastError = `lease of ${JSON.stringify(iface)} refused by the event schema: ${(err as Error).message}`;
        init.onError?.(err);
      }
    }
    current = next;
  }

  function schedule(): void {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      read(false).catch((err: unknown) => init.onError?.(err));
    }, 50);
  }

  return {
    async start() {
      if (running) return;
      running = true;
      const byDir = new Map<string, Set<string>>();
      for (const f of init.files) {
        const set = byDir.get(dirname(f)) ?? new Set<string>();
        set.add(basename(f));
        byDir.set(dirname(f), set);
      }
      for (const [dir, names] of byDir) {
        try {
          const w = watch(dir, (_type, name) => {
            if (name === null || names.has(String(name))) schedule();
          });
          w.on('error', (err) => init.onError?.(err));
          watchers.push(w);
        } catch (err) {
          stats.errors++;
          stats.lastError = `cannot watch ${dir}: ${(err as Error).message}`;
          init.onError?.(err);
        }
      }
      await read(true);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      for (const w of watchers.splice(0)) w.close();
    },
    leases: () => new Map([...current].map(([k, v]) => [k, v.lease])),
    refresh: () => read(false),
    health: () => (running ? { ok: watchers.length > 0, detail: `dhclient: ${current.size} leases, ${watchers.length} folders watched${stats.lastError === null ? '' : `; last error: ${stats.lastError}`}` } : { ok: false, detail: 'dhclient: stopped' }),
    stats: () => ({ ...stats }),
  };
}
