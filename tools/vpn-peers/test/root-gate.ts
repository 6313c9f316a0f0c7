// Root gate for the namespace tests: they run as root; without root they are skipped with
// the reason locally, and fail with it in CI (CI=true), where root is expected.
import { afterAll, beforeAll } from 'vitest';
import { createLab, gc } from '@edgebox/netlab';
import { rootGate } from '@edgebox/netlab/testing';
import type { Lab } from '@edgebox/netlab';

export const { root, reportNotRoot } = rootGate('vpn-peers namespace');

/** Underlay addresses of the two-node lab. */
export const CLIENT_ADDRESS = '10.91.0.1';
export const SERVER_ADDRESS = '10.91.0.2';

/**
 * A two-node lab (`client` -- wan -- `server`, unshaped) built before the file's tests and
 * destroyed after them; `get()` returns it inside tests.
 */
export function useLab(): { get(): Lab } {
  let lab: Lab | undefined;
  beforeAll(async () => {
    if (!root.ok) return;
    lab = await createLab({
      nodes: { client: {}, server: {} },
      links: [{ name: 'wan', a: { node: 'client', ipv4: `${CLIENT_ADDRESS}/24` }, b: { node: 'server', ipv4: `${SERVER_ADDRESS}/24` } }],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
  });
  return {
    get(): Lab {
      if (lab === undefined) throw new Error('lab not built');
      return lab;
    },
  };
}

/** True while a process with this PID exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** PIDs of the processes running in a lab node's namespace (`ip netns pids`). */
export async function namespacePids(lab: Lab, node: string): Promise<number[]> {
  const { runCommand } = await import('@edgebox/netlab');
  const res = await runCommand('ip', ['netns', 'pids', lab.namespace(node)]);
  return res.stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
}
