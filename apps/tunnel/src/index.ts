/**
 * @edgebox/tunnel: the tunnel stream protocol (docs/protocols/tunnel.md): frame bodies,
 * sealed framing with in-band rekey, and a multiplexer of Duplex streams over any byte
 * transport.
 */
export * from './constants.js';
export { TUNNEL_ERROR_CODES, TunnelError, isTunnelError, type TunnelErrorCode, type TunnelErrorOptions } from './errors.js';
export * from './frames.js';
export { createFrameSealer, nextTrafficKey, type FrameSealer, type RekeyLimits, type SessionKeys } from './seal.js';
export { createMux, type Mux, type MuxComponents, type MuxInit, type MuxStats } from './mux.js';
export type { TunnelStream } from './stream.js';
export { streamPair, type StreamPairInit } from './stream-pair.js';
export { acceptStreamHandshake, initiateStreamHandshake, type StreamHandshake, type StreamHandshakeOptions } from './handshake.js';
export {
  TunnelConfigSchema,
  ExposedServiceSchema,
  ForwardSchema,
  SourceSectionSchema,
  DestSectionSchema,
  TUNNEL_OPS_PORT,
  TUNNEL_DEST_PORT,
  splitHostPort,
  type TunnelConfig,
  type TunnelConfigInput,
  type ExposedService,
} from './config.js';
export { loadCredentials, suitesFor, createInitiator, createResponder, HYBRID_SUITES, CLASSICAL_SUITES, type TunnelCredentials } from './credentials.js';
export { dialSession, acceptSession, type Session, type SessionHooks, type RecoverySignal, type RecoveryReason } from './session.js';
export { startSource, type SourceEngine, type SourceStatus, type ListenerStatus } from './source.js';
export { startDest, type DestEngine, type DestStatus } from './dest.js';
export { EngineCounters, type EngineHooks, type SessionStatus } from './engine.js';
export { splice } from './pipe.js';
export { registerTunnelMetrics } from './metrics.js';
export { createTunnelEventPublisher, TUNNEL_EVENT_KINDS, type TunnelEventPublisher } from './events.js';
export { createTunnelService, startTunnel, type TunnelService, type TunnelServiceInit, type TunnelStatus, type TunnelEvents } from './service.js';
