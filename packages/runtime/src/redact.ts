/**
 * Redaction of secret-looking values before a config is shown, logged or put in an error.
 * A key is secret when its name contains one of SECRET_KEY_WORDS (case-insensitive):
 * `psk`, `privateKey`, `admin_password`, `apiToken`, `tls.key`. Redaction is by key name
 * only: a secret stored under an innocent name is not found, so name secrets plainly.
 */

/** Words that make a key secret-looking. */
export const SECRET_KEY_WORDS: readonly string[] = ['key', 'secret', 'password', 'passwd', 'token', 'psk', 'private', 'credential'];

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

const SECRET_RE = new RegExp(SECRET_KEY_WORDS.join('|'), 'i');

/**
 * True when a key name looks secret.
 *
 * @example
 * isSecretKey('privateKey'); // true
 * isSecretKey('port');       // false
 */
export function isSecretKey(key: string | number | symbol): boolean {
  return typeof key === 'string' && SECRET_RE.test(key);
}

/**
 * True when any segment of a path looks secret (`tunnel.psk`, `peers[0].token`).
 *
 * @example
 * isSecretPath(['tunnel', 'auth', 'psk']); // true
 */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path.some(isSecretKey);
}

/**
 * A deep copy of `value` with every secret-looking key's value replaced by `[REDACTED]`
 * (whatever its type, objects included). Cycles become `[Circular]`. Plain data in, plain data out.
 *
 * @example
 * redactConfig({ listen: { port: 443 }, psk: 'hunter2' }); // { listen: { port: 443 }, psk: '[REDACTED]' }
 */
export function redactConfig<T>(value: T): T {
  return redact(value, new WeakSet<object>()) as T;
}

function redact(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redact(v, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redact(v, seen);
      // a parsed "__proto__" key is data: define it, never assign it (that would set the prototype)
      Object.defineProperty(out, k, { value: r, enumerable: true, writable: true, configurable: true });
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
