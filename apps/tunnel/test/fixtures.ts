/**
 * Real fixtures for the forward-mode tests: a PKI made with @edgebox/crypto and written to a
 * temp dir, loopback TCP / UDP echo servers, tunnel configs, clients that check bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createRevocationList,
  exportIdentityPem,
  generateIdentity,
  issueCertificate,
  type CertificateAuthority,
  type CertificateUsage,
} from '@edgebox/crypto';
import { createLogger, type Logger } from '@edgebox/runtime';
import type { TunnelConfigInput } from '../src/config.js';
import { createTunnelService, type TunnelEvents, type TunnelService } from '../src/service.js';
import type { SourceEngine } from '../src/source.js';

/** Files of one identity. */
export interface IdentityFiles {
  cert: string;
  key: string;
  serialHex: string;
}

/** A CA on disk and a way to issue identities under it. */
export interface Pki {
  dir: string;
  ca: CertificateAuthority;
  caPath: string;
  issue(name: string, usage: CertificateUsage, init?: { validityDays?: number; notBefore?: Date }): Promise<IdentityFiles>;
  revoke(serials: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * A fresh CA in a temp dir.
 *
 * @example const pki = await makePki('main'); const src = await pki.issue('source-1', 'client');
 */
export async function makePki(label: string, dir?: string): Promise<Pki> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), `tunnel-${label}-`)));
  const ca = await createCertificateAuthority({ commonName: `${label} CA` });
  const caPath = join(root, `${label}-ca.pem`);
  await writeFile(caPath, ca.certificatePem);
  let n = 0;
  return {
    dir: root,
    ca,
    caPath,
    async issue(name, usage, init = {}) {
      const id = generateIdentity();
      const cert = await issueCertificate(ca, { commonName: name, publicKey: id.privateKey, usage, ...init });
      const base = join(root, `${label}-${name}-${n++}`);
      await writeFile(`${base}.pem`, cert.pem);
      await writeFile(`${base}.key`, exportIdentityPem(id).privateKeyPem, { mode: 0o600 });
      return { cert: `${base}.pem`, key: `${base}.key`, serialHex: cert.serialHex };
    },
    async revoke(serials) {
      const crl = await createRevocationList(
        ca,
        serials.map((serialHex) => ({ serialHex })),
      );
      const p = join(root, `${label}-crl-${n++}.pem`);
      await writeFile(p, crl);
      return p;
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** A TCP echo server on loopback. */
export async function tcpEcho(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** A TCP server that sends `data` to each client, then ends. */
export async function tcpSender(data: Buffer): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.end(data);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** A UDP echo server on loopback. */
export async function udpEcho(): Promise<{ socket: UdpSocket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (m, r) => socket.send(m, r.port, r.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port };
}

/** Sends `data` through a TCP connection to `port`, reads everything back; sha256 of both. */
export async function tcpRoundTrip(port: number, data: Buffer, preamble?: string): Promise<{ sent: string; got: string; bytes: number; error?: string }> {
  const c = connect(port, '127.0.0.1');
  const h = createHash('sha256');
  let bytes = 0;
  c.on('data', (d: Buffer) => {
    bytes += d.length;
    h.update(d);
  });
  let error: string | undefined;
  const ended = new Promise<void>((resolve) => {
    c.on('end', resolve);
    c.on('error', (e) => {
      error = (e as NodeJS.ErrnoException).code ?? e.message;
      resolve();
    });
    c.on('close', resolve);
  });
  // Writes queue until the connect; a reset before it lands in `error` like any other.
  if (preamble !== undefined) c.write(preamble);
  c.end(data);
  await ended;
  c.destroy();
  return { sent: sha256(data), got: h.digest('hex'), bytes, ...(error === undefined ? {} : { error }) };
}

/** One UDP request/answer through `port`; resolves with the answer or null after `timeoutMs`. */
export async function udpAsk(port: number, data: Buffer, sock?: UdpSocket, timeoutMs = 3000): Promise<Buffer | null> {
  const s = sock ?? createSocket('udp4');
  try {
    const got = new Promise<Buffer | null>((resolve) => {
      const t = setTimeout(() => resolve(null), timeoutMs);
      s.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    s.send(data, port, '127.0.0.1');
    return await got;
  } finally {
    if (sock === undefined) s.close();
  }
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export const random = (n: number): Buffer => randomBytes(n);

/** Fast timers for tests: heartbeat and reconnect in tens of ms. */
export const FAST = {
  // Long enough that a loaded CI box never misses 3 PONGs by accident (a 3 s stall).
  heartbeat: { intervalMs: 200, timeoutMs: 1000, maxMissed: 3 },
  reconnect: { minMs: 20, maxMs: 200, handshakeTimeoutMs: 3000 },
  circuitBreaker: { failureThreshold: 1000, windowMs: 60_000, openMs: 100 },
} as const;

/** A dest config on an ephemeral loopback port. */
export function destConfig(pki: Pki, id: IdentityFiles, services: NonNullable<TunnelConfigInput['dest']>['services'], extra: Omit<Partial<TunnelConfigInput>, 'dest'> & { dest?: Partial<NonNullable<TunnelConfigInput['dest']>> } = {}): TunnelConfigInput {
  const { dest, ...rest } = extra;
  return {
    role: 'dest',
    mode: 'hybrid',
    pki: { ca: pki.caPath, cert: id.cert, key: id.key },
    ...FAST,
    ops: { port: 0 },
    ...rest,
    dest: { listen: { host: '127.0.0.1', port: 0 }, services, ...dest },
  };
}

/** A source config towards `destAddress`, listeners on ephemeral ports. */
export function sourceConfig(pki: Pki, id: IdentityFiles, destAddress: string, extra: Omit<Partial<TunnelConfigInput>, 'source'> & { source?: Partial<NonNullable<TunnelConfigInput['source']>> } = {}): TunnelConfigInput {
  const { source, ...rest } = extra;
  return {
    role: 'source',
    mode: 'hybrid',
    pki: { ca: pki.caPath, cert: id.cert, key: id.key },
    ...FAST,
    ops: { port: 0 },
    ...rest,
    source: { dest: destAddress, listenHost: '127.0.0.1', forwards: [], entry: { port: 0 }, waitForSessionMs: 3000, ...source },
  };
}

/** Started services, stopped by `stopAll`. */
export class Tunnels {
  readonly started: TunnelService[] = [];

  async start(config: TunnelConfigInput): Promise<TunnelService> {
    const s = createTunnelService({ logger: quietLogger() });
    this.started.push(s);
    await s.start(config);
    return s;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled(this.started.splice(0).map((s) => s.stop({ deadlineMs: 500 })));
  }
}

/** Address of a running dest. */
export function destAddress(dest: TunnelService): string {
  return dest.status().dest!.listen;
}

/** Local port of a source listener (by exposed port, or the entry). */
export function listenPort(source: TunnelService, which: { protocol?: 'tcp' | 'udp'; port?: number; entry?: boolean }): number {
  const l = source.status().source!.listeners.find((x) => (which.entry === true ? x.kind === 'entry' : x.kind === 'forward' && x.port === which.port && x.protocol === (which.protocol ?? 'tcp')));
  if (l === undefined) throw new Error(`no listener ${JSON.stringify(which)}`);
  return Number(l.address.slice(l.address.lastIndexOf(':') + 1));
}

export function sourceEngine(s: TunnelService): SourceEngine {
  return s.engine as SourceEngine;
}

export function quietLogger(): Logger {
  return createLogger({ app: 'tunnel', silent: true });
}

/** Resolves with the first `event` payload matching `pred` (rejects after `timeoutMs`). */
export function nextEvent<K extends keyof TunnelEvents>(service: TunnelService, event: K, pred: (e: TunnelEvents[K]) => boolean = () => true, timeoutMs = 10_000): Promise<TunnelEvents[K]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (e: TunnelEvents[K]): void => {
      if (!pred(e)) return;
      clearTimeout(t);
      off();
      resolve(e);
    };
    const off = (): void => {
      service.events.off(event, listener as never);
    };
    service.events.on(event, listener as never);
  });
}

/** Polls `cond` every 10 ms until true (rejects after `timeoutMs`). */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
