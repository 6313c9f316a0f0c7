// Test helpers: libp2p nodes on the memory transport or loopback TCP, stopped after each test.
import { generateIdentity, type HandshakeResult, type Identity } from '@edgebox/crypto';
import { createAccessList, type AccessList } from '@edgebox/peers';
import { createLibp2pNode, type P2pLibp2p } from '../src/node.js';
import { createP2pNetwork, type P2pNetwork, type P2pNetworkComponents, type P2pNetworkInit } from '../src/network.js';
import type { P2pMessage } from '../src/feed.js';

let memoryCounter = 0;

/** A listen address: a fresh memory address, or loopback TCP on port 0. */
export function listenAddress(transport: 'memory' | 'tcp'): string {
  return transport === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : `/memory/p2p-test-${process.pid}-${++memoryCounter}`;
}

export interface TestNode {
  node: P2pLibp2p;
  identity: Identity;
  accessList: AccessList;
}

/** A started libp2p node registered in `cleanup`. */
export async function startNode(transport: 'memory' | 'tcp', cleanup: Array<() => Promise<void>>): Promise<TestNode> {
  const identity = generateIdentity();
  const accessList = createAccessList();
  const node = await createLibp2pNode({ listen: [listenAddress(transport)] }, { identity, accessList });
  await node.start();
  cleanup.push(async () => {
    await node.stop();
  });
  return { node, identity, accessList };
}

/** A HandshakeResult with chosen keys (for sessions without a handshake: vectors, properties). */
export function fakeHandshakeResult(fields: {
  aead?: 'chacha20-poly1305' | 'aes-256-gcm';
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  sendNoncePrefix: Uint8Array;
  receiveNoncePrefix: Uint8Array;
  transcriptHash: Uint8Array;
  role?: 'initiator' | 'responder';
}): HandshakeResult {
  const aead = fields.aead ?? 'chacha20-poly1305';
  return {
    version: 1,
    suite: aead === 'aes-256-gcm' ? 'x25519-mlkem768-aes256gcm' : 'x25519-mlkem768-chacha20poly1305',
    aead,
    role: fields.role ?? 'initiator',
    sendKey: fields.sendKey,
    receiveKey: fields.receiveKey,
    sendNoncePrefix: fields.sendNoncePrefix,
    receiveNoncePrefix: fields.receiveNoncePrefix,
    localSessionId: 1,
    remoteSessionId: 2,
    peer: { kind: 'psk', pskId: 'test' },
    transcriptHash: fields.transcriptHash,
    destroy: () => undefined,
  };
}

/** Two sessions facing each other (a's send key is b's receive key and so on). */
export function sessionPairResults(aead: 'chacha20-poly1305' | 'aes-256-gcm' = 'chacha20-poly1305'): [HandshakeResult, HandshakeResult] {
  const k1 = new Uint8Array(32).fill(1);
  const k2 = new Uint8Array(32).fill(2);
  const p1 = Uint8Array.of(1, 1, 1, 1);
  const p2 = Uint8Array.of(2, 2, 2, 2);
  const th = new Uint8Array(32).fill(9);
  return [
    fakeHandshakeResult({ aead, sendKey: k1, receiveKey: k2, sendNoncePrefix: p1, receiveNoncePrefix: p2, transcriptHash: th }),
    fakeHandshakeResult({ aead, sendKey: k2, receiveKey: k1, sendNoncePrefix: p2, receiveNoncePrefix: p1, transcriptHash: th, role: 'responder' }),
  ];
}

/** Hex to bytes. */
export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
/** Bytes to hex. */
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A started network (memory or loopback TCP, streams chat + files) stopped by `cleanup`. */
export async function startNetwork(
  transport: 'memory' | 'tcp',
  cleanup: Array<() => Promise<void>>,
  init: Partial<P2pNetworkInit> = {},
  components: Partial<P2pNetworkComponents> = {},
): Promise<P2pNetwork> {
  const net = await createP2pNetwork(
    { listen: [listenAddress(transport)], streams: ['chat', 'files'], ...init },
    { identity: generateIdentity(), accessList: createAccessList(), ...components },
  );
  await net.start();
  cleanup.push(() => net.stop());
  return net;
}

/** The next `count` messages `net` receives (20 s at most). */
export async function collect(net: P2pNetwork, count: number, filter: { streams?: string[] } = {}): Promise<P2pMessage[]> {
  const out: P2pMessage[] = [];
  if (count === 0) return out;
  for await (const m of net.messages({ ...filter, signal: AbortSignal.timeout(20_000) })) {
    out.push(m);
    if (out.length >= count) break;
  }
  return out;
}

/** UTF-8 helpers. */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);
