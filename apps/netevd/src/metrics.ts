/**
 * edgebox_netevd_* metrics. Counters are bumped where things happen (events, script runs);
 * gauges (rules, routes, sources, dead letters) are read at scrape time through `collect`.
 * The interface label is capped at MAX_LABELLED_INTERFACES distinct names ("other" after).
 */
import { createCounter, createGauge, createHistogram } from '@edgebox/runtime';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

const MAX_LABELLED_INTERFACES = 256;

/** What the gauges read at scrape time. */
export interface MetricsView {
  rules(): number;
  routes(): number;
  deadLetters(): number;
  sources(): { backend: string; up: boolean }[];
  interfaces(): number;
}

/** The metric handles the service bumps. */
export interface NetevdMetrics {
  event(kind: string, iface: string | undefined, backend: string): void;
  scriptRun(state: string, result: 'ok' | 'failed' | 'timeout', seconds: number): void;
  scriptLatency(seconds: number): void;
  routingChange(op: 'added' | 'removed', n: number): void;
  routingError(n: number): void;
}

/**
 * Register netevd's metrics on `registry`.
 *
 * @example const m = registerNetevdMetrics(registry, view); m.event('link.state', 'eth0', 'netlink');
 */
export function registerNetevdMetrics(registry: Registry, view: MetricsView): NetevdMetrics {
  const seen = new Set<string>();
  const events: Counter<'kind' | 'interface' | 'backend'> = createCounter(registry, { name: 'edgebox_netevd_events_total', help: 'Events received, by kind, interface and backend', labelNames: ['kind', 'interface', 'backend'] });
  const runs: Counter<'state' | 'result'> = createCounter(registry, { name: 'edgebox_netevd_script_runs_total', help: 'Script runs (attempts), by state folder and result (ok, failed, timeout)', labelNames: ['state', 'result'] });
  const failures: Counter<'state'> = createCounter(registry, { name: 'edgebox_netevd_script_failures_total', help: 'Script runs that failed or timed out, by state folder', labelNames: ['state'] });
  const duration: Histogram<'state'> = createHistogram(registry, { name: 'edgebox_netevd_script_duration_seconds', help: 'Script run time', labelNames: ['state'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120] });
  const latency: Histogram = createHistogram(registry, { name: 'edgebox_netevd_event_to_script_seconds', help: 'From an event on the bus to its first script starting (a settled state includes its debounce wait)', buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2] });
  const changes: Counter<'op'> = createCounter(registry, { name: 'edgebox_netevd_routing_changes_total', help: 'Policy rules and routes added or removed', labelNames: ['op'] });
  const errors: Counter = createCounter(registry, { name: 'edgebox_netevd_routing_errors_total', help: 'Routing commands that failed' });
  const rules: Gauge = createGauge(registry, { name: 'edgebox_netevd_policy_rules', help: 'Policy rules netevd wants installed', collect() { this.set(view.rules()); } });
  const routes: Gauge = createGauge(registry, { name: 'edgebox_netevd_policy_routes', help: 'Default routes netevd wants installed (per-interface tables and ECMP)', collect() { this.set(view.routes()); } });
  const dead: Gauge = createGauge(registry, { name: 'edgebox_netevd_dead_letters', help: 'Scripts in the dead-letter list', collect() { this.set(view.deadLetters()); } });
  const ifaces: Gauge = createGauge(registry, { name: 'edgebox_netevd_interfaces', help: 'Interfaces tracked', collect() { this.set(view.interfaces()); } });
  const up: Gauge<'backend'> = createGauge(registry, {
    name: 'edgebox_netevd_source_up',
    help: 'Event source health by backend (1 running, 0 not)',
    labelNames: ['backend'],
    collect() {
      this.reset();
      for (const s of view.sources()) this.set({ backend: s.backend }, s.up ? 1 : 0);
    },
  });
  void rules;
  void routes;
  void dead;
  void ifaces;
  void up;
  return {
    event(kind, iface, backend) {
      let label = iface ?? '';
      if (label !== '' && !seen.has(label)) {
        if (seen.size >= MAX_LABELLED_INTERFACES) label = 'other';
        else seen.add(label);
      }
      events.inc({ kind, interface: label, backend });
    },
    scriptRun(state, result, seconds) {
      runs.inc({ state, result });
      if (result !== 'ok') failures.inc({ state });
      duration.observe({ state }, seconds);
    },
    scriptLatency(seconds) {
      latency.observe(seconds);
    },
    routingChange(op, n) {
      if (n > 0) changes.inc({ op }, n);
    },
    routingError(n) {
      if (n > 0) errors.inc(n);
    },
  };
}
