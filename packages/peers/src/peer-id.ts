/**
 * Peer identity: the libp2p peer id of an Ed25519 public key (libp2p/specs peer-ids.md).
 *
 *   public key (32)  ──protobuf──▶  08 01 12 20 ‖ key            (PublicKey{Type=Ed25519, Data})
 *                    ──multihash─▶  00 24 ‖ protobuf              (identity: 36 bytes <= 42)
 *                    ──base58btc─▶  "12D3KooW..."                 (canonical text, 52 chars)
 *   CID form:        "b" ‖ base32( 01 72 ‖ multihash )            (CIDv1, libp2p-key codec)
 *
 * Because the identity multihash inlines the key, the id *is* the key: p2p binds an edgebox
 * identity to the peer Noise authenticated by comparing ids, with no lookup. Only Ed25519 ids
 * are accepted; sha2-256 ids (`Qm...`, RSA/ECDSA keys) are refused with a message that says so.
 *
 * Node's Ed25519 import does not check that 32 bytes are a curve point, so neither does this
 * module: a peer id proves nothing until a signature by its key verifies (verifyPeerSignature)
 * or a handshake authenticates it.
 */
import { verifySignature, type Identity } from '@edgebox/crypto';
import {
  CID_VERSION_1,
  ED25519_PUBLIC_KEY_BYTES,
  LIBP2P_ED25519_PUBLIC_KEY_PROTOBUF_BYTES,
  LIBP2P_KEY_TYPE_ED25519,
  MULTIBASE_BASE32,
  MULTIBASE_BASE58BTC,
  MULTICODEC_LIBP2P_KEY,
  MULTIHASH_IDENTITY,
  MULTIHASH_SHA2_256,
  PEER_ID_MAX_TEXT_LENGTH,
} from './constants.js';
import { PeersError, describeValue } from './errors.js';
import { base32Decode, base32Encode, base58btcDecode, base58btcEncode, readVarint } from './multiformats.js';

/** A parsed peer id. */
export interface PeerIdInfo {
  /** Canonical text form: base58btc of the multihash (`12D3KooW...`). */
  id: string;
  /** The raw 32-byte Ed25519 public key the id inlines. */
  publicKey: Uint8Array;
  /** The binary peer id: identity multihash of the protobuf-encoded key (38 bytes). */
  multihash: Uint8Array;
}

const KEY_TYPE_NAMES = ['RSA', 'Ed25519', 'Secp256k1', 'ECDSA'];
// 08 = field 1 varint (Type), 01 = Ed25519, 12 = field 2 length-delimited (Data), 20 = 32.
const PROTOBUF_HEADER = Uint8Array.of(0x08, LIBP2P_KEY_TYPE_ED25519, 0x12, ED25519_PUBLIC_KEY_BYTES);
const MULTIHASH_HEADER = Uint8Array.of(MULTIHASH_IDENTITY, LIBP2P_ED25519_PUBLIC_KEY_PROTOBUF_BYTES);
const MULTIHASH_BYTES = MULTIHASH_HEADER.length + LIBP2P_ED25519_PUBLIC_KEY_PROTOBUF_BYTES;

function badPeerId(text: unknown, why: string): PeersError {
  return new PeersError('PEERS_INVALID_PEER_ID', `peer id ${describeValue(text)} ${why}`, { details: { field: 'peerId' } });
}

function checkPublicKey(publicKey: unknown): Uint8Array {
  if (publicKey instanceof Uint8Array && publicKey.length === ED25519_PUBLIC_KEY_BYTES) return publicKey;
  const shown = publicKey instanceof Uint8Array ? `of ${publicKey.length} bytes` : describeValue(publicKey);
  throw new PeersError('PEERS_INVALID_PEER_ID', `ed25519 public key ${shown} is not ${ED25519_PUBLIC_KEY_BYTES} raw bytes`, {
    details: { field: 'publicKey' },
  });
}

/**
 * The libp2p `PublicKey` protobuf of an Ed25519 key: `08 01 12 20 ‖ key` (36 bytes), the
 * deterministic field-ordered encoding the peer-ids spec asks for.
 *
 * @example marshalLibp2pPublicKey(id.publicKey) // 36 bytes, as libp2p identify sends it
 */
export function marshalLibp2pPublicKey(publicKey: Uint8Array): Uint8Array {
  const key = checkPublicKey(publicKey);
  const out = new Uint8Array(LIBP2P_ED25519_PUBLIC_KEY_PROTOBUF_BYTES);
  out.set(PROTOBUF_HEADER, 0);
  out.set(key, PROTOBUF_HEADER.length);
  return out;
}

