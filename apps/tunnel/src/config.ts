/**
 * The tunnel's config section (`tunnel` in the appliance config, or a file of its own given
 * to `edgebox-tunnel source|dest --config F`; TOML or YAML through @edgebox/runtime
 * loadConfig). One schema serves both roles: `role` says which side this process is and the
 * section of that name (`source` or `dest`) must be present. Every duration is in ms, every
 * size in bytes; defaults come from constants where the protocol fixes them.
 *
 *   role, mode            source | dest; transparent | protocol | hybrid
 *   pki                   ca, cert, key (PEM files), crl (PEM files, optional)
 *   kem                   hybrid (default) | classical (used only if both sides set it)
 *   source                dest address, listen host, forwards (transparent), entry (protocol)
 *   dest                  listen, services allow-list, allowedSources (CIDR)
 *   limits                global and per-session stream caps, connect timeout
 *   heartbeat, reconnect, circuitBreaker, refresh, rekey, udp, ops
 */
import { parseCidr } from '@edgebox/peers';
import { z } from 'zod';
import {
  CONNECTION_WINDOW_INITIAL_BYTES,
  CONNECTION_WINDOW_MAX_BYTES,
  REKEY_AFTER_BYTES,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_MS,
  STREAM_WINDOW_INITIAL_BYTES,
  STREAM_WINDOW_MAX_BYTES,
} from './constants.js';

/** Default port of the ops server (metrics, health, status) of a tunnel process. */
export const TUNNEL_OPS_PORT = 9471;
/** Default port a dest listens on. */
export const TUNNEL_DEST_PORT = 7443;

const port = z.int().min(1).max(65535);
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):[0-9]{1,5}$/, 'host:port');
const ms = (min: number, max: number, dflt: number) => z.int().min(min).max(max).default(dflt);
const serviceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a name of 1..63 letters, digits, . _ -');
const protocol = z.enum(['tcp', 'udp']).default('tcp');

const cidr = z.string().superRefine((v, ctx) => {
  try {
    parseCidr(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'a CIDR block like 10.0.0.0/8 or 2001:db8::/32' });
  }
});

/** One exposed service on the dest (the allow-list). */
export const ExposedServiceSchema = z.object({
  /** Name a protocol-mode OPEN asks for. */
  name: serviceName,
  /** Exposed port: a transparent-mode OPEN for this port reaches this service. */
  port,
  protocol,
  /** Where the dest dials (default 127.0.0.1:<port>: the same port at dest). */
  target: hostPort.optional(),
  /** Streams open to this service at once, over all sessions (0 = only the global limit). */
  maxConnections: z.int().min(0).max(1_000_000).default(0),
});

/** One port the source listens on and forwards (transparent and hybrid modes). */
export const ForwardSchema = z.object({
  port,
  protocol,
  /** Local port to listen on (default: `port`, the same number as at dest). */
  listenPort: z.int().min(0).max(65535).optional(),
});

/** The source section: where the dest is, what to listen on. */
export const SourceSectionSchema = z.object({
  /** The dest's address. */
  dest: hostPort,
  /** Address the local listeners bind (default loopback). */
  listenHost: z.string().min(1).default('127.0.0.1'),
  /** Ports forwarded to the same port at dest (transparent, hybrid). */
  forwards: z.array(ForwardSchema).max(1024).default([]),
  /**
   * The single entry port of protocol and hybrid modes: a TCP client either reaches the fixed
   * `service`, or names one in its first line (`<name>\n`).
   */
  entry: z
    .object({
      port: z.int().min(0).max(65535),
      service: serviceName.optional(),
    })
    .optional(),
  /** Client connections at once (over every listener). */
  maxConnections: z.int().min(1).max(1_000_000).default(10_000),
  /** How long a client waits for a session while the tunnel reconnects. */
  waitForSessionMs: ms(0, 600_000, 5000),
});

