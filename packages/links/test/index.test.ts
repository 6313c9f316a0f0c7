// The package entry exports the factories, and they work together as a link's health loop.
import { describe, expect, it } from 'vitest';
import * as links from '../src/index.js';

describe('package entry', () => {
  it('exports every factory and constant set', () => {
    for (const name of [
      'createRttEstimator',
      'createJitterEstimator',
      'createLossEstimator',
      'createDeliveryRateEstimator',
      'createTokenBucket',
      'createLinkStateMachine',
      'createProbePolicy',
      'createScheduler',
      'createAggregateScheduler',
      'createLowestLatencyScheduler',
      'createRedundantScheduler',
      'createWindowedFilter',
      'seqDiff32',
      'isU32',
      'openTunDevice',
      'closeAllTunDevices',
      'createUdpLink',
      'installSourceRoute',
      'removeSourceRoute',
      'listSourceRoutes',
      'canonicalAddress',
      'createLinkDiscovery',
      'buildSnapshot',
      'diffSnapshots',
      'compileGlob',
      'matchesAny',
    ] as const) {
      expect(typeof links[name]).toBe('function');
    }
    expect(links.RTT_ALPHA).toBe(1 / 8);
    expect(links.SCHEDULER_KINDS).toEqual(['aggregate', 'lowest-latency', 'redundant']);
    expect([links.POLICY_ROUTE_PROTOCOL, links.POLICY_RULE_PRIORITY_MIN, links.POLICY_RULE_PRIORITY_MAX]).toEqual([235, 20000, 20999]);
    expect([links.TUN_MAX_PACKET_BYTES, links.TUN_DEFAULT_READ_BATCH, links.DISCOVERY_DEBOUNCE_MS]).toEqual([65535, 64, 75]);
  });

  it('drives a link from estimators to state to scheduler (a failover on fake time)', () => {
    const make = (id: string, rttMs: number) => {
      const rtt = links.createRttEstimator();
      const loss = links.createLossEstimator();
      const deliveryRate = links.createDeliveryRateEstimator();
      const machine = links.createLinkStateMachine({ nowMs: 0 });
      const health: links.LinkHealth = { lastReceiveMs: -1, lossRatio: 0, srttMs: 0, baselineRttMs: 0 };
      let seq = 0;
      let alive = true;
      const link = {
        id,
        tier: 'primary' as const,
        weight: 1,
        get state() {
          return machine.state;
        },
        estimators: { rtt, deliveryRate },
        receive(now: number) {
          if (!alive) return;
          loss.onReceive(seq++ >>> 0);
          rtt.addSample(rttMs, now);
          deliveryRate.onDelivered(1000, now);
          health.lastReceiveMs = now;
        },
        tick(now: number) {
          health.lossRatio = loss.lossRatio;
          health.srttMs = rtt.srttMs;
          health.baselineRttMs = rtt.minRttMs;
          machine.evaluate(health, now);
        },
        cut() {
          alive = false;
        },
      };
      return link;
    };
    const a = make('a', 10);
    const b = make('b', 30);
    const scheduler = links.createLowestLatencyScheduler({ links: [a, b] });
    const out = new Int32Array(2);
    const chosen: string[] = [];
    for (let now = 0; now <= 3000; now += 50) {
      a.receive(now);
      b.receive(now);
      if (now === 1500) a.cut();
      if (now % 200 === 0) {
        a.tick(now);
        b.tick(now);
      }
      if (now % 500 === 0 && scheduler.pick(1000, now, out) === 1) chosen.push(`${now}:${scheduler.links[out[0]!]!.id}`);
    }
    expect(a.state).toBe('down');
    expect(b.state).toBe('up');
    // probing links carry traffic while nothing is up (0, 500); up from 600; a is cut at 1500
    // and declared down at the 2200 tick (600 ms of silence)
    expect(chosen).toEqual(['0:a', '500:a', '1000:a', '1500:a', '2000:a', '2500:b', '3000:b']);
  });
});
