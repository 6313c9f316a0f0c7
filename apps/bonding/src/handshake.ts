/**
 * Session setup on @edgebox/crypto (handshake.md; bonding.md §1, §6).
 *
 *   client   one initiator at a time over one link's socket (the best link first, the next
 *            on each retransmission); CookieReply → Init with cookie is the initiator's own
 *            step; the Finish is re-sent until the first authentic datagram of the new
 *            session arrives (client.ts confirms it)
 *   server   one responder for every client: PSK ids are the configured client names, each
 *            with its own key; certificate clients are verified by the trust store and must
 *            carry a configured subject (`authorize`)
 *
 * Credentials are read from files here (cold, at start and reload). A PSK is never logged;
 * errors name the file, not its content.
 */
import { readFile } from 'node:fs/promises';
import { createHandshakeInitiator, createHandshakeResponder, createTrustStore, importIdentityPem, pemToDer } from '@edgebox/crypto';
import type {
  HandshakeCertificateCredentials,
  HandshakeInitiator,
  HandshakePeer,
  HandshakePskCredentials,
  HandshakeResponder,
} from '@edgebox/crypto';
import type { BondingConfig, BondingServerClientConfig } from './config.js';
import { decodePsk } from './config.js';
import { HANDSHAKE_ATTEMPT_MS, HANDSHAKE_RETRY_MAX_MS, HANDSHAKE_RETRY_MS } from './constants.js';
import { credentialsError } from './errors.js';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw credentialsError(`${what} ${file}`, `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, cause);
  }
}

/**
 * The PSK of `psk` (base64) or `pskFile` (a file holding it in base64).
 *
 * @example const key = await loadPsk({ pskFile: '/etc/edgebox/bond.psk' });
 */
export async function loadPsk(source: { psk?: string | undefined; pskFile?: string | undefined }, what = 'psk'): Promise<Uint8Array> {
  if (source.psk !== undefined) {
    const key = decodePsk(source.psk);
    if (key !== null) return key;
    throw credentialsError(what, 'expected 32 bytes in base64');
  }
  if (source.pskFile === undefined) throw credentialsError(what, 'expected psk or pskFile');
  const key = decodePsk(await readText(source.pskFile, `${what} file`));
  if (key === null) throw credentialsError(`${what} file ${source.pskFile}`, 'expected 32 bytes in base64');
  return key;
}

/** Certificate credentials from PEM files: CA (one or more certificates), our cert and key, optional CRL. */
export async function loadCertificateCredentials(
  files: { ca: string; cert: string; key: string; crl?: string | undefined },
  authorize?: (peer: Extract<HandshakePeer, { kind: 'certificate' }>) => boolean,
): Promise<HandshakeCertificateCredentials> {
  const authorities = (await readText(files.ca, 'CA file')).match(CERT_BLOCK) ?? [];
  if (authorities.length === 0) throw credentialsError(`CA file ${files.ca}`, 'holds no CERTIFICATE block');
  const revocationLists = files.crl === undefined ? [] : [await readText(files.crl, 'CRL file')];
  try {
    const certificate = pemToDer(await readText(files.cert, 'certificate file'));
    const { privateKey } = importIdentityPem(await readText(files.key, 'key file'));
    const trustStore = await createTrustStore({ authorities, revocationLists });
    return { kind: 'certificate', certificate, privateKey, trustStore, ...(authorize === undefined ? {} : { authorize }) };
  } catch (cause) {
    if ((cause as { code?: string }).code === 'BONDING_CREDENTIALS') throw cause;
    throw credentialsError(`certificate identity (${files.cert}, ${files.key}, ${files.ca})`, (cause as Error).message, cause);
  }
}

/** A client's handshake credentials from its config. */
export async function loadClientCredentials(config: BondingConfig): Promise<HandshakePskCredentials | HandshakeCertificateCredentials> {
  const id = config.identity;
  if (id?.ca !== undefined && id.cert !== undefined && id.key !== undefined) {
    return loadCertificateCredentials({ ca: id.ca, cert: id.cert, key: id.key, crl: id.crl });
  }
  const psk = await loadPsk(id ?? {}, 'identity.psk');
  return { kind: 'psk', pskId: config.client!.name!, psk };
}

/** A configured client of a server, with its key loaded. */
export interface ServerClient {
  readonly config: BondingServerClientConfig;
  readonly psk: Uint8Array | undefined;
}

/** Load every configured client's key (cold: start and reload). */
export async function loadServerClients(config: BondingConfig): Promise<ServerClient[]> {
  const out: ServerClient[] = [];
  for (const [i, c] of (config.server?.clients ?? []).entries()) {
    const psk = c.psk !== undefined || c.pskFile !== undefined ? await loadPsk(c, `server.clients[${i}].psk`) : undefined;
    out.push({ config: c, psk });
  }
  return out;
}

/**
 * The server's responder: PSK lookup by client name, certificate clients by subject. `clients`
 * is read at each handshake, so a reload can swap it.
 */
export async function createServerResponder(config: BondingConfig, clients: () => readonly ServerClient[]): Promise<HandshakeResponder> {
  const id = config.identity;
  const certificate =
    id?.ca !== undefined && id.cert !== undefined && id.key !== undefined
      ? await loadCertificateCredentials({ ca: id.ca, cert: id.cert, key: id.key, crl: id.crl }, (peer) => clients().some((c) => c.config.subject === peer.commonName))
      : undefined;
  return createHandshakeResponder({
    psk: { lookup: (pskId) => clients().find((c) => c.config.name === pskId && c.psk !== undefined)?.psk },
    ...(certificate === undefined ? {} : { certificate }),
    cookie: { mode: 'under-load' },
  });
}

/** The configured client a handshake peer is. */
export function serverClientOf(peer: HandshakePeer, clients: readonly ServerClient[]): ServerClient | undefined {
  return peer.kind === 'psk'
    ? clients.find((c) => c.config.name === peer.pskId && c.psk !== undefined)
    : clients.find((c) => c.config.subject !== undefined && c.config.subject === peer.commonName);
}

/**
 * The client's handshake attempts: one initiator at a time, retransmitted with backoff
 * (HANDSHAKE_RETRY_MS doubling up to HANDSHAKE_RETRY_MAX_MS), abandoned after
 * HANDSHAKE_ATTEMPT_MS (the caller then starts a fresh one).
 */
export class HandshakeAttempt {
  readonly initiator: HandshakeInitiator;
  readonly startedMs: number;
  /** How many times a message went out (selects the link: attempt k uses link k mod n). */
  sends = 0;
  nextRetryMs: number;
  private retryMs = HANDSHAKE_RETRY_MS;

  constructor(credentials: HandshakePskCredentials | HandshakeCertificateCredentials, nowMs: number) {
    this.initiator = createHandshakeInitiator({ credentials });
    this.startedMs = nowMs;
    this.nextRetryMs = nowMs + this.retryMs;
  }

  /** The Init to send first. */
  first(): Uint8Array {
    this.sends++;
    return this.initiator.start();
  }

  /** True once the attempt ran out of time. */
  expired(nowMs: number): boolean {
    return nowMs - this.startedMs >= HANDSHAKE_ATTEMPT_MS;
  }

  /** The message to re-send now (Init, Init with cookie, or Finish), or undefined when not due. */
  due(nowMs: number): Uint8Array | undefined {
    if (nowMs < this.nextRetryMs) return undefined;
    this.retryMs = Math.min(this.retryMs * 2, HANDSHAKE_RETRY_MAX_MS);
    this.nextRetryMs = nowMs + this.retryMs;
    const msg = this.initiator.retransmit();
    if (msg !== undefined) this.sends++;
    return msg;
  }

  destroy(): void {
    this.initiator.destroy();
  }
}
