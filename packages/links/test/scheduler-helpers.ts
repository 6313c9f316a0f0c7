// Mutable test links for the schedulers.
import type { LinkState } from '../src/link-state.js';
import type { LinkTier, SchedulerLink } from '../src/scheduler.js';

export interface TestLink extends SchedulerLink {
  state: LinkState;
  tier: LinkTier;
  weight: number;
  capBytesPerSec?: number | undefined;
  dataCapBytes?: number | undefined;
  dataCapLastResort?: boolean | undefined;
  estimators: { rtt: { srttMs: number; sampleCount: number }; deliveryRate: { rateBytesPerSec: number } };
}

export function testLink(id: string, over: Partial<Omit<TestLink, 'estimators'>> & { srttMs?: number; rate?: number } = {}): TestLink {
  const { srttMs, rate, ...rest } = over;
  return {
    id,
    state: 'up',
    tier: 'primary',
    weight: 1,
    ...rest,
    estimators: {
      rtt: { srttMs: srttMs ?? 0, sampleCount: srttMs === undefined ? 0 : 1 },
      deliveryRate: { rateBytesPerSec: rate ?? 0 },
    },
  };
}
