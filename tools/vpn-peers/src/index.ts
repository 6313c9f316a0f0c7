/**
 * @edgebox/vpn-peers: the peer VPNs edgebox is benchmarked against, run in netlab
 * namespaces: OpenVPN 2.6 (userspace, TLS, AES-256-GCM) and wireguard-go tunnels, iperf3
 * and ping measurements, and BENCH.md rows for them. See README.md.
 */
export * from './errors.js';
export * from './constants.js';
export { startOpenVpnTunnel, OPENVPN_CIPHERS } from './openvpn.js';
export type { OpenVpnTunnel, OpenVpnTunnelOptions, OpenVpnCipher } from './openvpn.js';
export { startWireGuardGoTunnel, uapiSocketPath } from './wireguard-go.js';
export type { WireGuardGoTunnel, WireGuardGoTunnelOptions } from './wireguard-go.js';
export type { PeerName, PeerTunnel } from './tunnel.js';
export { interfaceExists } from './tunnel.js';
export { runIperf, parseIperfJson } from './iperf.js';
export type { IperfOptions, IperfResult, IperfInterval } from './iperf.js';
export { runPing, parsePing } from './ping.js';
export type { PingOptions, PingResult } from './ping.js';
export { measurePeers, preparePeers, peerResultNames, PEER_RESULT_NAMES, PEERS } from './measure.js';
export type { MeasurePeersOptions, PreparedPeers } from './measure.js';
export { generateWireGuardKeyPair, wireGuardPublicKey } from './keys.js';
export type { WireGuardKeyPair } from './keys.js';
export { uapiGet, uapiSet, uapiRequest, formatUapiRequest, parseUapiResponse } from './uapi.js';
export type { UapiEntry, UapiResponse, UapiOptions } from './uapi.js';
export { createThrowawayPki } from './pki.js';
export type { ThrowawayPki } from './pki.js';
export { tunnelAddresses } from './tunnel-net.js';
export type { TunnelAddresses } from './tunnel-net.js';
export { findExecutable } from './tools.js';
export { startStunnelForward, STUNNEL_CIPHER_SUITES } from './stunnel.js';
export type { StunnelForward, StunnelForwardOptions, StunnelCipherSuite } from './stunnel.js';
export { startSshForward, SSH_FORWARD_CIPHERS } from './ssh-forward.js';
export type { SshForward, SshForwardOptions, SshForwardCipher } from './ssh-forward.js';
export { measureTcpForward, forwardResultName, forwardContender } from './forward.js';
export type { TcpForward, TcpForwardOptions, ForwardPeerName, ForwardedPort, MeasureTcpForwardOptions } from './forward.js';
export { prepareForwardPeers, measureForwardPeers, FORWARD_PEERS } from './forward-peers.js';
export type { ForwardPeersOptions, PreparedForwardPeers } from './forward-peers.js';
