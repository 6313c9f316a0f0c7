import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { assertMetricName, createCounter, createGauge, createHistogram, createMetricsRegistry, isValidMetricName, metricName } from '../src/index.js';

describe('metric names', () => {
  it('builds edgebox_<app>_<what>_<unit>', () => {
    expect(metricName('bonding', 'packets_sent', 'total')).toBe('edgebox_bonding_packets_sent_total');
    expect(metricName('tunnel', 'handshake_duration', 'seconds')).toBe('edgebox_tunnel_handshake_duration_seconds');
    expect(metricName('p2p', 'rx', 'bytes')).toBe('edgebox_p2p_rx_bytes');
    expect(metricName('bonding', 'rx_bytes', 'total')).toBe('edgebox_bonding_rx_bytes_total');
    expect(metricName('p2p', 'peers')).toBe('edgebox_p2p_peers');
  });

  it('throws RUNTIME_INVALID_ARGUMENT on bad apps, parts and units', () => {
    const bad: Array<[string, string, string | undefined]> = [
      ['Tunnel', 'x', 'total'],
      ['tun_nel', 'x', 'total'],
      ['', 'x', 'total'],
      ['1app', 'x', 'total'],
      ['tunnel', 'Bytes', 'total'],
      ['tunnel', 'a__b', 'total'],
      ['tunnel', '_a', 'total'],
      ['tunnel', 'a-b', 'total'],
      ['tunnel', 'sent_total', undefined],
      ['tunnel', 'total', 'total'],
      ['tunnel', 'rtt_seconds', 'seconds'],
      ['tunnel', 'x', 'millis'],
    ];
    for (const [app, what, unit] of bad) {
      expect(() => metricName(app, what, unit as never), `${app}/${what}/${unit}`).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
    }
  });

  it('checks full names against the kind: counters _total, histograms _seconds/_bytes, gauges never _total', () => {
    expect(isValidMetricName('edgebox_demo_ticks_total', 'counter')).toBe(true);
    expect(isValidMetricName('edgebox_demo_ticks', 'counter')).toBe(false);
    expect(isValidMetricName('edgebox_demo_rtt_seconds', 'histogram')).toBe(true);
    expect(isValidMetricName('edgebox_demo_frame_bytes', 'histogram')).toBe(true);
    expect(isValidMetricName('edgebox_demo_rtt', 'histogram')).toBe(false);
    expect(isValidMetricName('edgebox_demo_rtt_total', 'histogram')).toBe(false);
    expect(isValidMetricName('edgebox_demo_peers', 'gauge')).toBe(true);
    expect(isValidMetricName('edgebox_demo_peers_total', 'gauge')).toBe(false);
    expect(isValidMetricName('demo_ticks_total', 'counter')).toBe(false);
    expect(isValidMetricName('edgebox_demo_Ticks_total', 'counter')).toBe(false);
    expect(isValidMetricName('edgebox_demo__ticks_total', 'counter')).toBe(false);
    expect(() => assertMetricName('edgebox_tunnel_x_total', 'counter', 'demo')).toThrow(/expected the prefix edgebox_demo_/);
  });
});

describe('metrics registry', () => {
  it('labels every series with {app} and keeps metrics off the global registry', async () => {
    const registry = createMetricsRegistry({ app: 'demo', labels: { node: 'edge-1' } });
    const ticks = createCounter(registry, { name: 'edgebox_demo_ticks_total', help: 'Ticks' });
    ticks.inc(3);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE edgebox_demo_ticks_total counter');
    expect(text).toMatch(/edgebox_demo_ticks_total\{node="edge-1",app="demo"\} 3/);
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('edgebox_demo_ticks_total')).toBeUndefined();
    expect(registry.contentType).toMatch(/^text\/plain/);
  });

  it('creates gauges and histograms with labels and buckets', async () => {
    const registry = createMetricsRegistry({ app: 'bonding' });
    const links = createGauge(registry, { name: 'edgebox_bonding_links_up', help: 'Links up' });
    links.set(2);
    const rtt = createHistogram(registry, { name: 'edgebox_bonding_link_rtt_seconds', help: 'RTT', labelNames: ['link'], buckets: [0.01, 0.1] });
    rtt.observe({ link: 'wan0' }, 0.05);
    const text = await registry.metrics();
    expect(text).toContain('edgebox_bonding_links_up{app="bonding"} 2');
    expect(text).toContain('edgebox_bonding_link_rtt_seconds_bucket{le="0.1",app="bonding",link="wan0"} 1');
  });

  it('refuses names of another app, of the wrong kind, duplicates and bad configs', () => {
    const registry = createMetricsRegistry({ app: 'demo' });
    expect(() => createCounter(registry, { name: 'edgebox_tunnel_x_total', help: 'h' })).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
    expect(() => createCounter(registry, { name: 'edgebox_demo_x', help: 'h' })).toThrow(/ending in _total/);
    expect(() => createGauge(registry, { name: 'edgebox_demo_x_total', help: 'h' })).toThrow(/only counters/);
    expect(() => createHistogram(registry, { name: 'edgebox_demo_x_ratio', help: 'h' })).toThrow(/_seconds or _bytes/);
    createCounter(registry, { name: 'edgebox_demo_x_total', help: 'h' });
    expect(() => createCounter(registry, { name: 'edgebox_demo_x_total', help: 'h' })).toThrow(/already registered/);
    expect(() => createCounter(registry, { name: 'edgebox_demo_y_total', help: 'h', labelNames: ['bad-label'] })).toThrowError(
      expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT', message: expect.stringContaining('edgebox_demo_y_total') }),
    );
    expect(() => createMetricsRegistry({ app: 'Bad' })).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
  });

  it('a plain Registry is accepted without the app check', async () => {
    const plain = new Registry();
    createCounter(plain, { name: 'edgebox_any_x_total', help: 'h' }).inc();
    expect(await plain.metrics()).toContain('edgebox_any_x_total 1');
  });

  it('defaultMetrics adds the standard process metrics with the app label', async () => {
    const registry = createMetricsRegistry({ app: 'demo', defaultMetrics: true });
    const text = await registry.metrics();
    expect(text).toMatch(/process_cpu_user_seconds_total\{app="demo"\} /);
    expect(text).toContain('nodejs_heap_size_total_bytes{app="demo"}');
  });
});
