/**
 * Finds the programs a tunnel or a measurement runs before anything is started, so a missing
 * one is a clear VPN_PEERS_TOOL_MISSING naming its Debian package rather than a daemon that
 * "exited" with `ip netns exec`'s own message.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { TOOL_PACKAGES } from './constants.js';
import { VpnPeersError } from './errors.js';

/**
 * The absolute path of `program` (searched in PATH unless it contains a slash), or undefined
 * when there is no executable file by that name.
 *
 * @example findExecutable('openvpn') // '/usr/sbin/openvpn'
 */
export function findExecutable(program: string, path: string = process.env.PATH ?? ''): string | undefined {
  const candidates = program.includes('/') ? [program] : path.split(delimiter).filter((d) => isAbsolute(d)).map((d) => join(d, program));
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not there or not executable: try the next directory
    }
  }
  return undefined;
}

/**
 * Like {@link findExecutable} but throws VPN_PEERS_TOOL_MISSING naming the Debian package.
 *
 * @example const openvpn = requireTool('openvpn');
 */
export function requireTool(program: string): string {
  const found = findExecutable(program);
  if (found !== undefined) return found;
  const base = program.slice(program.lastIndexOf('/') + 1);
  const pkg = TOOL_PACKAGES[base];
  throw new VpnPeersError('VPN_PEERS_TOOL_MISSING', `program not found: ${program}` + (pkg === undefined ? '' : ` (install the Debian package ${pkg})`), {
    details: { program, package: pkg },
  });
}
