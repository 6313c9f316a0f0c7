/**
 * @edgebox/links: network paths for the bonding data plane.
 *
 * Pure logic, allocation-free on per-packet calls: per-link estimators (RTT + RTO per RFC 6298,
 * windowed min RTT, RFC 3550 jitter, loss from per-link sequence numbers, delivery rate), the
 * link state machine with hysteresis, the idle-link probe policy, token buckets and the
 * schedulers (aggregate, lowest-latency, redundant) with priority tiers, rate caps and data caps.
 *
 * I/O (Linux, CAP_NET_ADMIN): the TUN device (openTunDevice), UDP links bound to an uplink's
 * source address (createUdpLink), the source policy routing that makes them leave by that
 * uplink (installSourceRoute), and uplink discovery from netlink (createLinkDiscovery).
 *
 * Policy: ../../docs/architecture.md "Data-plane rules"; what users need: issue 3.
 *
 * @example
 * const discovery = createLinkDiscovery({ exclude: ['bond*'] });
 * discovery.on('added', async ({ uplink }) => {
 *   const link = await createUdpLink({ id: uplink.name, localAddress: uplink.addresses[0]!.address, remote: server,
 *     table: 100 + uplink.index, gateway: uplink.gateway4, interface: uplink.name });
 *   link.onMessage((data) => receive(link.id, data));
 * });
 * await discovery.start();
 * const tun = await openTunDevice({ name: 'bond0', mtu: 1400, addresses: ['10.8.0.2/24'] });
 */
export * from './errors.js';
export * from './constants.js';
export { seqDiff32, isU32 } from './seq.js';
export { createWindowedFilter, type WindowedFilter, type WindowedFilterInit } from './windowed-filter.js';
export { createRttEstimator, type RttEstimator, type RttEstimatorInit } from './rtt.js';
export { createJitterEstimator, type JitterEstimator } from './jitter.js';
export { createLossEstimator, type LossEstimator, type LossEstimatorInit, type LossOutcome } from './loss.js';
export {
  createDeliveryRateEstimator,
  type DeliveryRateEstimator,
  type DeliveryRateInit,
  type DeliveryRateComponents,
} from './delivery-rate.js';
export { createTokenBucket, defaultBurstBytes, type TokenBucket, type TokenBucketInit } from './token-bucket.js';
export {
  createLinkStateMachine,
  isUsableState,
  LINK_STATES,
  LINK_TRANSITIONS,
  type LinkState,
  type LinkStateReason,
  type LinkHealth,
  type LinkTransition,
  type LinkStateInit,
  type LinkStateMachine,
} from './link-state.js';
export { createProbePolicy, type ProbePolicy, type ProbePolicyInit } from './probe-policy.js';
export {
  createScheduler,
  createAggregateScheduler,
  createLowestLatencyScheduler,
  createRedundantScheduler,
  SCHEDULER_KINDS,
  type Scheduler,
  type SchedulerKind,
  type SchedulerInit,
  type SchedulerLink,
  type SchedulerLinkEstimators,
  type LinkTier,
} from './scheduler.js';
export {
  openTunDevice,
  closeAllTunDevices,
  TUN_MAX_PACKET_BYTES,
  TUN_DEFAULT_READ_BATCH,
  type TunDevice,
  type TunDeviceInit,
  type TunPacketHandler,
  type TunStats,
} from './tun-device.js';
export {
  installSourceRoute,
  removeSourceRoute,
  listSourceRoutes,
  canonicalAddress,
  POLICY_ROUTE_PROTOCOL,
  POLICY_RULE_PRIORITY_MIN,
  POLICY_RULE_PRIORITY_MAX,
  type SourceRoute,
  type SourceRouteInit,
  type SourceRuleInfo,
} from './policy-routing.js';
export {
  createBatchUdpSocket,
  BATCH_UDP_DEFAULT_BATCH,
  BATCH_UDP_DEFAULT_SLOT_BYTES,
  BATCH_UDP_MAX_ROUNDS,
  type BatchUdpSocket,
  type BatchUdpSocketInit,
  type BatchUdpHandler,
  type BatchUdpStats,
} from './batch-udp.js';
export { createTunBatchIo, type TunBatchIo, type TunBatchIoInit, type TunBatchStats } from './batch-tun.js';
export { loadBatchIo, batchIoAvailable, packAddress, unpackAddress, ADDR_SLOT_BYTES, BATCH_IO_MAX, type BatchData } from './batch-native.js';
export { BATCHED_LINK_QUEUE } from './udp-link-batched.js';
export { createUdpLink, type UdpLink, type UdpLinkInit, type UdpLinkStats, type UdpEndpoint, type UdpMessageHandler } from './udp-link.js';
export {
  createLinkDiscovery,
  DISCOVERY_DEBOUNCE_MS,
  DISCOVERY_RESTART_MS,
  DISCOVERY_RESTART_MAX_MS,
  type LinkDiscovery,
  type LinkDiscoveryInit,
  type LinkDiscoveryStats,
} from './discovery.js';
export { buildSnapshot, diffSnapshots, type UplinkCandidate, type UplinkAddress, type UplinkEvent, type UplinkChange, type UplinkFilters } from './uplink-snapshot.js';
export { compileGlob, matchesAny } from './glob.js';
