/**
 * Errors of @edgebox/netlab. Match on `code`, never on `instanceof`: codes survive process
 * boundaries (the CLI prints them, e2e peers report them as JSON). The README lists every
 * code; test/errors.test.ts keeps the two in step.
 */

export const NETLAB_ERROR_CODES = [
  'NETLAB_NOT_ROOT', // not uid 0: namespaces, veth and tc need CAP_SYS_ADMIN + CAP_NET_ADMIN
  'NETLAB_TOOL_MISSING', // ip, tc, nft, sysctl or a test program is not installed
  'NETLAB_SPEC_INVALID', // the topology spec failed validation (the message names the path)
  'NETLAB_COMMAND_FAILED', // a command exited non-zero (the message names it and its stderr)
  'NETLAB_COMMAND_TIMEOUT', // a command ran longer than its timeout and was killed
  'NETLAB_UNKNOWN_NODE', // a node name that is not in the spec
  'NETLAB_UNKNOWN_LINK', // a link name that is not in the spec, or a side not on that link
  'NETLAB_INVALID_ARGUMENT', // a rate, loss share or option out of range
  'NETLAB_DESTROYED', // the lab was already destroyed
  'NETLAB_ABORTED', // the caller's AbortSignal fired while the lab was being built
] as const;

export type NetlabErrorCode = (typeof NETLAB_ERROR_CODES)[number];

export interface NetlabErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base (and only) error class of netlab; `code` says what went wrong.
 *
 * @example
 * try { await createLab(spec); } catch (err) {
 *   if (isNetlabError(err, 'NETLAB_NOT_ROOT')) console.log('skipped:', err.message);
 * }
 */
export class NetlabError extends Error {
  readonly code: NetlabErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: NetlabErrorCode, message: string, options: NetlabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NetlabError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: NetlabErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a NetlabError (optionally with `code`); works on copies that crossed IPC.
 *
 * @example
 * if (isNetlabError(err, 'NETLAB_COMMAND_FAILED')) console.error(err.details?.stderr);
 */
export function isNetlabError(err: unknown, code?: NetlabErrorCode): err is NetlabError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('NETLAB_') && (code === undefined || c === code);
}
