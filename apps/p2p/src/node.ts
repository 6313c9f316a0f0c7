/**
 * The libp2p node under the p2p app: TCP and memory transports, Noise, yamux, identify and
 * ping, keyed by the node's Ed25519 identity from @edgebox/crypto, with the connection
 * manager's limits and a connection gater backed by the @edgebox/peers access list.
 *
 * Why a gater and a hang-up both: the gater refuses new dials and connections of blocked
 * peers; a connection that was up before the peer was blocked is closed by
 * `hangUpBlocked()` (the service calls it on every access-list change).
 */
import '@edgebox/runtime/polyfill'; // libp2p 3 calls Promise.withResolvers: absent on Node 20
import type { KeyObject } from 'node:crypto';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { memory } from '@libp2p/memory';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify, type Identify } from '@libp2p/identify';
import { ping, type Ping } from '@libp2p/ping';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { ConnectionGater, PeerId, PrivateKey } from '@libp2p/interface';
import type { Identity } from '@edgebox/crypto';
import { zeroize } from '@edgebox/crypto';
import type { AccessList } from '@edgebox/peers';
import { P2pError, invalidArgument } from './errors.js';

/** The libp2p node type this app runs (identify and ping services). */
export type P2pLibp2p = Libp2p<{ identify: Identify; ping: Ping }>;

/** Options of createLibp2pNode(). */
export interface Libp2pNodeInit {
  /** Multiaddrs to listen on: `/ip4/127.0.0.1/tcp/0`, `/memory/<name>`. */
  listen: readonly string[];
  /** Connections kept before libp2p prunes (MaxPeers). Default 300. */
  maxConnections?: number;
  /** Inbound connections still upgrading (Noise, yamux) at once. Default 10. */
  maxPendingConnections?: number;
  /** Dials queued at most. Default 100. */
  maxDialQueueLength?: number;
  /** Inbound connections per second from one host (libp2p's default is 5). */
  inboundConnectionThreshold?: number;
  /** Streams per protocol and connection, each way (MaxStreamsPerPeer at the muxer). Default 32. */
  maxStreamsPerProtocol?: number;
}

/** What createLibp2pNode() needs from outside. */
export interface Libp2pNodeComponents {
  /** The node's Ed25519 identity: its peer id is this key's. */
  identity: Identity;
  /** The block list consulted by the gater (allow-by-default lists refuse only what they list). */
  accessList: AccessList;
}

/**
 * The libp2p private key of an Ed25519 identity (same key, so the same peer id as
 * `peerIdFromIdentity`). The seed copy made on the way is wiped.
 *
 * @example const key = await libp2pKeyFromIdentity(generateIdentity());
 */
export async function libp2pKeyFromIdentity(identity: Pick<Identity, 'privateKey'>): Promise<PrivateKey> {
  const key: KeyObject = identity.privateKey;
  if (key.asymmetricKeyType !== 'ed25519' || key.type !== 'private') {
    throw invalidArgument('identity.privateKey', key.asymmetricKeyType ?? key.type, 'an ed25519 private key');
  }
  // PKCS#8 of Ed25519 (RFC 8410) ends with the 32-byte seed.
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const seed = new Uint8Array(der.subarray(der.length - 32));
  try {
    return await generateKeyPairFromSeed('Ed25519', seed);
  } finally {
    zeroize(seed, der);
  }
}

/**
 * A connection gater that refuses blocked peers and addresses (the access list decides).
 *
 * @example const gater = createAccessGater(acl); // libp2p({ connectionGater: gater })
 */
export function createAccessGater(accessList: AccessList): ConnectionGater {
  const denied = (peer: PeerId, address?: string): boolean => !accessList.check(peer.toString(), address).allowed;
  return {
    denyDialPeer: (peer) => denied(peer),
    denyInboundEncryptedConnection: (peer, conn) => denied(peer, conn.remoteAddr.toString()),
    denyOutboundEncryptedConnection: (peer, conn) => denied(peer, conn.remoteAddr.toString()),
  };
}

/**
 * Create (not start) the libp2p node.
 *
 * @example
 * const node = await createLibp2pNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }, { identity, accessList });
 * await node.start();
 */
export async function createLibp2pNode(init: Libp2pNodeInit, components: Libp2pNodeComponents): Promise<P2pLibp2p> {
  const privateKey = await libp2pKeyFromIdentity(components.identity);
  const maxStreams = init.maxStreamsPerProtocol ?? 32;
  try {
    return await createLibp2p({
      privateKey,
      start: false,
      addresses: { listen: [...init.listen] },
      transports: [tcp(), memory()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: createAccessGater(components.accessList),
      connectionManager: {
        maxConnections: init.maxConnections ?? 300,
        maxIncomingPendingConnections: init.maxPendingConnections ?? 10,
        maxDialQueueLength: init.maxDialQueueLength ?? 100,
        inboundConnectionThreshold: init.inboundConnectionThreshold ?? 5,
      },
      services: {
        identify: identify({ maxInboundStreams: maxStreams, maxOutboundStreams: maxStreams }),
        ping: ping({ maxInboundStreams: maxStreams, maxOutboundStreams: maxStreams }),
      },
    });
  } catch (err) {
    throw new P2pError('P2P_START', `libp2p node: ${(err as Error).message}`, { cause: err, details: { listen: [...init.listen] } });
  }
}

/**
 * Close every connection of peers the access list now blocks; returns the peers hung up on.
 *
 * @example acl.onChange(() => void hangUpBlocked(node, acl));
 */
export async function hangUpBlocked(node: P2pLibp2p, accessList: AccessList): Promise<string[]> {
  const closed: string[] = [];
  for (const conn of node.getConnections()) {
    const peer = conn.remotePeer.toString();
    if (accessList.check(peer, conn.remoteAddr.toString()).allowed) continue;
    closed.push(peer);
    await conn.close().catch(() => conn.abort(new P2pError('P2P_BLOCKED', `peer ${peer} is blocked`)));
  }
  return closed;
}