/** The dest section: listener and allow-lists. */
export const DestSectionSchema = z.object({
  listen: z.object({ host: z.string().min(1).default('0.0.0.0'), port: z.int().min(0).max(65535).default(TUNNEL_DEST_PORT) }).prefault({}),
  /** Exposed services: nothing else is reachable. */
  services: z.array(ExposedServiceSchema).min(1).max(1024),
  /** Source networks allowed to connect (default: any). */
  allowedSources: z.array(cidr).max(1024).default(['0.0.0.0/0', '::/0']),
  /** Sessions at once. */
  maxSessions: z.int().min(1).max(100_000).default(64),
  /** Timeout dialing a target. */
  connectTimeoutMs: ms(100, 120_000, 10_000),
});

export const TunnelConfigSchema = z
  .object({
    role: z.enum(['source', 'dest']),
    mode: z.enum(['transparent', 'protocol', 'hybrid']).default('transparent'),
    pki: z.object({
      /** Trusted CA certificate(s), PEM file. */
      ca: z.string().min(1),
      /** This side's certificate, PEM file (issued by the CA: `edgebox-tunnel certs issue`). */
      cert: z.string().min(1),
      /** Its Ed25519 private key, PKCS#8 PEM file. */
      key: z.string().min(1),
      /** Revocation lists, PEM files. */
      crl: z.array(z.string().min(1)).max(64).default([]),
      /**
       * Refuse to start when our certificate does not chain to `ca`, has expired or does not
       * certify `key` (default). false: present them anyway (a lab showing the peer refuse).
       */
      selfCheck: z.boolean().default(true),
    }),
    /** hybrid: X25519 + ML-KEM-768 only; classical: also X25519 alone (used only if the peer asks). */
    kem: z.enum(['hybrid', 'classical']).default('hybrid'),
    /** Expected common name of the peer's certificate (default: any the CA signed). */
    peerName: z.string().min(1).max(64).optional(),
    source: SourceSectionSchema.optional(),
    dest: DestSectionSchema.optional(),
    limits: z
      .object({
        /** Streams at once over all sessions (dest: refused with LIMIT beyond it). */
        maxStreams: z.int().min(1).max(1_000_000).default(10_000),
        /** Streams the peer may open on one session (mux maxStreams). */
        maxStreamsPerSession: z.int().min(1).max(1 << 20).default(4096),
        /**
         * Receive window per stream (granted above the protocol's initial 256 KiB, so the
         * peer needs no matching setting). Bigger: more throughput per stream over a long
         * path; a stalled reader holds at most this much.
         */
        streamWindowBytes: z.int().min(STREAM_WINDOW_INITIAL_BYTES).max(STREAM_WINDOW_MAX_BYTES).default(1024 * 1024),
        /**
         * Auto-tuning: a stream whose reader keeps up with its window (half taken within two
         * round trips of the previous grant: the window, not the reader, limits it, as on a
         * long path) has the window doubled, up to this; a stalled or slow reader never grows.
         * Set it to streamWindowBytes to turn growth off.
         */
        streamWindowMaxBytes: z.int().min(STREAM_WINDOW_INITIAL_BYTES).max(STREAM_WINDOW_MAX_BYTES).default(STREAM_WINDOW_MAX_BYTES),
        /** All streams' growth above streamWindowBytes in one session, at most. */
        windowGrowthBudgetBytes: z.int().min(0).max(1 << 30).default(64 * 1024 * 1024),
        /** Receive window of a session (all streams' bytes in flight towards us). */
        connectionWindowBytes: z.int().min(CONNECTION_WINDOW_INITIAL_BYTES).max(CONNECTION_WINDOW_MAX_BYTES).default(4 * 1024 * 1024),
      })
      .prefault({}),
    heartbeat: z
      .object({
        intervalMs: ms(50, 600_000, 5000),
        timeoutMs: ms(50, 600_000, 3000),
        maxMissed: z.int().min(1).max(100).default(3),
      })
      .prefault({}),
    reconnect: z
      .object({
        minMs: ms(1, 600_000, 250),
        maxMs: ms(1, 3_600_000, 30_000),
        /** Handshake deadline per attempt. */
        handshakeTimeoutMs: ms(100, 120_000, 10_000),
      })
      .prefault({}),
    circuitBreaker: z
      .object({
        failureThreshold: z.int().min(1).max(1000).default(5),
        windowMs: ms(100, 3_600_000, 60_000),
        openMs: ms(10, 3_600_000, 30_000),
      })
      .prefault({}),
    refresh: z
      .object({
        /** Blue-green refresh period (0 = only on demand). */
        intervalMs: z.int().min(0).max(7 * 86_400_000).default(0),
        /** Old streams may drain this long after a swap, then are closed. */
        drainMs: ms(0, 3_600_000, 30_000),
      })
      .prefault({}),
    rekey: z
      .object({
        afterBytes: z.number().int().min(1024).max(REKEY_AFTER_BYTES).default(REKEY_AFTER_BYTES),
        afterMessages: z.number().int().min(16).max(REKEY_AFTER_MESSAGES).default(REKEY_AFTER_MESSAGES),
        afterMs: ms(1000, 86_400_000, REKEY_AFTER_MS),
      })
      .prefault({}),
    udp: z.object({ idleMs: ms(100, 3_600_000, 60_000), maxFlows: z.int().min(1).max(1_000_000).default(4096) }).prefault({}),
    ops: z.object({ host: z.string().min(1).default('127.0.0.1'), port: z.int().min(0).max(65535).default(TUNNEL_OPS_PORT) }).prefault({}),
  })
  .superRefine((c, ctx) => {
    // `input` is the value at `path`, so the message names it (not the whole document).
    const issue = (path: (string | number)[], input: unknown, message: string): void => {
      ctx.addIssue({ code: 'custom', path, input, message });
    };
    if (c.role === 'source' && c.source === undefined) issue(['source'], undefined, 'a [source] section (role source)');
    if (c.role === 'dest' && c.dest === undefined) issue(['dest'], undefined, 'a [dest] section (role dest)');
    if (c.reconnect.maxMs < c.reconnect.minMs) issue(['reconnect', 'maxMs'], c.reconnect.maxMs, `>= reconnect.minMs ${c.reconnect.minMs}`);
    const s = c.source;
    if (c.role === 'source' && s !== undefined) {
      if (c.mode === 'transparent' && s.forwards.length === 0) issue(['source', 'forwards'], s.forwards, 'at least one forward (mode transparent)');
      if (c.mode === 'protocol' && s.entry === undefined) issue(['source', 'entry'], s.entry, 'an entry port (mode protocol)');
      if (c.mode === 'hybrid' && s.entry === undefined && s.forwards.length === 0) issue(['source', 'forwards'], s.forwards, 'forwards, an entry port or both (mode hybrid)');
      const seen = new Set<string>();
      for (const [i, f] of s.forwards.entries()) {
        const key = `${f.protocol}/${f.listenPort ?? f.port}`;
        if (seen.has(key) && (f.listenPort ?? f.port) !== 0) issue(['source', 'forwards', i], f, `a listen port used once (${key} is used twice)`);
        seen.add(key);
      }
    }
    const d = c.dest;
    if (c.role === 'dest' && d !== undefined) {
      const names = new Set<string>();
      const ports = new Set<string>();
      for (const [i, svc] of d.services.entries()) {
        if (names.has(`${svc.protocol}/${svc.name}`)) issue(['dest', 'services', i, 'name'], svc.name, `a unique name (${svc.protocol}/${svc.name} is listed twice)`);
        if (ports.has(`${svc.protocol}/${svc.port}`)) issue(['dest', 'services', i, 'port'], svc.port, `a port exposed once (${svc.protocol}/${svc.port} is exposed twice)`);
        names.add(`${svc.protocol}/${svc.name}`);
        ports.add(`${svc.protocol}/${svc.port}`);
      }
    }
  });

/** The validated tunnel config. */
export type TunnelConfig = z.infer<typeof TunnelConfigSchema>;
/** The config as written (input shape: defaults not yet applied). */
export type TunnelConfigInput = z.input<typeof TunnelConfigSchema>;
/** One exposed service (validated). */
export type ExposedService = z.infer<typeof ExposedServiceSchema>;

/**
 * Splits `host:port` (IPv6 in brackets) into its parts.
 *
 * @example splitHostPort('[::1]:7443') // { host: '::1', port: 7443 }
 */
export function splitHostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const host = text.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(text.slice(i + 1)) };
}
