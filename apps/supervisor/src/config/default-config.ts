/**
 * The embedded default appliance config: what `edgebox start` runs without a config file on a
 * fresh machine. Everything in it is harmless:
 *
 *   tunnel   a dest on 127.0.0.1:7443 (loopback only) with a CA and certificate generated into
 *            <dataDir>/tunnel on first start; it exposes 127.0.0.1:22 to holders of that CA's
 *            certificates only (which never leave the data dir)
 *   netevd   the netlink source watching interfaces; no routing, no API of its own, scripts
 *            from <dataDir>/netevd/scripts (none there)
 *   p2p      a node on 127.0.0.1:4001 with its key in <dataDir>/p2p, no peers
 *   bonding  not configured: it needs a peer (server or client) and a TUN device; add a
 *            `bonding:` section to run it (as root)
 */
import { stringify } from 'yaml';
import { API_HOST, API_PORT } from '../constants.js';

/**
 * The default document for a data dir (paths inside it) and the uid scripts must belong to.
 *
 * @example const doc = defaultApplianceDocument({ dataDir: '/var/lib/edgebox', uid: 0 });
 */
export function defaultApplianceDocument(init: { dataDir: string; uid: number; apiPort?: number }): Record<string, unknown> {
  const d = init.dataDir;
  return {
    supervisor: { api: { host: API_HOST, port: init.apiPort ?? API_PORT }, auth: { requireKeys: false }, dataDir: d },
    tunnel: {
      role: 'dest',
      mode: 'protocol',
      pki: { ca: `${d}/tunnel/ca.pem`, cert: `${d}/tunnel/cert.pem`, key: `${d}/tunnel/key.pem` },
      dest: { listen: { host: '127.0.0.1', port: 7443 }, services: [{ name: 'ssh', port: 22, target: '127.0.0.1:22' }], allowedSources: ['127.0.0.0/8', '::1/128'] },
    },
    netevd: {
      backends: ['netlink'],
      api: { enabled: false },
      dataDir: `${d}/netevd`,
      scripts: { dir: `${d}/netevd/scripts`, ownerUid: init.uid },
    },
    p2p: {
      identity: { keyFile: `${d}/p2p/key.pem`, create: true },
      listen: ['/ip4/127.0.0.1/tcp/4001'],
      addressBook: { path: `${d}/p2p/peers.json` },
    },
  };
}

/**
 * The default document as YAML (what `edgebox config show --default` prints).
 *
 * @example console.log(defaultApplianceYaml({ dataDir: '/tmp/eb', uid: 1000 }));
 */
export function defaultApplianceYaml(init: { dataDir: string; uid: number }): string {
  return stringify(defaultApplianceDocument(init));
}
