// Shared test helpers: temp script folders, a silent logger, polling.
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@edgebox/runtime';
import type { Logger } from '@edgebox/runtime';

export const silent: Logger = createLogger({ app: 'netevd', silent: true });

/** A temp dir. */
export function tempDir(prefix = 'netevd-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Write an executable script (mode 0755 unless given) into `<dir>/<state>.d/<name>`. */
export async function writeScript(dir: string, state: string, name: string, body: string, mode = 0o755): Promise<string> {
  const folder = join(dir, `${state}.d`);
  await mkdir(folder, { recursive: true });
  const path = join(folder, name);
  await writeFile(path, body);
  await chmod(path, mode);
  return path;
}

/** A script that appends one line `label|STATE|LINK|ADDRESSES|BACKEND|LINKINDEX|json` to `log`, and dumps its env to `<log>.env.<label>.<LINK>`. */
export function recordingScript(log: string, label: string): string {
  return `#!/bin/sh
printf '%s|%s|%s|%s|%s|%s|%s\\n' "${label}" "\${STATE-}" "\${LINK-<unset>}" "\${ADDRESSES-}" "\${BACKEND-}" "\${LINKINDEX-}" "\${JSON:+json}" >> '${log}'
env | sort > '${log}.env.${label}.'"\${LINK-none}"
`;
}

/** Poll `fn` until it returns a truthy value (or throw with `what` after `timeoutMs`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The current uid (scripts must be owned by it in tests that do not run as root). */
export const uid = process.getuid?.() ?? 0;
