// An in-memory event source for service, API and CLI tests: publishes what the test asks for,
// in the event schema the real sources use.
import type { EventFactory, JsonObject } from '@edgebox/events';
import type { EventSourceHandle, SourceFactory, SourceInit } from '../src/service.js';

export interface FakeSource extends EventSourceHandle {
  link(iface: string, state: string, addresses?: string[], extra?: Record<string, unknown>): void;
  started: number;
  stopped: number;
}

/** A factory plus a handle on the last source it made. */
export function fakeSourceFactory(startup: { iface: string; state: string; addresses?: string[] }[] = []): { factory: SourceFactory; last: () => FakeSource } {
  let last: FakeSource | undefined;
  const factory: SourceFactory = (init: SourceInit) => {
    const events: EventFactory = init.events;
    const publish = (iface: string, state: string, addresses: string[] = [], extra: Record<string, unknown> = {}, startupFlag = false): void => {
      init.bus.publish(events.create({ kind: 'link.state', interface: iface, subject: iface, states: { new: state }, addresses, data: { backend: 'netlink', ifindex: 2, startup: startupFlag, ...extra } as JsonObject }));
    };
    const src: FakeSource = {
      started: 0,
      stopped: 0,
      async start() {
        src.started++;
        for (const s of startup) publish(s.iface, s.state, s.addresses, {}, true);
      },
      async stop() {
        src.stopped++;
      },
      stats: () => ({ fake: true }),
      link: (iface, state, addresses, extra) => publish(iface, state, addresses, extra),
    };
    last = src;
    return src;
  };
  return { factory, last: () => last! };
}
