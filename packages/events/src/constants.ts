/**
 * Protocol numbers of the event wire format (docs/protocols/events.md) and the defaults of the
 * bus, filters, debouncer and decoders. Units are in the names.
 */

/** The event format version this package writes and reads (events.md §2). */
export const EVENT_VERSION = 1;

/** Apps that publish events; any other `[a-z0-9-]` name is accepted as a source too. */
export const KNOWN_SOURCES = ['bonding', 'tunnel', 'netevd', 'p2p', 'supervisor'] as const;

/** Severities, lowest first: a minimum-severity filter keeps this one and the ones after it. */
export const SEVERITIES = ['debug', 'info', 'warning', 'error'] as const;

// -- wire bounds (events.md §3): a receiver rejects anything over them
/** `data` encoded as JSON (UTF-8 bytes). */
export const MAX_DATA_BYTES = 16 * 1024;
/** Nesting depth of `data` (the object itself is depth 1). */
export const MAX_DATA_DEPTH = 16;
/** `source` length. */
export const MAX_SOURCE_LENGTH = 32;
/** `kind` length. */
export const MAX_KIND_LENGTH = 128;
/** `subject` and `interface` length. */
export const MAX_SUBJECT_LENGTH = 256;
/** `states.old` / `states.new` length. */
export const MAX_STATE_LENGTH = 64;
/** Entries in `addresses`. */
export const MAX_ADDRESSES = 64;
/** One encoded event (JSON, UTF-8 bytes) can never exceed this; decoders default to it. */
export const MAX_EVENT_BYTES = 64 * 1024;

// -- bus defaults
/** History ring entries kept for `since()` / Last-Event-ID resume. */
export const DEFAULT_HISTORY_SIZE = 1024;
/** Upper bound on `historySize`. */
export const MAX_HISTORY_SIZE = 1_000_000;
/** Subscribers per bus. */
export const DEFAULT_MAX_SUBSCRIBERS = 64;
/** Per-subscriber queue length. */
export const DEFAULT_BUFFER_SIZE = 256;
/** Upper bound on a subscriber's `bufferSize`. */
export const MAX_BUFFER_SIZE = 65_536;

// -- filters
/** Longest filter expression accepted, in characters. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of parentheses / `not` in a filter expression. */
export const MAX_FILTER_DEPTH = 32;
/** Longest glob pattern. */
export const MAX_GLOB_LENGTH = 256;

// -- debounce
/** Keys a debouncer tracks at once; the oldest is flushed and evicted past it. */
export const DEFAULT_DEBOUNCE_MAX_KEYS = 1024;

// -- SSE
/** Reconnect delay suggested to SSE clients (`retry:`). */
export const DEFAULT_SSE_RETRY_MS = 3000;
/** Interval of `: heartbeat` comments on an idle SSE stream. */
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;
