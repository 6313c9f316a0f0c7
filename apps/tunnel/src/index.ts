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
