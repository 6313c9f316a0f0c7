/**
 * Errors of @edgebox/vpn-peers. Match on `code`, never on `instanceof`: benches print them and
 * report them in bench-results JSON. The README lists every code; test/errors.test.ts keeps
 * the two in step.
 */

export const VPN_PEERS_ERROR_CODES = [
  'VPN_PEERS_TOOL_MISSING', // openvpn, wireguard-go, openssl, iperf3, ping, stunnel or openssh is not installed
  'VPN_PEERS_INVALID_ARGUMENT', // an option out of range (tunnel net, port, duration, count)
  'VPN_PEERS_PKI_FAILED', // openssl or ssh-keygen could not create the throwaway keys or certificates
  'VPN_PEERS_START_FAILED', // a tunnel daemon exited or a setup step failed before the tunnel came up
  'VPN_PEERS_START_TIMEOUT', // the tunnel did not pass a ping within its deadline
  'VPN_PEERS_UAPI_FAILED', // wireguard-go's UAPI socket refused a request or answered errno != 0
  'VPN_PEERS_IPERF_FAILED', // iperf3 reported an error or exited non-zero
  'VPN_PEERS_PING_FAILED', // ping got no reply at all
  'VPN_PEERS_PARSE_FAILED', // iperf3 or ping output could not be parsed
  'VPN_PEERS_TIMEOUT', // a measurement outlived its time bound and was killed
  'VPN_PEERS_ABORTED', // the caller's AbortSignal fired
] as const;

export type VpnPeersErrorCode = (typeof VPN_PEERS_ERROR_CODES)[number];

/** Options of a {@link VpnPeersError}. */
export interface VpnPeersErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base (and only) error class of vpn-peers; `code` says what went wrong, `details` carries
 * the evidence (e.g. `details.log` with the tail of the daemon's output).
 *
 * @example
 * try { await startOpenVpnTunnel(lab, opts); } catch (err) {
 *   if (isVpnPeersError(err, 'VPN_PEERS_START_TIMEOUT')) console.error(err.message);
 * }
 */
export class VpnPeersError extends Error {
  readonly code: VpnPeersErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: VpnPeersErrorCode, message: string, options: VpnPeersErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VpnPeersError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: VpnPeersErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a VpnPeersError (optionally with `code`); works on JSON copies too.
 *
 * @example
 * if (isVpnPeersError(err, 'VPN_PEERS_TOOL_MISSING')) console.log('skipped:', err.message);
 */
export function isVpnPeersError(err: unknown, code?: VpnPeersErrorCode): err is VpnPeersError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('VPN_PEERS_') && (code === undefined || c === code);
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
