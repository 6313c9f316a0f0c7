/**
 * A throwaway PKI for one OpenVPN tunnel: a CA and a server and a client certificate (ECDSA
 * P-256, valid 2 days), made with the openssl CLI in a fresh 0700 temp dir that the tunnel
 * removes when it stops. P-256 rather than Ed25519 because every OpenVPN 2.6 build signs
 * with it; `req -x509 -CA` (OpenSSL >= 3.0) issues each certificate in one command.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@edgebox/netlab';
import { VpnPeersError, errorMessage } from './errors.js';
import { requireTool } from './tools.js';

/** Paths of the PKI files (PEM). */
export interface ThrowawayPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Removes the directory and everything in it. */
  remove(): Promise<void>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Creates CA, server and client certificates in a new temp dir. The server certificate has
 * EKU serverAuth and the client's clientAuth, so both ends can use `--remote-cert-tls`.
 * Throws VPN_PEERS_PKI_FAILED with openssl's stderr.
 *
 * @example
 * const pki = await createThrowawayPki();
 * try { ... pki.caCert ... } finally { await pki.remove(); }
 */
export async function createThrowawayPki(options: { openssl?: string; signal?: AbortSignal } = {}): Promise<ThrowawayPki> {
  const openssl = requireTool(options.openssl ?? 'openssl');
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-vpn-peers-pki-'));
  const f = (name: string): string => join(dir, name);
  const run = async (args: string[]): Promise<void> => {
    // -batch: never prompt; stdin is closed anyway.
    await runCommand(openssl, args, { timeoutMs: 20_000, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  };
  const leaf = (name: string, eku: string): string[] => [
    'req', '-batch', '-x509', '-CA', f('ca.crt'), '-CAkey', f('ca.key'), ...EC,
    '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-subj', `/CN=edgebox-vpn-peers-${name}`, '-days', '2',
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature', '-addext', `extendedKeyUsage=${eku}`,
  ];
  try {
    await run([
      'req', '-batch', '-x509', ...EC, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=edgebox-vpn-peers-ca', '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run(leaf('server', 'serverAuth'));
    await run(leaf('client', 'clientAuth'));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (options.signal?.aborted === true) throw new VpnPeersError('VPN_PEERS_ABORTED', 'aborted while creating the throwaway PKI', { cause: options.signal.reason });
    throw new VpnPeersError('VPN_PEERS_PKI_FAILED', `openssl could not create the throwaway PKI: ${errorMessage(err)}`, { cause: err, details: { openssl } });
  }
  return {
    dir,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
