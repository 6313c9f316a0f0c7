// Config schemas: valid sections construct; invalid ones name the path and what is wrong.
import { describe, expect, it } from 'vitest';
import {
  accessRuleSchema,
  backoffInitSchema,
  circuitBreakerInitSchema,
  connectionLimiterInitSchema,
  createAccessList,
  createAddressBook,
  createBackoff,
  createCircuitBreaker,
  createConnectionLimiter,
  createRateLimiter,
  peerIdFromPublicKey,
  peerInitSchema,
  rateLimiterInitSchema,
} from '../src/index.js';

const alice = peerIdFromPublicKey(new Uint8Array(32).fill(1));
const bob = peerIdFromPublicKey(new Uint8Array(32).fill(2));

function firstIssue(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string {
  const issue = result.error!.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('peerInitSchema', () => {
  it('accepts what the address book accepts, and the book takes the parsed value', () => {
    const peer = peerInitSchema.parse({ id: alice, addresses: ['/ip4/192.0.2.1/tcp/4001'], metadata: { name: 'a' }, tags: ['boot'], autoConnect: true });
    expect(createAddressBook().add(peer).id).toBe(alice);
  });

  it.each([
    [{ id: 'nope' }, /^id: peer id "nope"/],
    [{ id: alice, addresses: [`/memory/x/p2p/${bob}`] }, /^addresses: addresses\[0\] .* names peer/],
    [{ id: alice, metadata: { 'bad key': 'x' } }, /^metadata: metadata key "bad key"/],
    [{ id: alice, tags: ['a b'] }, /^tags: tags\[0\] "a b"/],
    [{ id: alice, extra: 1 }, /extra/],
  ])('refuses %j naming the path', (input, message) => {
    expect(firstIssue(peerInitSchema.safeParse(input))).toMatch(message);
  });
});

describe('accessRuleSchema', () => {
  it('accepts peer and CIDR rules that the access list takes', () => {
    const acl = createAccessList();
    const rules = accessRuleSchema.array().parse([
      { peer: alice, action: 'block', reason: 'spam', ttlMs: 1000 },
      { cidr: '10.0.0.0/8', action: 'allow' },
    ]);
    for (const r of rules) {
      if (r.peer !== undefined) (r.action === 'block' ? acl.blockPeer : acl.allowPeer)(r.peer, r);
      else (r.action === 'block' ? acl.blockCidr : acl.allowCidr)(r.cidr!, r);
    }
    expect(acl.check(alice).reason).toBe('peer blocked: spam');
    expect(acl.size).toBe(2);
  });

  it.each([
    [{ action: 'block' }, /exactly one of peer or cidr/],
    [{ peer: alice, cidr: '10.0.0.0/8', action: 'block' }, /exactly one of peer or cidr/],
    [{ peer: 'x', action: 'block' }, /^peer: peer id "x"/],
    [{ cidr: '10.0.0.0/99', action: 'allow' }, /^cidr: CIDR "10.0.0.0\/99" has prefix length/],
    [{ peer: alice, action: 'deny' }, /^action:/],
  ])('refuses %j', (input, message) => {
    expect(firstIssue(accessRuleSchema.safeParse(input))).toMatch(message);
  });
});

describe('tunable schemas', () => {
  it('parsed values construct the primitives', () => {
    expect(createBackoff(backoffInitSchema.parse({ strategy: 'exponential', minMs: 10, maxMs: 20, jitter: 'full' })).maxMs).toBe(20);
    expect(createCircuitBreaker(circuitBreakerInitSchema.parse({ failureThreshold: 2 })).state).toBe('closed');
    expect(createRateLimiter(rateLimiterInitSchema.parse({ capacity: 5, refillPerSecond: 0.5 })).capacity).toBe(5);
    expect(createConnectionLimiter(connectionLimiterInitSchema.parse({ maxTotal: 4, maxPerKey: 2 })).maxPerKey).toBe(2);
  });

  it('refuses inconsistent or out-of-range values naming the path', () => {
    expect(firstIssue(backoffInitSchema.safeParse({ minMs: 10, maxMs: 5 }))).toBe('maxMs: minMs must not exceed maxMs');
    expect(firstIssue(backoffInitSchema.safeParse({ minMs: 0 }))).toMatch(/^minMs:/);
    expect(firstIssue(circuitBreakerInitSchema.safeParse({ openMs: 1.5 }))).toMatch(/^openMs:/);
    expect(firstIssue(rateLimiterInitSchema.safeParse({ capacity: 1, refillPerSecond: 0 }))).toMatch(/^refillPerSecond:/);
    expect(firstIssue(connectionLimiterInitSchema.safeParse({ maxTotal: 2, maxPerKey: 3 }))).toBe('maxPerKey: maxPerKey must not exceed maxTotal');
  });
});
