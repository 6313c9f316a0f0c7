/**
 * @edgebox/p2p: a libp2p peer network with authenticated, encrypted named streams.
 *
 * @example
 * import { createP2pService } from '@edgebox/p2p';
 * const p2p = createP2pService();
 * await p2p.start({ identity: { keyFile: 'key.pem' }, listen: ['/ip4/0.0.0.0/tcp/4001'], streams: ['chat'] });
 * for await (const m of p2p.network!.messages()) console.log(m.peer, m.stream, m.data);
 */
export { P2P_ERROR_CODES, P2pError, isP2pError, type P2pErrorCode, type P2pErrorOptions } from './errors.js';
export * from './constants.js';
export {
  createAccessGater,
  createLibp2pNode,
  hangUpBlocked,
  libp2pKeyFromIdentity,
  type Libp2pNodeComponents,
  type Libp2pNodeInit,
  type P2pLibp2p,
} from './node.js';
export { createHandshakeCredentials, runHandshake, type HandshakeCredentials, type P2pHandshake, type RunHandshakeInit } from './handshake.js';
export {
  CAP_ACKS,
  CAP_PRIORITIES,
  CAP_RESUMPTION,
  CAPABILITIES_BYTES,
  decodeCapabilities,
  encodeCapabilities,
  negotiateCapabilities,
  noCapabilities,
  type Capabilities,
} from './capabilities.js';
export {
  createTicketIssuer,
  createTicketStore,
  deriveResumptionSecret,
  type OpenedTicket,
  type StoredTicket,
  type TicketCounters,
  type TicketIssuer,
  type TicketIssuerInit,
  type TicketRejection,
  type TicketStore,
} from './tickets.js';
export { createSendQueue, priorityIndex, type Priority, type SendQueue, type SendQueueComponents, type SendQueueCounters } from './send-queue.js';
export { addPeerToBookFile, editBlockRule, type BlockEdit } from './cli-files.js';
export {
  createSession,
  deriveStreamKey,
  OPEN_BAD_AUTH,
  OPEN_MALFORMED,
  OPEN_OK,
  OPEN_REPLAYED,
  OPEN_RESULT_NAMES,
  type OpenResultName,
  type Session,
  type SessionComponents,
  type SessionCounters,
  type SessionInit,
} from './session.js';
export { createMessageFeed, type MessageFeed, type MessageSubscription, type P2pMessage } from './feed.js';
export {
  checkStreamName,
  maxFramePayload,
  receiveStream,
  sendFrame,
  streamProtocol,
  type DecryptError,
  type DropReason,
  type ReceiveContext,
} from './streams.js';
export {
  createP2pNetwork,
  type NetworkCounters,
  type P2pNetwork,
  type P2pNetworkComponents,
  type P2pNetworkEvents,
  type P2pNetworkInit,
  type PeerStatus,
  type SendOptions,
  type StreamStats,
} from './network.js';
export { P2pConfigSchema, type P2pConfig } from './config.js';
export {
  createP2pEventPublisher,
  P2P_EVENT_KINDS,
  P2pAccessChangedEvent,
  P2pHandshakeCompletedEvent,
  P2pHandshakeFailedEvent,
  P2pPeersChangedEvent,
  P2pPeerStateEvent,
  type P2pEventPublisher,
} from './events.js';
export { registerP2pMetrics } from './metrics.js';
export { createP2pService, loadIdentity, peerIdOfKeyFile, type P2pEvents, type P2pService, type P2pServiceInit, type P2pStatus } from './service.js';
export { formatPeerTable, formatStats, P2P_USAGE, runP2pCli, type P2pIo } from './cli.js';