/**
 * The raw Ed25519 key of a libp2p `PublicKey` protobuf. Strict: only the canonical 36-byte
 * Ed25519 encoding is accepted; other key types are named in the error.
 *
 * @example const raw = unmarshalLibp2pPublicKey(identifyMessage.publicKey);
 */
export function unmarshalLibp2pPublicKey(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw badKey(describeValue(bytes), 'is not a Uint8Array');
  if (bytes.length >= 2 && bytes[0] === 0x08 && bytes[1] !== LIBP2P_KEY_TYPE_ED25519) {
    const type = bytes[1]!;
    throw badKey(`of type ${type} (${KEY_TYPE_NAMES[type] ?? 'unknown'})`, 'is not Ed25519 (type 1)');
  }
  if (bytes.length !== LIBP2P_ED25519_PUBLIC_KEY_PROTOBUF_BYTES || !startsWith(bytes, PROTOBUF_HEADER)) {
    throw badKey(`of ${bytes.length} bytes`, `is not the canonical Ed25519 encoding 08 01 12 20 ‖ 32 bytes`);
  }
  return bytes.slice(PROTOBUF_HEADER.length); // a copy the caller owns (cold path)
}

function badKey(shown: string, why: string): PeersError {
  return new PeersError('PEERS_INVALID_PEER_ID', `libp2p public key protobuf ${shown} ${why}`, { details: { field: 'publicKey' } });
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * The binary peer id (identity multihash of the protobuf key, 38 bytes) of an Ed25519 key.
 *
 * @example const bytes = peerIdMultihash(id.publicKey); // 00 24 08 01 12 20 ‖ key
 */
export function peerIdMultihash(publicKey: Uint8Array): Uint8Array {
  const key = checkPublicKey(publicKey);
  const out = new Uint8Array(MULTIHASH_BYTES);
  out.set(MULTIHASH_HEADER, 0);
  out.set(PROTOBUF_HEADER, MULTIHASH_HEADER.length);
  out.set(key, MULTIHASH_HEADER.length + PROTOBUF_HEADER.length);
  return out;
}

/**
 * The canonical peer id text of an Ed25519 public key; equal to what libp2p prints for the same
 * key (`peerIdFromPrivateKey(k).toString()`).
 *
 * @example peerIdFromPublicKey(identity.publicKey) // '12D3KooW...'
 */
export function peerIdFromPublicKey(publicKey: Uint8Array): string {
  return base58btcEncode(peerIdMultihash(publicKey));
}

/**
 * The peer id of an @edgebox/crypto identity.
 *
 * @example const me = peerIdFromIdentity(generateIdentity());
 */
export function peerIdFromIdentity(identity: Pick<Identity, 'publicKey'>): string {
  return peerIdFromPublicKey(identity.publicKey);
}

/**
 * Parse a peer id in either text form the spec defines (raw base58btc multihash `12D3KooW...`,
 * or a CIDv1 with the libp2p-key codec in multibase base32 `b...` / base58btc `z...`).
 * Throws PEERS_INVALID_PEER_ID naming what is wrong.
 *
 * @example
 * const { id, publicKey } = parsePeerId(text); // id is the canonical 12D3KooW... form
 */
export function parsePeerId(text: string): PeerIdInfo {
  if (typeof text !== 'string' || text.length === 0 || text.length > PEER_ID_MAX_TEXT_LENGTH) {
    throw badPeerId(text, `is not a string of 1..${PEER_ID_MAX_TEXT_LENGTH} characters`);
  }
  let multihash: Uint8Array;
  if (text.startsWith('1') || text.startsWith('Qm')) {
    const bytes = base58btcDecode(text);
    if (bytes === undefined) throw badPeerId(text, 'has a character outside the base58btc alphabet');
    multihash = bytes;
  } else if (text.startsWith(MULTIBASE_BASE32) || text.startsWith(MULTIBASE_BASE58BTC)) {
    multihash = multihashOfCid(text);
  } else {
    throw badPeerId(text, 'is neither a base58btc multihash (12D3KooW...) nor a base32 CID (b...)');
  }
  const publicKey = keyOfMultihash(text, multihash);
  return { id: base58btcEncode(multihash), publicKey, multihash };
}

function multihashOfCid(text: string): Uint8Array {
  const body = text.slice(1);
  const bytes = text.startsWith(MULTIBASE_BASE32) ? base32Decode(body) : base58btcDecode(body);
  if (bytes === undefined) throw badPeerId(text, `has a character outside the ${text.startsWith('b') ? 'base32' : 'base58btc'} alphabet`);
  const version = readVarint(bytes, 0);
  if (version?.value !== CID_VERSION_1) throw badPeerId(text, `is a CID of version ${version?.value ?? '?'}, expected CIDv1`);
  const codec = readVarint(bytes, version.length);
  if (codec?.value !== MULTICODEC_LIBP2P_KEY) {
    throw badPeerId(text, `is a CID with codec 0x${(codec?.value ?? 0).toString(16)}, expected libp2p-key (0x72)`);
  }
  return bytes.subarray(version.length + codec.length);
}

function keyOfMultihash(text: string, multihash: Uint8Array): Uint8Array {
  const code = readVarint(multihash, 0);
  const length = code === undefined ? undefined : readVarint(multihash, code.length);
  if (code === undefined || length === undefined) throw badPeerId(text, 'is not a multihash (bad varint header)');
  if (code.value === MULTIHASH_SHA2_256) {
    throw badPeerId(text, 'is a sha2-256 multihash (an RSA or ECDSA key); only Ed25519 peer ids (identity multihash, 12D3KooW...) are supported');
  }
  if (code.value !== MULTIHASH_IDENTITY) throw badPeerId(text, `uses multihash code 0x${code.value.toString(16)}, expected identity (0x00)`);
  const digest = multihash.subarray(code.length + length.length);
  if (digest.length !== length.value) throw badPeerId(text, `has a multihash digest of ${digest.length} bytes, its header says ${length.value}`);
  try {
    return unmarshalLibp2pPublicKey(digest);
  } catch (cause) {
    throw new PeersError('PEERS_INVALID_PEER_ID', `peer id ${describeValue(text)} does not inline an Ed25519 key: ${(cause as Error).message}`, {
      cause,
      details: { field: 'peerId' },
    });
  }
}

/**
 * True when `text` parses as an Ed25519 peer id in any accepted form. Never throws.
 *
 * @example if (!isPeerId(body.peer)) return reply(400);
 */
export function isPeerId(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  try {
    parsePeerId(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The canonical (base58btc `12D3KooW...`) form of a peer id given in any accepted form; use it
 * as a map key so a CID-form id and its legacy form meet.
 *
 * @example book.get(normalizePeerId('bafzaajaiaejc...'));
 */
export function normalizePeerId(text: string): string {
  return parsePeerId(text).id;
}

/**
 * The raw Ed25519 public key a peer id inlines.
 *
 * @example verifySignature(publicKeyFromPeerId(peer), msg, sig);
 */
export function publicKeyFromPeerId(text: string): Uint8Array {
  return parsePeerId(text).publicKey;
}

/**
 * The CIDv1 text form (multibase base32, libp2p-key codec) of a peer id.
 *
 * @example peerIdToCid('12D3KooW...') // 'bafzaajaiaejc...'
 */
export function peerIdToCid(text: string): string {
  const { multihash } = parsePeerId(text);
  const cid = new Uint8Array(2 + multihash.length);
  cid[0] = CID_VERSION_1;
  cid[1] = MULTICODEC_LIBP2P_KEY;
  cid.set(multihash, 2);
  return MULTIBASE_BASE32 + base32Encode(cid);
}

/**
 * True when `text` is the peer id of `publicKey` (any accepted text form). Never throws: a
 * malformed id or key is false. p2p uses it to bind the edgebox handshake identity to the peer
 * id Noise authenticated.
 *
 * @example if (!peerIdMatchesPublicKey(connection.remotePeer.toString(), result.peer.publicKey)) hangUp();
 */
export function peerIdMatchesPublicKey(text: string, publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  let info: PeerIdInfo;
  try {
    info = parsePeerId(text);
  } catch {
    return false;
  }
  for (let i = 0; i < ED25519_PUBLIC_KEY_BYTES; i++) if (info.publicKey[i] !== publicKey[i]) return false;
  return true;
}

/**
 * Verify an Ed25519 signature by the key a peer id inlines. Never throws: a malformed id, key
 * or signature is false.
 *
 * @example if (!verifyPeerSignature(peer, challenge, signature)) refuse();
 */
export function verifyPeerSignature(text: string, message: Uint8Array, signature: Uint8Array): boolean {
  let info: PeerIdInfo;
  try {
    info = parsePeerId(text);
  } catch {
    return false;
  }
  return verifySignature(info.publicKey, message, signature);
}
