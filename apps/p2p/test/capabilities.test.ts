// Capabilities (p2p.md §3.4): the CAPS vectors byte for byte, short payloads refused, negotiation
// keeps what both sides have; over libp2p each side sees the other's capabilities in status and
// a message over the peer's advertised size limit is refused before it is sent. Also the
// resumption secret vector (§3.5).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCapabilities, encodeCapabilities, negotiateCapabilities, type Capabilities } from '../src/capabilities.js';
import { deriveResumptionSecret } from '../src/tickets.js';
import { hex, startNetwork, text, toHex } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const vectors = new URL('../../../docs/protocols/vectors/p2p/', import.meta.url);
const capsFile = JSON.parse(readFileSync(new URL('caps.json', vectors), 'utf8')) as { caps: Array<{ name: string; payload: string; decoded: Capabilities }> };
const resumption = JSON.parse(readFileSync(new URL('resumption.json', vectors), 'utf8')) as Record<string, string>;

describe('CAPS vectors (docs/protocols/vectors/p2p/caps.json)', () => {
  it.each(capsFile.caps.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(decodeCapabilities(hex(c.payload))).toEqual(c.decoded);
    if (c.decoded.version === 1) expect(toHex(encodeCapabilities(c.decoded))).toBe(c.payload);
  });

  it('refuses payloads shorter than v1 or with version 0', () => {
    expect(() => decodeCapabilities(new Uint8Array(8).fill(1))).toThrow(expect.objectContaining({ code: 'P2P_HANDSHAKE' }));
    expect(() => decodeCapabilities(new Uint8Array(9))).toThrow(expect.objectContaining({ code: 'P2P_HANDSHAKE' }));
  });

  it('negotiation keeps the features both have and the peer size limit', () => {
    const local: Capabilities = { version: 1, acks: true, priorities: true, resumption: false, maxMessageBytes: 1000 };
    const remote: Capabilities = { version: 2, acks: false, priorities: true, resumption: true, maxMessageBytes: 50 };
    expect(negotiateCapabilities(local, remote)).toEqual({ version: 1, acks: false, priorities: true, resumption: false, maxMessageBytes: 50 });
  });
});

describe('resumption secret vector (docs/protocols/vectors/p2p/resumption.json)', () => {
  it('matches on both roles', () => {
    const th = hex(resumption['transcriptHash']!);
    const i2r = hex(resumption['keyInitiatorToResponder']!);
    const r2i = hex(resumption['keyResponderToInitiator']!);
    expect(toHex(deriveResumptionSecret({ role: 'initiator', sendKey: i2r, receiveKey: r2i, transcriptHash: th }))).toBe(resumption['resumptionSecret']);
    expect(toHex(deriveResumptionSecret({ role: 'responder', sendKey: r2i, receiveKey: i2r, transcriptHash: th }))).toBe(resumption['resumptionSecret']);
  });
});

describe.each(['memory', 'tcp'] as const)('capabilities over %s', (transport) => {
  it('each side sees the other in status; the peer size limit is enforced before sending', async () => {
    const a = await startNetwork(transport, cleanup, { features: { priorities: false } });
    const b = await startNetwork(transport, cleanup, { maxMessageBytes: 100 });
    await a.connect(b.peerId, b.multiaddrs());
    expect(a.peers().find((p) => p.peer === b.peerId)?.capabilities).toEqual({ version: 1, acks: true, priorities: true, resumption: true, maxMessageBytes: 100 });
    await expect.poll(() => b.peers().find((p) => p.peer === a.peerId)?.capabilities).toMatchObject({ priorities: false, maxMessageBytes: 1024 * 1024 });
    await expect(a.send(b.peerId, 'chat', new Uint8Array(101))).rejects.toMatchObject({ code: 'P2P_TOO_LARGE', details: { max: 100 } });
    await a.send(b.peerId, 'chat', new Uint8Array(100));
    await a.send(b.peerId, 'chat', text('ok'), { ack: true });
    expect(a.counters().dropped).toMatchObject({ malformed: 0, framing: 0 });
  });
});
