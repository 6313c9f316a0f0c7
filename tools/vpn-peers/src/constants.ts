/** Defaults of @edgebox/vpn-peers; every option that takes one says so in its JSDoc. */

/** How long a tunnel may take from spawn to its first ping through it. */
export const START_DEADLINE_MS = 15_000;
/** After SIGTERM, how long stop() waits before SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** Lines of a daemon's output kept in memory (a ring; older lines are dropped). */
export const LOG_KEEP_LINES = 200;
/** Lines of a daemon's output quoted in an error message. */
export const LOG_TAIL_LINES = 25;
/** Poll period while waiting for a socket file or a first ping. */
export const POLL_INTERVAL_MS = 50;

/** UDP port of the OpenVPN server. */
export const OPENVPN_PORT = 1194;
/** Tunnel addresses of OpenVPN: server .1, client .2. */
export const OPENVPN_TUNNEL_NET = '10.201.0.0/24';
/** UDP port of the wireguard-go server end. */
export const WIREGUARD_PORT = 51820;
/** Tunnel addresses of wireguard-go: server .1, client .2. */
export const WIREGUARD_TUNNEL_NET = '10.202.0.0/24';
/** wireguard-go's own default MTU (1500 - 80 bytes of IPv6 + UDP + WireGuard overhead). */
export const WIREGUARD_MTU = 1420;
/** Where wireguard-go puts its UAPI sockets (fixed in wireguard-go, shared by all namespaces). */
export const WIREGUARD_SOCKET_DIR = '/var/run/wireguard';
/** Bound on one UAPI request/response. */
export const UAPI_TIMEOUT_MS = 5_000;

/** TCP port of the iperf3 server. */
export const IPERF_PORT = 5201;
/** iperf3 client connect timeout. */
export const IPERF_CONNECT_TIMEOUT_MS = 3_000;
/** Time allowed beyond an iperf3 test's duration before it is killed. */
export const IPERF_GRACE_MS = 10_000;
/** How long the iperf3 server may take to say it listens. */
export const IPERF_SERVER_READY_MS = 5_000;

/**
 * Forwarded TCP port of each forwarder (listened on in the client node, iperf3's port in the
 * server node): one each, so both forwards and a tunnel on 5201 coexist in one lab.
 */
export const STUNNEL_FORWARD_PORT = 5211;
export const SSH_FORWARD_LOCAL_PORT = 5212;
/** TCP port of the stunnel server end (TLS) on the lab link. */
export const STUNNEL_PORT = 8443;
/** TCP port of the sshd of an `ssh -L` forward on the lab link. */
export const SSH_FORWARD_PORT = 2222;
/** sshd's compiled-in privilege separation directory (Debian's unit creates it; we do when missing). */
export const SSHD_PRIVSEP_DIR = '/run/sshd';

/** Pings per RTT measurement. */
export const PING_COUNT = 10;
/** Seconds between pings (root may go below ping's 0.2 s user minimum; 0.2 is gentle). */
export const PING_INTERVAL_S = 0.2;

/** Debian package of each program this package runs (for NETLAB/VPN_PEERS_TOOL_MISSING messages). */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  openvpn: 'openvpn',
  'wireguard-go': 'wireguard-go',
  wg: 'wireguard-tools',
  openssl: 'openssl',
  iperf3: 'iperf3',
  ping: 'iputils-ping',
  ip: 'iproute2',
  stunnel: 'stunnel4',
  stunnel4: 'stunnel4',
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
};
