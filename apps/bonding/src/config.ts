/**
 * The `bonding` config section (ARCHITECTURE.md rule 4): one zod schema for the client and the
 * server, validated by @edgebox/runtime (errors name the path, the value and the expectation).
 * The appliance file has it under `bonding:`; `edgebox-bond client|server --config F` reads the
 * same section as its own file.
 *
 *   mode       client | server
 *   identity   psk (base64, 32 bytes) | pskFile | ca + cert + key [+ crl] (certificate mode)
 *   tun        name, address (CIDR), mtu ('auto' = 1500 − overhead of the links' family)
 *   client     name (the PSK id), server host:port, links[], scheduler, reorder
 *   server     listen host:port, maxClients, clients[] (name, psk | subject, tunAddress), nat
 *   ops        host, port of the ops endpoint (/metrics /health /ready /status)
 *
 * Defaults come from constants.ts. Cross-field rules (the section of the chosen mode is present,
 * one identity kind, unique names and addresses) are checked in superRefine so each issue still
 * names its path. Secrets sit under keys the runtime redacts (`psk`, `key`).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { SCHEDULER_KINDS } from '@edgebox/links';
import type { SchedulerKind } from '@edgebox/links';
import {
  BONDING_OPS_PORT,
  FEEDBACK_INTERVAL_MS,
  MAX_LINKS,
  MTU_MAX,
  MTU_MIN,
  REORDER_CAPACITY_DEFAULT,
  REORDER_CAPACITY_MAX,
  RETRANSMIT_BUFFER_DEFAULT,
  RETRANSMIT_BUFFER_MAX,
  REORDER_WAIT_MAX_MS,
  REORDER_WAIT_MIN_MS,
  SERVER_MAX_CLIENTS_DEFAULT,
  TUN_NAME_DEFAULT,
} from './constants.js';

const PSK_BYTES = 32;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const NAME = /^[A-Za-z0-9_.@:-]{1,64}$/;

/** Split `host:port` / `[v6]:port`; null when it does not parse. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}

/** A 32-byte key in base64, or null. */
export function decodePsk(text: string): Uint8Array | null {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return null;
  const bytes = Buffer.from(t, 'base64');
  return bytes.length === PSK_BYTES ? new Uint8Array(bytes) : null;
}

/** The 16 bytes of an IPv6 address (the caller checked isIP(text) === 6). */
export function ipv6Bytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let body = text;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(body);
  if (v4 !== null) {
    // embedded IPv4 (::ffff:192.0.2.1): the last two groups
    out[12] = Number(v4[1]);
    out[13] = Number(v4[2]);
    out[14] = Number(v4[3]);
    out[15] = Number(v4[4]);
    body = `${body.slice(0, v4.index)}0:0`;
  }
  const [head = '', tail] = body.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  for (let i = 0; i < 8; i++) {
    if (v4 !== null && i >= 6) break;
    const g = parseInt(groups[i] ?? '0', 16);
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  }
  return out;
}

