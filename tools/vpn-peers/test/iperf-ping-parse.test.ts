// iperf3 JSON and ping output, parsed from recorded samples (test/samples/README.md says how
// each was recorded): Mbit/s, retransmits, interval series, RTTs; errors name the cause.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { isVpnPeersError, parseIperfJson, parsePing } from '../src/index.js';

const sample = (name: string): string => readFileSync(new URL(`./samples/${name}`, import.meta.url), 'utf8');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isVpnPeersError(err) ? `${err.code}: ${err.message}` : String(err);
  }
  return undefined;
}

describe('parseIperfJson', () => {
  it('reads sender and receiver Mbit/s, retransmits and the interval series of a -P 2 -R run', () => {
    const r = parseIperfJson(sample('iperf3-tcp-reverse-p2.json'));
    expect(r.senderMbps).toBeCloseTo(202.355144, 5);
    expect(r.receiverMbps).toBeCloseTo(191.997056, 5);
    expect(r.retransmits).toBe(0);
    expect(r.bytes).toBe(48_001_400);
    expect(r.seconds).toBeCloseTo(2.000089, 6);
    expect(r.reverse).toBe(true);
    expect(r.parallel).toBe(2);
    expect(r.intervals).toHaveLength(4);
    expect(r.intervals.map((i) => [i.start, Math.round(i.end * 10) / 10])).toEqual([[0, 0.5], [expect.closeTo(0.5, 2), 1], [expect.closeTo(1, 2), 1.5], [expect.closeTo(1.5, 2), 2]]);
    for (const i of r.intervals) expect(i.mbps).toBeGreaterThan(150);
  });

  it('turns iperf3\'s own error into VPN_PEERS_IPERF_FAILED quoting it', () => {
    expect(codeOf(() => parseIperfJson(sample('iperf3-error.json')))).toBe('VPN_PEERS_IPERF_FAILED: iperf3: unable to connect to server: Connection refused');
  });

  it('rejects output that is not iperf3 TCP JSON with VPN_PEERS_PARSE_FAILED', () => {
    expect(codeOf(() => parseIperfJson('iperf3: error - unable to connect'))).toMatch(/^VPN_PEERS_PARSE_FAILED: iperf3 output is not JSON/);
    expect(codeOf(() => parseIperfJson('null'))).toMatch(/^VPN_PEERS_PARSE_FAILED: iperf3 output is not a JSON object/);
    expect(codeOf(() => parseIperfJson('{"end":{"sum":{"bits_per_second":1}}}'))).toMatch(/^VPN_PEERS_PARSE_FAILED: .*sum_sent/);
  });

  it('leaves retransmits null and skips malformed intervals when iperf3 omits them', () => {
    const r = parseIperfJson(JSON.stringify({ intervals: [{ sum: { start: 0, end: 1, bits_per_second: 5e6 } }, { sum: {} }, {}], end: { sum_sent: { bits_per_second: 2e6 }, sum_received: { start: 0, end: 1, bits_per_second: 1e6 } } }));
    expect(r).toMatchObject({ senderMbps: 2, receiverMbps: 1, retransmits: null, bytes: 0, seconds: 1, reverse: false, parallel: 1 });
    expect(r.intervals).toEqual([{ start: 0, end: 1, mbps: 5, retransmits: null }]);
  });
});

describe('parsePing', () => {
  it('reads counts, min/avg/max/mdev and the median of the replies', () => {
    const r = parsePing(sample('ping-5.txt'));
    expect(r).toEqual({ sent: 5, received: 5, lossPercent: 0, minMs: 0.053, avgMs: 0.102, maxMs: 0.259, mdevMs: 0.079, medianMs: 0.059, rttsMs: [0.259, 0.053, 0.059, 0.053, 0.088] });
  });

  it('falls back to avg for -q output and counts loss', () => {
    const r = parsePing('4 packets transmitted, 3 received, 25% packet loss, time 603ms\nrtt min/avg/max/mdev = 0.1/0.2/0.3/0.05 ms\n');
    expect(r).toMatchObject({ sent: 4, received: 3, lossPercent: 25, medianMs: 0.2, rttsMs: [] });
  });

  it('no reply is VPN_PEERS_PING_FAILED, no summary VPN_PEERS_PARSE_FAILED', () => {
    expect(codeOf(() => parsePing('3 packets transmitted, 0 received, 100% packet loss, time 2040ms\n'))).toBe('VPN_PEERS_PING_FAILED: ping: 0 of 3 replies');
    expect(codeOf(() => parsePing('ping: connect: Network is unreachable\n'))).toMatch(/^VPN_PEERS_PARSE_FAILED: no ping summary/);
    expect(codeOf(() => parsePing('1 packets transmitted, 1 received\n'))).toMatch(/^VPN_PEERS_PARSE_FAILED: no rtt line/);
  });
});
