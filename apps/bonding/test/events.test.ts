// Status as events (events.ts): every bonding status change becomes a valid @edgebox/events v1
// event of a declared kind on the bus, with subject, states and severity a filter can use, and
// typed data that the kind's schema reads back.
import { describe, expect, it } from 'vitest';
import { compileFilter, createEventBus, createEventFactory, parseEvent } from '@edgebox/events';
import {
  BONDING_EVENT_KINDS,
  BondingHandshakeFailedEvent,
  BondingLinkStateEvent,
  BondingMtuChangedEvent,
  BondingSessionEstablishedEvent,
  createBondingEventPublisher,
} from '../src/events.js';

describe('bonding events', () => {
  it('publishes link.state with subject peer/link, old → new states, warning when a link goes down', () => {
    const p = createBondingEventPublisher();
    const down = p.linkState('server', 'wan0', 0, 'up', 'down', 'silence');
    const up = p.linkState('server', 'wan0', 0, 'down', 'probing', 'alive');
    expect(down).toMatchObject({ v: 1, source: 'bonding', kind: 'link.state', severity: 'warning', subject: 'server/wan0', states: { old: 'up', new: 'down' } });
    expect(up.severity).toBe('info');
    expect(BondingLinkStateEvent.parse(down).data).toEqual({ peer: 'server', link: 'wan0', linkId: 0, from: 'up', to: 'down', reason: 'silence' });
    expect(p.bus.history().map((e) => e.event)).toEqual([down, up]);
    expect(up.id).toBe(down.id + 1);
  });

  it('publishes one kind per session event, an expired session as a warning', () => {
    const p = createBondingEventPublisher();
    const kinds = (['established', 'rekeyed', 'closed', 'expired'] as const).map((e) => p.session('site-a', e, 'detail'));
    expect(kinds.map((e) => [e.kind, e.severity, e.subject])).toEqual([
      ['session.established', 'info', 'site-a'],
      ['session.rekeyed', 'info', 'site-a'],
      ['session.closed', 'info', 'site-a'],
      ['session.expired', 'warning', 'site-a'],
    ]);
    expect(BondingSessionEstablishedEvent.is(kinds[0]!)).toBe(true);
    expect(BondingSessionEstablishedEvent.is(kinds[1]!)).toBe(false);
  });

  it('publishes refused handshakes and MTU changes', () => {
    const p = createBondingEventPublisher();
    const hs = p.handshakeFailed('198.51.100.1:51820', 'CRYPTO_HANDSHAKE_AUTH', 'bad key');
    const mtu = p.mtu(1416, 1316, 'path MTU');
    expect(BondingHandshakeFailedEvent.parse(hs).data.code).toBe('CRYPTO_HANDSHAKE_AUTH');
    expect(hs.severity).toBe('warning');
    expect(mtu).toMatchObject({ kind: 'mtu.changed', subject: 'tun', states: { old: '1416', new: '1316' }, data: { from: 1416, to: 1316, reason: 'path MTU' } });
    expect(BondingMtuChangedEvent.is(mtu)).toBe(true);
  });

  it('writes events that a reader parses back, on a bus and factory it is given', () => {
    const bus = createEventBus();
    const factory = createEventFactory({ source: 'bonding', startId: 100 });
    const p = createBondingEventPublisher({ bus, factory });
    const e = p.linkState('site-a', 'lte0', 2, 'probing', 'up', 'healthy');
    expect(p.bus).toBe(bus);
    expect(e.id).toBe(100);
    expect(parseEvent(JSON.stringify(e))).toEqual(e);
    expect(compileFilter('kind ~ link.* and states.new == up and data.linkId == 2')(e)).toBe(true);
  });

  it('declares each kind once, all distinct', () => {
    const names = BONDING_EVENT_KINDS.map((k) => k.kind);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('session.established');
  });
});
