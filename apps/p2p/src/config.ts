/**
 * The `p2p` config section (zod): the same object the supervisor's appliance config holds
 * and `edgebox-p2p run --config F` reads. Defaults come from constants.ts.
 */
import { z } from 'zod';
import { HANDSHAKE_SUITES, type HandshakeSuite } from '@edgebox/crypto';
import { accessRuleSchema, backoffInitSchema, peerInitSchema, rateLimiterInitSchema } from '@edgebox/peers';
import {
  DEFAULT_ACK_RETRIES,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_SEND_QUEUE_MESSAGES,
  DEFAULT_TICKET_KEY_ROTATE_MS,
  DEFAULT_TICKET_LIFETIME_MS,
  DEFAULT_FEED_QUEUE_MESSAGES,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_STREAMS_PER_PEER,
  DEFAULT_PEER_MESSAGE_BURST,
  DEFAULT_PEER_MESSAGES_PER_SECOND,
  MAX_MESSAGE_BYTES_LIMIT,
  P2P_OPS_PORT,
  STREAM_NAME_PATTERN,
} from './constants.js';

const suiteNames = Object.keys(HANDSHAKE_SUITES) as [HandshakeSuite, ...HandshakeSuite[]];

/** The p2p config section. */
export const P2pConfigSchema = z
  .object({
    /** The node's Ed25519 key (PKCS#8 PEM). Created (mode 0600) when missing and `create` is true. */
    identity: z.object({ keyFile: z.string().min(1), create: z.boolean().default(true) }).strict(),
    /** Multiaddrs to listen on. */
    listen: z.array(z.string().min(1)).min(1).default(['/ip4/0.0.0.0/tcp/4001']),
    /** Stream names this node accepts. */
    streams: z.array(z.string().regex(STREAM_NAME_PATTERN, 'a stream name: [a-z0-9][a-z0-9._-]{0,63}')).max(256).default([]),
    /** The address book: JSON file (kept across restarts), or in memory when no path is given. */
    addressBook: z.object({ path: z.string().min(1).optional(), maxPeers: z.number().int().min(1).max(1_000_000).optional() }).strict().default({}),
    /** Peers added to the address book at start (merged with what the file holds). */
    peers: z.array(peerInitSchema).max(10_000).default([]),
    /** Allow / block rules; `defaultAction: block` makes an allow-list. */
    access: z
      .object({ defaultAction: z.enum(['allow', 'block']).default('allow'), rules: z.array(accessRuleSchema).max(10_000).default([]) })
      .strict()
      .default({ defaultAction: 'allow', rules: [] }),
    limits: z
      .object({
        maxPeers: z.number().int().min(1).max(100_000).default(300),
        maxPendingConnections: z.number().int().min(1).max(10_000).default(10),
        maxStreamsPerPeer: z.number().int().min(1).max(1024).default(DEFAULT_MAX_STREAMS_PER_PEER),
        maxMessageBytes: z.number().int().min(1).max(MAX_MESSAGE_BYTES_LIMIT).default(DEFAULT_MAX_MESSAGE_BYTES),
        handshakeTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_HANDSHAKE_TIMEOUT_MS),
        feedCapacity: z.number().int().min(1).max(1_000_000).default(DEFAULT_FEED_QUEUE_MESSAGES),
        /** Messages queued per priority and stream under back-pressure before P2P_LIMIT. */
        sendQueueMessages: z.number().int().min(1).max(1_000_000).default(DEFAULT_SEND_QUEUE_MESSAGES),
      })
      .strict()
      .default({
        maxPeers: 300,
        maxPendingConnections: 10,
        maxStreamsPerPeer: DEFAULT_MAX_STREAMS_PER_PEER,
        maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
        handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
        feedCapacity: DEFAULT_FEED_QUEUE_MESSAGES,
        sendQueueMessages: DEFAULT_SEND_QUEUE_MESSAGES,
      }),
    /** Optional features advertised in CAPS (p2p.md §3.4); each is used only when both sides have it. */
    features: z
      .strictObject({ acks: z.boolean().default(true), priorities: z.boolean().default(true), resumption: z.boolean().default(true) })
      .default({ acks: true, priorities: true, resumption: true }),
    /** Resumption tickets this node issues (p2p.md §3.5). */
    resumption: z
      .strictObject({
        ticketLifetimeMs: z.number().int().min(1000).max(7 * 86_400_000).default(DEFAULT_TICKET_LIFETIME_MS),
        ticketKeyRotateMs: z.number().int().min(1000).max(7 * 86_400_000).default(DEFAULT_TICKET_KEY_ROTATE_MS),
      })
      .default({ ticketLifetimeMs: DEFAULT_TICKET_LIFETIME_MS, ticketKeyRotateMs: DEFAULT_TICKET_KEY_ROTATE_MS }),
    /** Defaults of acknowledged sends (send(..., { ack: true })). */
    acks: z
      .strictObject({ timeoutMs: z.number().int().min(1).max(600_000).default(DEFAULT_ACK_TIMEOUT_MS), retries: z.number().int().min(0).max(100).default(DEFAULT_ACK_RETRIES) })
      .default({ timeoutMs: DEFAULT_ACK_TIMEOUT_MS, retries: DEFAULT_ACK_RETRIES }),
    /** Inbound messages per peer (token bucket). */
    rateLimit: rateLimiterInitSchema.default({ capacity: DEFAULT_PEER_MESSAGE_BURST, refillPerSecond: DEFAULT_PEER_MESSAGES_PER_SECOND }),
    /** Reconnect backoff for auto-connect peers. */
    reconnect: backoffInitSchema.default({ minMs: 500, maxMs: 60_000 }),
    /** Handshake suites, best first (default: hybrid X25519 + ML-KEM-768 only). */
    suites: z.array(z.enum(suiteNames)).min(1).optional(),
    /** The ops endpoint (/metrics /health /ready /status) of `edgebox-p2p run`. */
    ops: z
      .strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.int().min(0).max(65535).default(P2P_OPS_PORT) })
      .default({ host: '127.0.0.1', port: P2P_OPS_PORT }),
  })
  .strict();

/** The validated p2p config. */
export type P2pConfig = z.infer<typeof P2pConfigSchema>;
