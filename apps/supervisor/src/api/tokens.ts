/**
 * Injection tokens of the admin API. Every constructor parameter names its token with
 * @Inject: tsx/esbuild-built code (tests) has no decorator metadata, and with explicit tokens
 * DI works either way.
 */
export const SUPERVISOR = Symbol('edgebox.supervisor');
export const KEY_STORE = Symbol('edgebox.keyStore');
export const API_SETTINGS = Symbol('edgebox.apiSettings');

/** How the API guards requests (resolved at start from the bind address and auth settings). */
export interface ApiSettings {
  /** Bound to a loopback address. */
  loopback: boolean;
  /** supervisor.auth.requireKeys. */
  requireKeys: boolean;
}
