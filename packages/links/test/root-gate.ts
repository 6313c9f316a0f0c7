// Root gate for the tests that build namespaces, TUN devices and routes: as root they run;
// otherwise they are skipped with the reason locally and fail with it in CI (CI=true).
import { it } from 'vitest';
import { rootStatus } from '@edgebox/netlab';

export const root = rootStatus();

/** Adds a visible skipped test (locally) or a failing one (CI) when not root. */
export function reportNotRoot(): void {
  if (root.ok) return;
  if (process.env.CI === 'true') {
    it('runs as root (required in CI)', () => {
      throw new Error(`links root tests cannot run: ${root.reason}`);
    });
  } else {
    console.warn(`links root tests skipped: ${root.reason}`);
    it.skip(`skipped: ${root.reason}`, () => undefined);
  }
}
