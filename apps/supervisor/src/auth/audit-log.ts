/**
 * The audit log: one JSON line per mutating API request (`<dataDir>/audit.log`, mode 0600):
 * who (key id and name, or `local` for an unauthenticated loopback request), what (method,
 * path), from where, the outcome (HTTP status, error code) and how long it took. Appends are
 * serialized so lines never interleave; a failed append is reported, never thrown at the caller.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One audit line. */
export type AuditEntry = {
  time: string;
  keyId: string | null;
  keyName: string | null;
  role: string | null;
  method: string;
  path: string;
  remote: string | null;
  status: number;
  durationMs: number;
};

/** The audit log of a data dir. */
export function auditFileOf(dataDir: string): string {
  return join(dataDir, 'audit.log');
}

/**
 * Opens the audit log for appending.
 *
 * @example
 * const audit = openAuditLog('/var/lib/edgebox', (err) => log.error({ err }, 'audit append failed'));
 * audit.append({ time: new Date().toISOString(), keyId: 'a1b2c3d4', ... });
 */
export function openAuditLog(dataDir: string, onError: (err: unknown) => void): { file: string; append(entry: AuditEntry): void; flushed(): Promise<void> } {
  const file = auditFileOf(dataDir);
  let chain: Promise<void> = mkdir(dirname(file), { recursive: true, mode: 0o700 }).then(() => undefined, onError);
  return {
    file,
    append(entry) {
      const line = `${JSON.stringify(entry)}\n`;
      chain = chain.then(() => appendFile(file, line, { mode: 0o600 })).catch(onError);
    },
    flushed() {
      return chain;
    },
  };
}
