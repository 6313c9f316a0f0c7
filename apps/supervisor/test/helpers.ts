/** Test helpers: an appliance config on loopback in a temporary data dir, and cleanup. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@edgebox/runtime';
import { validateAppliance } from '../src/config/appliance-config.js';
import { createSupervisor } from '../src/hosting/supervisor.js';
import type { Supervisor } from '../src/hosting/supervisor.js';

/** A temporary data dir; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-sup-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A config that runs unprivileged on loopback: tunnel dest and p2p on port 0 (PKI and key
 * generated in the data dir), netevd watching netlink without routing or API.
 */
export function loopbackDocument(dataDir: string, apps: readonly string[] = ['tunnel', 'p2p']): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    supervisor: { api: { host: '127.0.0.1', port: 0 }, dataDir, restart: { minMs: 50, maxMs: 200, crashLoopMax: 3, crashLoopWindowMs: 60_000 }, stopDeadlineMs: 3000 },
  };
  if (apps.includes('tunnel')) {
    doc['tunnel'] = {
      role: 'dest',
      mode: 'protocol',
      pki: { ca: `${dataDir}/tunnel/ca.pem`, cert: `${dataDir}/tunnel/cert.pem`, key: `${dataDir}/tunnel/key.pem` },
      dest: { listen: { host: '127.0.0.1', port: 0 }, services: [{ name: 'echo', port: 7, target: '127.0.0.1:7' }] },
    };
  }
  if (apps.includes('p2p')) {
    doc['p2p'] = { identity: { keyFile: `${dataDir}/p2p/key.pem` }, listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['chat'] };
  }
  if (apps.includes('netevd')) {
    doc['netevd'] = { backends: ['netlink'], api: { enabled: false }, dataDir: `${dataDir}/netevd`, scripts: { dir: `${dataDir}/netevd/scripts`, ownerUid: process.getuid?.() ?? 0 } };
  }
  return doc;
}

/** A supervisor over `loopbackDocument`, children's output dropped. */
export async function loopbackSupervisor(dataDir: string, apps?: readonly string[]): Promise<Supervisor> {
  const config = await validateAppliance(loopbackDocument(dataDir, apps), { env: {} });
  return createSupervisor({ config, isRoot: false, spawn: { stdio: 'ignore' }, logger: createLogger({ app: 'supervisor', silent: true }), env: {} });
}
