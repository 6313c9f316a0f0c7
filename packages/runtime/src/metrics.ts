/**
 * Metrics on prom-client, one Registry per app (never the global one), every series labelled
 * `{app}`. Names follow `edgebox_<app>_<what>_<unit>`: counters end in `_total`, histograms in
 * `_seconds` or `_bytes`, gauges in a unit or none (`edgebox_p2p_peers`), never `_total`.
 * The helpers check the name against the kind and against the registry's app.
 *
 * Default process metrics (`process_*`, `nodejs_*`) keep their standard names so stock
 * dashboards work; the `app` label tells apps apart.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';
import { RuntimeError } from './errors.js';

/** Units a metric name may end in. `total` is for counters only. */
export const METRIC_UNITS = ['total', 'seconds', 'bytes', 'ratio', 'info'] as const;
/** One of {@link METRIC_UNITS}. */
export type MetricUnit = (typeof METRIC_UNITS)[number];
/** The metric types the helpers create. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

const APP_RE = /^[a-z][a-z0-9]*$/;
const WHAT_RE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const NAME_RE = /^edgebox_([a-z][a-z0-9]*)_([a-z0-9_]+)$/;

const appOf = new WeakMap<Registry, string>();

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryInit {
  /** App name: lower-case letters and digits (`tunnel`, `p2p`). */
  app: string;
  /** Also collect prom-client's default process/Node.js metrics (default false). */
  defaultMetrics?: boolean;
  /** More default labels (`{ node: 'edge-1' }`). */
  labels?: Record<string, string>;
}

/**
 * A fresh Registry whose series all carry `{app}`.
 *
 * @example
 * const registry = createMetricsRegistry({ app: 'tunnel', defaultMetrics: true });
 * const sessions = createGauge(registry, { name: 'edgebox_tunnel_sessions', help: 'Open sessions' });
 */
export function createMetricsRegistry(init: MetricsRegistryInit): Registry {
  assertApp(init.app);
  const registry = new Registry();
  registry.setDefaultLabels({ ...init.labels, app: init.app });
  if (init.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  appOf.set(registry, init.app);
  return registry;
}

/**
 * Builds `edgebox_<app>_<what>[_<unit>]`, or throws RUNTIME_INVALID_ARGUMENT.
 *
 * @example
 * metricName('bonding', 'packets_sent', 'total'); // 'edgebox_bonding_packets_sent_total'
 * metricName('p2p', 'peers');                     // 'edgebox_p2p_peers' (a unitless gauge)
 */
export function metricName(app: string, what: string, unit?: MetricUnit): string {
  assertApp(app);
  if (typeof what !== 'string' || !WHAT_RE.test(what)) {
    throw invalid(`metric "what" ${JSON.stringify(what)} is not valid: expected lower_snake_case starting with a letter`);
  }
  if (unit !== undefined && !(METRIC_UNITS as readonly string[]).includes(unit)) {
    throw invalid(`metric unit ${JSON.stringify(unit)} is not valid: expected one of ${METRIC_UNITS.join(', ')}`);
  }
  if (what === 'total' || what.endsWith('_total')) {
    throw invalid(`metric "what" ${JSON.stringify(what)} is not valid: pass the unit 'total' separately`);
  }
  if (unit !== undefined && (what === unit || what.endsWith(`_${unit}`))) {
    throw invalid(`metric "what" ${JSON.stringify(what)} is not valid: it already ends in _${unit}`);
  }
  return unit === undefined ? `edgebox_${app}_${what}` : `edgebox_${app}_${what}_${unit}`;
}

/**
 * Checks a full metric name for a kind (and app, when given); throws RUNTIME_INVALID_ARGUMENT.
 *
 * @example
 * assertMetricName('edgebox_tunnel_bytes_sent_total', 'counter', 'tunnel');
 */
export function assertMetricName(name: string, kind: MetricKind, app?: string): void {
  const m = typeof name === 'string' ? NAME_RE.exec(name) : null;
  if (m === null || !WHAT_RE.test(m[2]!)) {
    throw invalid(`metric name ${JSON.stringify(name)} is not valid: expected edgebox_<app>_<what>_<unit> in lower_snake_case`);
  }
  if (app !== undefined && m[1] !== app) {
    throw invalid(`metric name ${name} is not valid: expected the prefix edgebox_${app}_ of this registry's app`);
  }
  const unit = METRIC_UNITS.find((u) => name.endsWith(`_${u}`));
  if (kind === 'counter' && unit !== 'total') throw invalid(`counter ${name} is not valid: expected a name ending in _total`);
  if (kind !== 'counter' && unit === 'total') throw invalid(`${kind} ${name} is not valid: only counters end in _total`);
  if (kind === 'histogram' && unit !== 'seconds' && unit !== 'bytes') {
    throw invalid(`histogram ${name} is not valid: expected a name ending in _seconds or _bytes`);
  }
}

/**
 * True when `name` passes {@link assertMetricName} for `kind`.
 *
 * @example
 * isValidMetricName('edgebox_demo_ticks_total', 'counter'); // true
 */
export function isValidMetricName(name: string, kind: MetricKind): boolean {
  try {
    assertMetricName(name, kind);
    return true;
  } catch {
    return false;
  }
}

type Init<C> = Omit<C, 'registers'>;

/**
 * A counter registered on `registry` only (name must end in `_total`).
 *
 * @example
 * const ticks = createCounter(registry, { name: 'edgebox_demo_ticks_total', help: 'Heartbeat ticks' });
 * ticks.inc();
 */
export function createCounter<L extends string = string>(registry: Registry, init: Init<CounterConfiguration<L>>): Counter<L> {
  return register(registry, init.name, 'counter', () => new Counter<L>({ ...init, registers: [registry] }));
}

/**
 * A gauge registered on `registry` only (no `_total`).
 *
 * @example
 * const interval = createGauge(registry, { name: 'edgebox_demo_interval_seconds', help: 'Tick interval' });
 * interval.set(1);
 */
export function createGauge<L extends string = string>(registry: Registry, init: Init<GaugeConfiguration<L>>): Gauge<L> {
  return register(registry, init.name, 'gauge', () => new Gauge<L>({ ...init, registers: [registry] }));
}

/**
 * A histogram registered on `registry` only (`_seconds` or `_bytes`).
 *
 * @example
 * const rtt = createHistogram(registry, { name: 'edgebox_bonding_link_rtt_seconds', help: 'RTT', labelNames: ['link'], buckets: [0.001, 0.01, 0.1, 1] });
 * rtt.observe({ link: 'wan0' }, 0.012);
 */
export function createHistogram<L extends string = string>(registry: Registry, init: Init<HistogramConfiguration<L>>): Histogram<L> {
  return register(registry, init.name, 'histogram', () => new Histogram<L>({ ...init, registers: [registry] }));
}

function register<M>(registry: Registry, name: string, kind: MetricKind, make: () => M): M {
  assertMetricName(name, kind, appOf.get(registry));
  if (registry.getSingleMetric(name) !== undefined) {
    throw invalid(`metric ${name} is already registered on this registry`);
  }
  try {
    return make();
  } catch (err) {
    throw invalid(`metric ${name}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

function assertApp(app: string): void {
  if (typeof app !== 'string' || !APP_RE.test(app)) {
    throw invalid(`app name ${JSON.stringify(app)} is not valid: expected lower-case letters and digits, starting with a letter`);
  }
}

function invalid(message: string, cause?: unknown): RuntimeError {
  return new RuntimeError('RUNTIME_INVALID_ARGUMENT', message, { cause });
}
