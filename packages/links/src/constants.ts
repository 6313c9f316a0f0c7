/**
 * Defaults and protocol numbers of @edgebox/links. Units are in the names. Every estimator,
 * the state machine, the probe policy and the schedulers take their tunables from an `init`
 * object and fall back to these via `??`.
 */

// -- RTT (RFC 6298 §2) ------------------------------------------------------------------------

/** Gain of SRTT: SRTT <- (1 - alpha) * SRTT + alpha * R' (RFC 6298 §2.3). */
export const RTT_ALPHA = 1 / 8;
/** Gain of RTTVAR: RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'| (RFC 6298 §2.3). */
export const RTT_BETA = 1 / 4;
/** RTO = SRTT + max(G, K * RTTVAR) (RFC 6298 §2.2). */
export const RTT_K = 4;
/** RTO before the first sample (RFC 6298 §2.1). */
export const RTO_INITIAL_MS = 1000;
/**
 * Lower clamp of the RTO. RFC 6298 §2.4 says 1 s for TCP; a bonding link wants failure noticed
 * within a second, so the default follows Linux (200 ms). Set 1000 for the RFC's value.
 */
export const RTO_MIN_MS = 200;
/** Upper clamp of the RTO (RFC 6298 §2.5: at least 60 s). */
export const RTO_MAX_MS = 60_000;
/** Clock granularity G of RFC 6298 §2.2 for a millisecond clock. */
export const RTT_CLOCK_GRANULARITY_MS = 1;
/** Samples above this are garbage (a stale echo, a clock jump): rejected and counted. */
export const RTT_MAX_SAMPLE_MS = 60_000;
/** Window of the minimum RTT (the link's baseline), as in BBR's 10 s min_rtt filter. */
export const MIN_RTT_WINDOW_MS = 10_000;
/** Buckets of the windowed min/max filters: the window edge moves in steps of window/buckets. */
export const WINDOWED_FILTER_BUCKETS = 10;

// -- jitter (RFC 3550 §6.4.1) -----------------------------------------------------------------

/** Gain of the interarrival jitter: J <- J + (|D| - J) / 16. */
export const JITTER_GAIN = 1 / 16;

// -- loss -------------------------------------------------------------------------------------

/** Sequence numbers in the loss window (loss ratio = missing / seen in the last N). */
export const LOSS_WINDOW_DEFAULT = 1024;
/** Largest loss window. */
export const LOSS_WINDOW_MAX = 65_536;

// -- delivery rate ----------------------------------------------------------------------------

/** Length of one delivery-rate interval: bytes delivered per interval become one sample. */
export const DELIVERY_RATE_INTERVAL_MS = 100;
/** EWMA gain applied once per non-idle interval. */
export const DELIVERY_RATE_GAIN = 1 / 4;
/** Window of the windowed-max delivery rate. */
export const DELIVERY_RATE_MAX_WINDOW_MS = 2000;

// -- probes -----------------------------------------------------------------------------------

/** An up/degraded/probing link with nothing sent for this long gets a probe. */
export const PROBE_INTERVAL_MS = 200;
/** Longest probe interval of a down link (the interval doubles per probe from PROBE_INTERVAL_MS). */
export const PROBE_DOWN_MAX_INTERVAL_MS = 1000;

// -- link state machine -----------------------------------------------------------------------

/** No packet received for this long: the link is down (3 probe intervals). */
export const LINK_DOWN_AFTER_MS = 3 * PROBE_INTERVAL_MS;
/** Consecutive good evaluations before a probing/degraded link is up again. */
export const LINK_UP_AFTER_EVALUATIONS = 3;
/** Consecutive bad evaluations before an up link is degraded. */
export const LINK_DEGRADE_AFTER_EVALUATIONS = 1;
/** Loss ratio at or above which a link is degraded. */
export const LINK_DEGRADED_LOSS_RATIO = 0.02;
/** Loss ratio at or above which a link is down even though packets arrive. */
export const LINK_DOWN_LOSS_RATIO = 0.5;
/** SRTT above baseline * factor + slack is degraded. */
export const LINK_RTT_DEGRADED_FACTOR = 3;
/** See LINK_RTT_DEGRADED_FACTOR. */
export const LINK_RTT_DEGRADED_SLACK_MS = 50;

// -- schedulers and caps ----------------------------------------------------------------------

/** Weight multiplier of a degraded link in the aggregate scheduler. */
export const SCHEDULER_DEGRADED_WEIGHT = 0.25;
/**
 * Floor of a measured link's rate in the aggregate scheduler, as a fraction of the fastest
 * candidate: a slow link keeps some traffic, so its measurement stays alive.
 */
export const SCHEDULER_MIN_RATE_FRACTION = 0.05;
/** Token bucket depth of a rate cap, in milliseconds of the cap's rate. */
export const TOKEN_BUCKET_BURST_MS = 50;
/** Smallest token bucket depth: any datagram (<= 65535 bytes) fits a full bucket. */
export const TOKEN_BUCKET_MIN_BURST_BYTES = 65_536;
/** Most links one scheduler handles (every pick is O(links)). */
export const SCHEDULER_MAX_LINKS = 64;
/** Largest packet a scheduler accepts, in bytes. */
export const SCHEDULER_MAX_PACKET_BYTES = 65_535;
