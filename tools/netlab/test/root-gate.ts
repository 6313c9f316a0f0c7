// Root gate for the namespace tests: they run as root; without root they are skipped with
// the reason locally, and fail with the reason in CI (CI=true), where root is expected.
import { it } from 'vitest';
import { rootStatus } from '@edgebox/netlab';

export const root = rootStatus();

/** Adds a visible skipped test (locally) or failing test (CI) when not root. */
export function reportNotRoot(): void {
  if (root.ok) return;
  if (process.env.CI === 'true') {
    it('runs as root (required in CI)', () => {
      throw new Error(`netlab tests cannot run: ${root.reason}`);
    });
  } else {
    console.warn(`netlab root tests skipped: ${root.reason}`);
    it.skip(`skipped: ${root.reason}`, () => undefined);
  }
}

/** Loss share from ping's summary line ("200 packets transmitted, 150 received, 25% packet loss"). */
export function pingStats(stdout: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  if (m === null) throw new Error(`no ping summary in: ${stdout}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}
