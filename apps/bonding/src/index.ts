/**
 * @edgebox/bonding: the multi-link bonding VPN (docs/protocols/bonding.md, issue 3).
 *
 * The app (ARCHITECTURE.md rule 2): createBondingService() (service.ts) hosts the client or
 * server data plane (client.ts / server.ts: send.ts, receive.ts, timers.ts, handshake.ts,
 * nat.ts) with its config schema (config.ts), events and metrics; cli.ts is edgebox-bond.
 *
 * The data-plane core that needs no sockets and no root:
 * - constants.ts     type numbers, sizes, rekey limits, reorder defaults
 * - inner-header.ts  the 12-byte encrypted inner header (§3)
 * - feedback.ts      FEEDBACK payloads (§5)
 * - session.ts       seal / open of datagrams with one handshake's keys (§2, §3, §6)
 * - session-table.ts a server's sessions by receiver index, rekey grace, idle expiry
 * - reorder.ts       the bounded reorder buffer (§4)
 * - mtu.ts           overhead, TUN MTU, TCP MSS clamp (§7)
 * - path-mtu.ts      a link's path MTU search with sized PROBEs (§7)
 *
 * @example
 * import { createSession, createInnerHeader, TYPE_DATA, OPEN_OK } from '@edgebox/bonding';
 * const session = createSession(handshakeResult, { nowMs: performance.now() });
 * const n = session.seal(TYPE_DATA, createInnerHeader({ linkId: 0 }), packet, slot);
 * if (peer.open(slot.subarray(0, n), performance.now()) === OPEN_OK) use(peer.opened.payload);
 */
export { BONDING_ERROR_CODES, BondingError, isBondingError, type BondingErrorCode, type BondingErrorOptions } from './errors.js';
export * from './constants.js';
export {
  createInnerHeader,
  encodeInnerHeader,
  decodeInnerHeader,
  tryDecodeInnerHeader,
  echoHoldMs,
  rttSampleMs,
  type InnerHeader,
} from './inner-header.js';
export {
  createFeedbackReport,
  encodeFeedback,
  decodeFeedback,
  tryDecodeFeedback,
  feedbackLength,
  type FeedbackEntry,
  type FeedbackReport,
} from './feedback.js';
export {
  createSession,
  peekReceiverIndex,
  OPEN_OK,
  OPEN_TOO_SHORT,
  OPEN_MALFORMED,
  OPEN_WRONG_SESSION,
  OPEN_BAD_AUTH,
  OPEN_REPLAYED,
  OPEN_EXPIRED,
  OPEN_CODE_NAMES,
  type OpenCode,
  type BondingSession,
  type SessionInit,
  type SessionCounters,
  type OpenedDatagram,
} from './session.js';
export {
  createSessionTable,
  clientKeyOf,
  type SessionTable,
  type SessionTableInit,
  type SessionTableCounters,
  type ClientEntry,
  type IndexEntry,
  type InstallOutcome,
} from './session-table.js';
export {
  createReorderBuffer,
  reorderWaitMs,
  type ReorderBuffer,
  type ReorderInit,
  type ReorderCounters,
  type ReorderDeliver,
} from './reorder.js';
export { RetransmitBuffer, onNack, requestRetransmits, retransmitWaitMs } from './retransmit.js';
export {
  tunnelOverheadBytes,
  tunMtuFor,
  tcpMssFor,
  clampTcpMss,
  checksumReplace,
  type IpFamily,
  type LinkPathMtu,
} from './mtu.js';
export { createPathMtuSearch, interfaceMtuToward, type PathMtuSearch, type PathMtuSearchInit } from './path-mtu.js';
export {
  createBondingService,
  type BondingEvents,
  type BondingStatus,
  type BondingPeerStatus,
  type BondingLinkStatus,
  type BondingServiceInit,
  type BondingService,
} from './service.js';
export {
  createBondingEventPublisher,
  BONDING_EVENT_KINDS,
  BondingLinkStateEvent,
  BondingSessionEstablishedEvent,
  BondingSessionRekeyedEvent,
  BondingSessionClosedEvent,
  BondingSessionExpiredEvent,
  BondingHandshakeFailedEvent,
  BondingMtuChangedEvent,
  type BondingEventPublisher,
  type BondingEventPublisherInit,
} from './events.js';
export {
  BondingConfigSchema,
  parseHostPort,
  parseCidr,
  decodePsk,
  type BondingConfig,
  type BondingConfigInput,
  type BondingLinkConfig,
  type BondingServerClientConfig,
} from './config.js';
export { runBondCli, formatLinkTable, BOND_USAGE, type BondIo } from './cli.js';
export { natRuleset, subnetOf, NAT_TABLE, type NatInit, type NatHandle } from './nat.js';
export { loadPsk } from './handshake.js';