/** One spelling per IPv6 address (for comparisons): the 8 groups in hex, no compression. */
export function canonicalIpv6(text: string): string {
  const b = ipv6Bytes(text);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** `10.8.0.2/24` → address and prefix, or null. */
export function parseCidr(text: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (m === null) return null;
  const family = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return null;
  return { address: m[1]!, prefix, family: family as 4 | 6 };
}

const ip = z.string().refine((s) => isIP(s) !== 0, { message: 'an IPv4 or IPv6 address' });
const hostPort = z.string().refine((s) => parseHostPort(s) !== null, { message: 'host:port (IPv6 as [addr]:port), port 1..65535' });
const pskText = z.string().refine((s) => decodePsk(s) !== null, { message: `${PSK_BYTES} bytes in base64 (edgebox-bond keys psk)` });
const file = z.string().min(1);
const ifname = z.string().regex(IFNAME, '1-15 of [A-Za-z0-9_.-]');

const IdentitySchema = z.strictObject({
  /** PSK in base64 (32 bytes). */
  psk: pskText.optional(),
  /** File holding the PSK in base64. */
  pskFile: file.optional(),
  /** Certificate mode: the appliance CA certificate (PEM). */
  ca: file.optional(),
  /** Our certificate (PEM) issued by that CA. */
  cert: file.optional(),
  /** Our Ed25519 private key (PKCS#8 PEM). */
  key: file.optional(),
  /** The CA's revocation list (PEM), optional. */
  crl: file.optional(),
});

const TunSchema = z.strictObject({
  name: ifname.default(TUN_NAME_DEFAULT),
  /** The tunnel address with prefix, e.g. 10.99.0.2/24. */
  address: z.string().refine((s) => parseCidr(s)?.family === 4, { message: 'an IPv4 address with prefix, e.g. 10.99.0.2/24' }),
  /** Optional IPv6 tunnel address with prefix, e.g. fd00:99::2/64: the bond then carries IPv6 too. */
  address6: z.string().refine((s) => parseCidr(s)?.family === 6, { message: 'an IPv6 address with prefix, e.g. fd00:99::2/64' }).optional(),
  /** 'auto' = 1500 − the tunnel overhead of the link family (1428 over IPv4). */
  mtu: z.union([z.literal('auto'), z.int().min(MTU_MIN).max(MTU_MAX)]).default('auto'),
  /** Move the device into this named network namespace (labs and tests; the sockets stay here). */
  netns: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
});

const LinkSchema = z.strictObject({
  /** Stable link name (metrics label, status row). */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, '1-32 of [A-Za-z0-9_.-]'),
  /** The uplink interface: with it, a source route (table) makes this link's packets leave by it. */
  interface: ifname.optional(),
  /** The uplink's local address the link's socket binds. */
  source: ip,
  /** Next hop of the uplink (omit on point-to-point uplinks). */
  gateway: ip.optional(),
  /** Routing table of the source route (default 100 + the link's index). */
  table: z.int().min(1).max(0x7fff_ffff).refine((t) => t !== 253 && t !== 254 && t !== 255, { message: 'a table other than 253, 254, 255' }).optional(),
  /** Free-form label (fiber, lte, ...). */
  label: z.string().max(64).optional(),
  tier: z.enum(['primary', 'overflow', 'backup']).default('primary'),
  weight: z.number().min(0).max(1000).default(1),
  /** Rate cap in Mbit/s (token bucket). */
  rateCapMbps: z.number().positive().max(100_000).optional(),
  /** Metered link: at most this many MB (10^6 bytes) sent on it. */
  dataCapMB: z.number().positive().optional(),
});

const ReorderSchema = z.strictObject({
  /** Slots (a power of two). */
  capacity: z
    .int()
    .min(2)
    .max(REORDER_CAPACITY_MAX)
    .refine((n) => (n & (n - 1)) === 0, { message: 'a power of two' })
    .default(REORDER_CAPACITY_DEFAULT),
  /** Fixed gap wait in ms; default: derived from the links' RTT spread and jitter (bonding.md §4). */
  maxWaitMs: z.number().min(REORDER_WAIT_MIN_MS).max(REORDER_WAIT_MAX_MS).optional(),
  /** Floor of the derived gap wait in ms (absorbs receive-side scheduling delays). */
  minWaitMs: z.number().min(REORDER_WAIT_MIN_MS).max(REORDER_WAIT_MAX_MS).default(REORDER_WAIT_MIN_MS),
});

/** Retransmission of lost DATA (bonding.md §4.1): both ends keep what they send and resend on a NACK. */
const RetransmitSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Sent packets kept per peer (a power of two): ~1.5 MB at 1024 × a 1500-byte MTU, allocated on first use. */
  bufferPackets: z
    .int()
    .min(2)
    .max(RETRANSMIT_BUFFER_MAX)
    .refine((n) => (n & (n - 1)) === 0, { message: 'a power of two' })
    .default(RETRANSMIT_BUFFER_DEFAULT),
});

