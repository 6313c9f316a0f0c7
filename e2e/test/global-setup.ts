// Global setup of the e2e run: say once why the suite cannot run without root (and fail the
// run in CI, where root is expected); as root, collect labs that crashed earlier runs left
// behind, and again at the end (a worker killed mid-test cannot clean up after itself).
import { gc, rootStatus } from '@edgebox/netlab';

export async function setup(): Promise<void> {
  const root = rootStatus();
  if (!root.ok) {
    console.warn(`e2e: cannot run: ${root.reason}`);
    if (process.env.CI === 'true') throw new Error(`e2e cannot run in CI: ${root.reason}`);
    return;
  }
  const collected = await gc();
  if (collected.runs.length > 0) console.warn(`e2e: collected leftover labs ${collected.runs.join(' ')}`);
}

export async function teardown(): Promise<void> {
  if (!rootStatus().ok) return;
  const collected = await gc();
  if (collected.runs.length > 0) console.warn(`e2e: collected labs left by dead workers: ${collected.runs.join(' ')}`);
}
