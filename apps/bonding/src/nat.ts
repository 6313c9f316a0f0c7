/**
 * Server forwarding and NAT: clients' packets written to the TUN leave by the server's own
 * network with the server's address (masquerade).
 *
 *   net.ipv4.ip_forward = 1                         (in the namespace we run in; the old
 *                                                    value is restored by remove())
 *   table ip edgebox_bonding {                      ours alone, created and deleted whole:
 *     chain postrouting {                           other tables and rules are never flushed
 *       type nat hook postrouting priority srcnat;
 *       ip saddr <tun subnet> oifname != "<tun>" masquerade     (or oifname "<outInterface>")
 *     }
 *   }
 *   table ip6 edgebox_bonding { ... ip6 saddr <tun6 subnet> ... }   with tun.address6, and
 *   net.ipv6.conf.all.forwarding = 1
 *
 * The table is (re)built in one `nft -f` transaction ("table …; delete table …; table … {…}")
 * so a leftover of a crashed run is replaced atomically, never merged.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { ipv6Bytes, parseCidr } from './config.js';
import { BondingError } from './errors.js';

/** The nftables table this app owns. */
export const NAT_TABLE = 'edgebox_bonding';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const IP6_FORWARD = '/proc/sys/net/ipv6/conf/all/forwarding';

/** Options of enableNat(). */
export interface NatInit {
  tunName: string;
  /** The TUN address with prefix: its subnet is what gets masqueraded. */
  tunCidr: string;
  /** The TUN's IPv6 address with prefix, when the bond carries IPv6: masqueraded too. */
  tunCidr6?: string | undefined;
  /** Masquerade only towards this interface (default: every interface but the TUN). */
  outInterface?: string | undefined;
  /** Named namespace to configure instead of ours (labs). */
  netns?: string | undefined;
}

/** NAT installed by enableNat(). */
export interface NatHandle {
  /** The ruleset as applied (for status and tests). */
  readonly ruleset: string;
  /** Delete our table and restore ip_forward. Safe twice. */
  remove(): Promise<void>;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 10_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new BondingError('BONDING_START', `${cmd} ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function withNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns === undefined ? [cmd, args] : ['ip', ['netns', 'exec', netns, cmd, ...args]];
}

/** The subnet of a CIDR address (IPv4): 10.99.0.1/24 → 10.99.0.0/24. */
export function subnetOf(cidr: string): string {
  const c = parseCidr(cidr);
  if (c === null || c.family !== 4) throw new BondingError('BONDING_INVALID_ARGUMENT', `tun address ${cidr} is not an IPv4 address with prefix`);
  const n = c.address.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
  const mask = c.prefix === 0 ? 0 : (0xffff_ffff << (32 - c.prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${[net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join('.')}/${c.prefix}`;
}

/** `fd00:99::2/64` → `fd00:99::/64` (the subnet of an IPv6 address with prefix). */
export function subnet6Of(cidr: string): string {
  const c = parseCidr(cidr);
  if (c === null || c.family !== 6) throw new BondingError('BONDING_INVALID_ARGUMENT', `tun address6 ${cidr} is not an IPv6 address with prefix`);
  const bytes = ipv6Bytes(c.address);
  for (let bit = c.prefix; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(':')}/${c.prefix}`;
}

/** The nft script that (re)creates our table(s). */
export function natRuleset(init: NatInit): string {
  const out = init.outInterface === undefined ? `oifname != "${init.tunName}"` : `oifname "${init.outInterface}"`;
  const table = (family: 'ip' | 'ip6', match: string): string[] => [
    `table ${family} ${NAT_TABLE}`,
    `delete table ${family} ${NAT_TABLE}`,
    `table ${family} ${NAT_TABLE} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ${match} ${out} masquerade`,
    '  }',
    '}',
  ];
  const lines = table('ip', `ip saddr ${subnetOf(init.tunCidr)}`);
  if (init.tunCidr6 !== undefined) lines.push(...table('ip6', `ip6 saddr ${subnet6Of(init.tunCidr6)}`));
  return [...lines, ''].join('\n');
}

/**
 * Turn on forwarding and install our masquerade table.
 *
 * @example
 * const nat = await enableNat({ tunName: 'bond0', tunCidr: '10.99.0.1/24', outInterface: 'eth0' });
 * await nat.remove();
 */
export async function enableNat(init: NatInit): Promise<NatHandle> {
  const ruleset = natRuleset(init);
  const previousForward = init.netns === undefined ? (await readFile(IP_FORWARD, 'utf8')).trim() : undefined;
  const v6 = init.tunCidr6 !== undefined;
  const previousForward6 = v6 && init.netns === undefined ? (await readFile(IP6_FORWARD, 'utf8')).trim() : undefined;
  if (init.netns === undefined) {
    await writeFile(IP_FORWARD, '1\n');
    if (v6) await writeFile(IP6_FORWARD, '1\n');
  } else {
    await run(...withNetns(init.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', ...(v6 ? ['net.ipv6.conf.all.forwarding=1'] : [])]));
  }
  await run(...withNetns(init.netns, 'nft', ['-f', '-']), ruleset);
  let removed = false;
  return {
    ruleset,
    async remove() {
      if (removed) return;
      removed = true;
      await run(...withNetns(init.netns, 'nft', ['delete', 'table', 'ip', NAT_TABLE])).catch(() => undefined);
      if (v6) await run(...withNetns(init.netns, 'nft', ['delete', 'table', 'ip6', NAT_TABLE])).catch(() => undefined);
      if (previousForward !== undefined && previousForward !== '1') await writeFile(IP_FORWARD, `${previousForward}\n`).catch(() => undefined);
      if (previousForward6 !== undefined && previousForward6 !== '1') await writeFile(IP6_FORWARD, `${previousForward6}\n`).catch(() => undefined);
    },
  };
}