const ClientSchema = z.strictObject({
  /** Our name: the PSK id the server knows us by (PSK mode). */
  name: z.string().regex(NAME, '1-64 of [A-Za-z0-9_.@:-]').optional(),
  /** The server's host:port. */
  server: hostPort,
  links: z.array(LinkSchema).min(1).max(MAX_LINKS),
  scheduler: z.enum(SCHEDULER_KINDS as [SchedulerKind, ...SchedulerKind[]]).default('aggregate'),
  reorder: ReorderSchema.default({ capacity: REORDER_CAPACITY_DEFAULT, minWaitMs: REORDER_WAIT_MIN_MS }),
  retransmit: RetransmitSchema.default({ enabled: true, bufferPackets: RETRANSMIT_BUFFER_DEFAULT }),
  /** A link with nothing received for this long is down (ms). */
  linkDownAfterMs: z.int().min(2 * FEEDBACK_INTERVAL_MS).max(60_000).optional(),
});

const ServerClientSchema = z.strictObject({
  /** The client's name (its PSK id in PSK mode). */
  name: z.string().regex(NAME, '1-64 of [A-Za-z0-9_.@:-]'),
  psk: pskText.optional(),
  pskFile: file.optional(),
  /** Certificate mode: the client certificate's common name. */
  subject: z.string().min(1).max(64).optional(),
  /** The client's tunnel address: downstream packets to it go to this client. */
  tunAddress: z.string().refine((s) => isIP(s) === 4, { message: 'an IPv4 address' }),
  /** The client's IPv6 tunnel address (when the bond carries IPv6: tun.address6 on both ends). */
  tunAddress6: z.string().refine((s) => isIP(s) === 6, { message: 'an IPv6 address' }).optional(),
  /** Downstream scheduler for this client (default: server.scheduler). */
  scheduler: z.enum(SCHEDULER_KINDS as [SchedulerKind, ...SchedulerKind[]]).optional(),
  /**
   * Downstream settings of this client's links, by position in the client's `client.links`
   * (link id 0, 1, ...): the server cannot know the client's tiers / weights / caps otherwise.
   */
  links: z
    .array(
      z.strictObject({
        /** Position of the link in the client's `client.links` list (its link id). */
        id: z.int().min(0).max(MAX_LINKS - 1),
        /** Name shown in status and metrics (default `link<id>`). */
        name: z.string().regex(NAME, '1-64 of [A-Za-z0-9_.@:-]').optional(),
        label: z.string().max(64).optional(),
        tier: z.enum(['primary', 'overflow', 'backup']).default('primary'),
        weight: z.number().min(0).max(1000).default(1),
        rateCapMbps: z.number().positive().max(100_000).optional(),
        dataCapMB: z.number().positive().optional(),
      }),
    )
    .max(MAX_LINKS)
    .refine((links) => new Set(links.map((l) => l.id)).size === links.length, { message: 'link ids must be distinct' })
    .default([]),
});

const ServerSchema = z.strictObject({
  /** host:port the server's UDP socket binds (a specific address: replies leave from it). */
  listen: hostPort,
  maxClients: z.int().min(1).max(65_536).default(SERVER_MAX_CLIENTS_DEFAULT),
  /** Downstream scheduler over each client's links (a client entry may override it). */
  scheduler: z.enum(SCHEDULER_KINDS as [SchedulerKind, ...SchedulerKind[]]).default('aggregate'),
  clients: z.array(ServerClientSchema).max(65_536).default([]),
  /** Retransmission towards every client (each client's own setting governs its direction). */
  retransmit: RetransmitSchema.default({ enabled: true, bufferPackets: RETRANSMIT_BUFFER_DEFAULT }),
  nat: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Interface the masquerade applies to (default: any but the TUN). */
      outInterface: ifname.optional(),
    })
    .default({ enabled: false }),
  linkDownAfterMs: z.int().min(2 * FEEDBACK_INTERVAL_MS).max(60_000).optional(),
});

const OpsSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65535).default(BONDING_OPS_PORT),
});

/** The `bonding` section. */
export const BondingConfigSchema = z
  .strictObject({
    mode: z.enum(['client', 'server']),
    identity: IdentitySchema.optional(),
    tun: TunSchema,
    client: ClientSchema.optional(),
    server: ServerSchema.optional(),
    ops: OpsSchema.default({ host: '127.0.0.1', port: BONDING_OPS_PORT }),
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string, input?: unknown): void => {
      ctx.addIssue({ code: 'custom', path, message, input });
    };
    const id = c.identity;
    const pskGiven = id?.psk !== undefined || id?.pskFile !== undefined;
    const certGiven = id?.ca !== undefined || id?.cert !== undefined || id?.key !== undefined;
    if (id?.psk !== undefined && id.pskFile !== undefined) issue(['identity', 'pskFile'], 'psk or pskFile, not both');
    if (pskGiven && certGiven) issue(['identity'], 'PSK (psk | pskFile) or certificate (ca, cert, key) identity, not both');
    if (certGiven) {
      for (const k of ['ca', 'cert', 'key'] as const) if (id?.[k] === undefined) issue(['identity', k], 'a file: certificate mode needs ca, cert and key');
    }
    if (c.mode === 'client') {
      if (c.client === undefined) issue(['client'], 'the client section in client mode');
      if (!pskGiven && !certGiven) issue(['identity'], 'psk, pskFile or ca + cert + key in client mode');
      if (pskGiven && c.client !== undefined && c.client.name === undefined) issue(['client', 'name'], 'the client name (its PSK id) in PSK mode');
      const names = new Set<string>();
      c.client?.links.forEach((l, i) => {
        if (names.has(l.name)) issue(['client', 'links', i, 'name'], `a unique link name, "${l.name}" is used twice`, l.name);
        names.add(l.name);
      });
    } else {
      if (c.server === undefined) issue(['server'], 'the server section in server mode');
      if (pskGiven) issue(['identity'], 'no PSK identity in server mode: each client has its own psk under server.clients');
      const names = new Set<string>();
      const addresses = new Set<string>();
      c.server?.clients.forEach((cl, i) => {
        const at = ['server', 'clients', i];
        if (names.has(cl.name)) issue([...at, 'name'], `a unique client name, "${cl.name}" is used twice`, cl.name);
        names.add(cl.name);
        if (addresses.has(cl.tunAddress)) issue([...at, 'tunAddress'], `a unique tunnel address, ${cl.tunAddress} is used twice`, cl.tunAddress);
        addresses.add(cl.tunAddress);
        if (cl.tunAddress6 !== undefined) {
          const v6 = canonicalIpv6(cl.tunAddress6);
          if (addresses.has(v6)) issue([...at, 'tunAddress6'], `a unique tunnel address, ${cl.tunAddress6} is used twice`, cl.tunAddress6);
          addresses.add(v6);
          if (c.tun.address6 === undefined) issue([...at, 'tunAddress6'], 'tun.address6 on the server too (the TUN carries no IPv6 without it)', cl.tunAddress6);
        }
        const kinds = (cl.psk !== undefined ? 1 : 0) + (cl.pskFile !== undefined ? 1 : 0) + (cl.subject !== undefined ? 1 : 0);
        if (kinds !== 1) issue(at, 'exactly one of psk, pskFile or subject');
        if (cl.subject !== undefined && !certGiven) issue([...at, 'subject'], 'a certificate identity (identity.ca, cert, key) for certificate clients');
      });
    }
  });

/** The validated `bonding` section. */
export type BondingConfig = z.infer<typeof BondingConfigSchema>;
/** The input shape (what a file carries). */
export type BondingConfigInput = z.input<typeof BondingConfigSchema>;
/** One client link. */
export type BondingLinkConfig = z.infer<typeof LinkSchema>;
/** One client entry of a server. */
export type BondingServerClientConfig = z.infer<typeof ServerClientSchema>;
