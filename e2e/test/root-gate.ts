// Root gate of every e2e file: without root the scenarios are skipped with the reason
// (locally) or fail with it (CI=true).
import { it } from 'vitest';
import { rootStatus } from '@edgebox/netlab';

export const root = rootStatus();

/** Adds a skipped test naming the reason (locally) or a failing one (CI) when not root. */
export function reportNotRoot(): void {
  if (root.ok) return;
  if (process.env.CI === 'true') {
    it('runs as root (required in CI)', () => {
      throw new Error(`e2e cannot run: ${root.reason}`);
    });
  } else {
    console.warn(`e2e skipped: ${root.reason}`);
    it.skip(`skipped: ${root.reason}`, () => undefined);
  }
}
