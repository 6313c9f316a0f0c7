/**
 * Test helpers for suites that need root (namespaces, TUN devices, routes, nftables), shared by
 * every project that builds labs: `import { rootGate } from '@edgebox/netlab/testing'`.
 * Imports vitest, so it is a separate entry point that production code never loads.
 */
import { it } from 'vitest';
import { rootStatus } from './lab.js';
import type { RootStatus } from './lab.js';

/** What {@link rootGate} returns. */
export interface RootGate {
  /** Whether this process can build labs, and why not. */
  readonly root: RootStatus;
  /**
   * Call inside a `describe` when `!root.ok`: adds a visible skipped test naming the reason
   * (locally), or a failing one (CI=true, where root is expected), so a suite is never
   * silently empty.
   */
  reportNotRoot(): void;
}

/**
 * The root gate of one suite family; `label` names it in the skip/failure message.
 *
 * @example
 * const { root, reportNotRoot } = rootGate('e2e');
 * describe.runIf(root.ok)('bond', () => { ... });
 * describe.runIf(!root.ok)('bond (needs root)', reportNotRoot);
 */
export function rootGate(label: string): RootGate {
  const root = rootStatus();
  return {
    root,
    reportNotRoot(): void {
      if (root.ok) return;
      if (process.env.CI === 'true') {
        it('runs as root (required in CI)', () => {
          throw new Error(`${label} tests cannot run: ${root.reason}`);
        });
      } else {
        console.warn(`${label} root tests skipped: ${root.reason}`);
        it.skip(`skipped: ${root.reason}`, () => undefined);
      }
    },
  };
}

/**
 * Sent and received counts from ping's summary line
 * ("200 packets transmitted, 150 received, 25% packet loss").
 *
 * @example
 * const { sent, received } = pingStats((await lab.exec('a', 'ping', ['-c', '5', addr])).stdout);
 */
export function pingStats(stdout: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  if (m === null) throw new Error(`no ping summary in: ${stdout}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}
