/**
 * @edgebox/events: the appliance's typed event bus (docs/protocols/events.md).
 *
 * - Events v1: plain JSON `{v, id, time, source, kind, severity, subject?, interface?,
 *   states?, addresses?, data}`, made with `createEventFactory` / `createEvent`, read back
 *   (IPC, files) with `parseEvent`, typed per kind with `defineEventKind`.
 * - `createEventBus`: synchronous publish, per-subscriber bounded queues with an overflow
 *   policy (a slow subscriber never blocks the bus), a history ring for resume.
 * - Filters (`compileFilter`, `filterFromQuery`), per-key debounce (`createDebouncer`).
 * - SSE (`serveSse`, `encodeSseEvent`, `createSseDecoder`) and JSON lines
 *   (`encodeEventLine`, `createEventLinesDecoder`).
 *
 * @example
 * import { createEventBus, createEventFactory, serveSse, filterFromQuery, lastEventIdFrom } from '@edgebox/events';
 * const bus = createEventBus({ historySize: 1000 });
 * const events = createEventFactory({ source: 'netevd' });
 * bus.publish(events.create({ kind: 'link.state', subject: 'eth0', interface: 'eth0', states: { old: 'degraded', new: 'routable' } }));
 * // GET /api/v1/events?kind=link.*
 * void serveSse({ bus, response: res, lastEventId: lastEventIdFrom(req.headers), filter: filterFromQuery(url.searchParams) });
 */
export { EVENTS_ERROR_CODES, EventsError, isEventsError, type EventsErrorCode, type EventsErrorOptions } from './errors.js';
export * from './constants.js';
export { findJsonProblem, isPlainObject, type JsonObject, type JsonProblem, type JsonValue } from './json.js';
export {
  EventV1Schema,
  createEvent,
  createEventFactory,
  formatPath,
  isAddress,
  isSeverity,
  parseEvent,
  severityRank,
  tryParseEvent,
  type EdgeboxEvent,
  type EventFactory,
  type EventFactoryInit,
  type EventInit,
  type EventIssue,
  type EventSourceName,
  type EventStates,
  type EventV1,
  type ParseEventResult,
  type Severity,
} from './schema.js';
export { defineEventKind, type EventKind, type KindEvent } from './kinds.js';
export { compileGlob, compileGlobs, hasWildcard, type GlobMatcher } from './glob.js';
export {
  compileFilter,
  filterFromQuery,
  matchAll,
  parseFilterExpression,
  type EventFilter,
  type FilterInput,
  type FilterQueryOptions,
  type FilterSpec,
  type QueryInput,
} from './filter.js';
export { createHistoryRing, type HistoryRing, type HistorySlice, type Sequenced } from './history.js';
export {
  OVERFLOW_POLICIES,
  type BusEntry,
  type EndReason,
  type OverflowPolicy,
  type Subscription,
  type SubscriptionStats,
} from './subscription.js';
export {
  createEventBus,
  parseCursor,
  type BusStats,
  type EventBus,
  type EventBusInit,
  type ListenInit,
  type Listener,
  type Replay,
  type SubscribeInit,
} from './bus.js';
export {
  createDebouncer,
  keyFromFields,
  type DebounceClock,
  type DebounceEmitInfo,
  type DebounceReason,
  type DebounceStats,
  type Debouncer,
  type DebouncerInit,
} from './debounce.js';
export { encodeEventLine, encodeJsonLine, encodeSseEvent, formatSse, sseComment, sseRetry, type SseEventOptions, type SseMessage } from './encode.js';
export {
  createEventLinesDecoder,
  createJsonLinesDecoder,
  createSseDecoder,
  type JsonLineResult,
  type JsonLinesDecoder,
  type JsonLinesDecoderInit,
  type JsonLinesStats,
  type SseDecoder,
  type SseDecoderInit,
  type SseEvent,
  type SseResult,
} from './decode.js';
export { lastEventIdFrom, serveSse, type ServeSseInit, type SseResponse, type SseStreamResult } from './sse-stream.js';
