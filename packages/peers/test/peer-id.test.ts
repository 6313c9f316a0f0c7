// Peer ids: libp2p spec vectors, round trips in both text forms, and strict refusals.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity, identityFromSeed, signMessage } from '@edgebox/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isPeerId,
  isPeersError,
  marshalLibp2pPublicKey,
  normalizePeerId,
  parsePeerId,
  peerIdFromIdentity,
  peerIdFromPublicKey,
  peerIdMatchesPublicKey,
  peerIdMultihash,
  peerIdToCid,
  publicKeyFromPeerId,
  unmarshalLibp2pPublicKey,
  verifyPeerSignature,
} from '../src/index.js';

interface Vectors {
  ed25519: { privateKeyProtobufHex: string; publicKeyProtobufHex: string; peerId: string };
  examples: { ed25519IdentityBase58: string; sha256Base58: string; sha256Cid: string };
}
const vectors = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'libp2p-peer-ids.json'), 'utf8')) as Vectors;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('libp2p peer-ids spec vectors', () => {
  const privateProto = hex(vectors.ed25519.privateKeyProtobufHex);
  const publicProto = hex(vectors.ed25519.publicKeyProtobufHex);
  // PrivateKey{Type: Ed25519, Data: seed(32) ‖ public(32)}: 08 01 12 40 ‖ 64 bytes.
  const seed = privateProto.subarray(4, 36);
  const publicKey = publicProto.subarray(4);

  it('derives the spec public key from the spec private key through @edgebox/crypto', () => {
    expect(toHex(identityFromSeed(seed).publicKey)).toBe(toHex(publicKey));
    expect(toHex(privateProto.subarray(36))).toBe(toHex(publicKey));
  });

  it('marshals the public key to exactly the spec protobuf and back', () => {
    expect(toHex(marshalLibp2pPublicKey(publicKey))).toBe(vectors.ed25519.publicKeyProtobufHex);
    expect(toHex(unmarshalLibp2pPublicKey(publicProto))).toBe(toHex(publicKey));
  });

  it('gives the 12D3KooW peer id of the identity multihash of that protobuf', () => {
    const id = peerIdFromPublicKey(publicKey);
    expect(id).toBe(vectors.ed25519.peerId);
    expect(id.startsWith('12D3KooW')).toBe(true);
    expect(toHex(peerIdMultihash(publicKey))).toBe(`0024${vectors.ed25519.publicKeyProtobufHex}`);
    expect(peerIdFromIdentity(identityFromSeed(seed))).toBe(id);
  });

  it('parses the spec example Ed25519 id and re-encodes it unchanged', () => {
    const info = parsePeerId(vectors.examples.ed25519IdentityBase58);
    expect(info.id).toBe(vectors.examples.ed25519IdentityBase58);
    expect(peerIdFromPublicKey(info.publicKey)).toBe(vectors.examples.ed25519IdentityBase58);
    expect(info.multihash.length).toBe(38);
  });

  it('refuses the spec sha2-256 examples (RSA/ECDSA keys) in both text forms, saying why', () => {
    for (const text of [vectors.examples.sha256Base58, vectors.examples.sha256Cid]) {
      expect(() => parsePeerId(text)).toThrow(/sha2-256 multihash .*only Ed25519 peer ids/);
      expect(isPeerId(text)).toBe(false);
    }
  });
});

describe('peer id round trips', () => {
  it('any 32-byte key survives key -> id -> key and key -> CID -> id', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const id = peerIdFromPublicKey(key);
        expect(id).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/);
        expect(toHex(publicKeyFromPeerId(id))).toBe(toHex(key));
        const cid = peerIdToCid(id);
        expect(cid).toMatch(/^bafzaajaiaejc[a-z2-7]+$/);
        expect(normalizePeerId(cid)).toBe(id);
        expect(peerIdMatchesPublicKey(cid, key)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts the CID form in base58btc multibase (z...) too', () => {
    const key = generateIdentity().publicKey;
    const id = peerIdFromPublicKey(key);
    const cidBytes = Uint8Array.of(0x01, 0x72, ...peerIdMultihash(key));
    // base58btc of the CID bytes with the multibase prefix z
    const z = `z${peerIdFromBytes(cidBytes)}`;
    expect(normalizePeerId(z)).toBe(id);
  });

  it('binds a generated identity: its signatures verify under its peer id, others do not', () => {
    const me = generateIdentity();
    const other = generateIdentity();
    const id = peerIdFromIdentity(me);
    const msg = new TextEncoder().encode('challenge');
    expect(verifyPeerSignature(id, msg, signMessage(me.privateKey, msg))).toBe(true);
    expect(verifyPeerSignature(id, msg, signMessage(other.privateKey, msg))).toBe(false);
    expect(verifyPeerSignature('not-an-id', msg, signMessage(me.privateKey, msg))).toBe(false);
    expect(peerIdMatchesPublicKey(id, me.publicKey)).toBe(true);
    expect(peerIdMatchesPublicKey(id, other.publicKey)).toBe(false);
    expect(peerIdMatchesPublicKey(id, new Uint8Array(31))).toBe(false);
    expect(peerIdMatchesPublicKey('garbage', me.publicKey)).toBe(false);
  });
});

// base58btc without going through the peer id path, for building odd inputs
function peerIdFromBytes(bytes: Uint8Array): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = BigInt(`0x${toHex(bytes) || '0'}`);
  let out = '';
  while (n > 0n) {
    out = alphabet[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

describe('peer id refusals', () => {
  const key = hex(vectors.ed25519.publicKeyProtobufHex).subarray(4);
  const id = peerIdFromPublicKey(key);

  it.each([
    ['empty', '', /is not a string of 1\.\.128/],
    ['too long', `12D3KooW${'a'.repeat(200)}`, /is not a string of 1\.\.128/],
    ['unknown form', 'xyz', /neither a base58btc multihash/],
    ['base58 with 0', `${id.slice(0, -1)}0`, /outside the base58btc alphabet/],
    ['base32 with uppercase', `b${peerIdToCid(id).slice(1).toUpperCase()}`, /outside the base32 alphabet/],
    ['base58 CID with l', 'zl', /outside the base58btc alphabet/],
    ['truncated id', id.slice(0, 30), /digest of \d+ bytes, its header says \d+|bad varint header|does not inline/],
    ['extra leading 1', `1${id}`, /digest|does not inline/],
    ['CIDv0-like version', `b${base32('000172')}`, /CID of version 0, expected CIDv1/],
    ['wrong codec', `b${base32('0170')}${''}`, /codec 0x70, expected libp2p-key/],
    ['unknown multihash code', peerIdFromBytes(hex('1314aabb')), /neither|multihash code 0x13/],
  ])('refuses %s', (_name, text, message) => {
    let caught: unknown;
    try {
      parsePeerId(text);
    } catch (err) {
      caught = err;
    }
    expect(isPeersError(caught, 'PEERS_INVALID_PEER_ID')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });

  it('refuses non-strings and names the type', () => {
    expect(() => parsePeerId(42 as unknown as string)).toThrow('peer id 42 is not a string');
    expect(isPeerId(undefined)).toBe(false);
  });

  it('names other libp2p key types inside an identity multihash', () => {
    // identity multihash of PublicKey{Type: Secp256k1 (2), Data: 33 bytes} from the spec table
    const secp = hex('08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99');
    const text = peerIdFromBytes(Uint8Array.of(0x00, secp.length, ...secp));
    expect(() => parsePeerId(text)).toThrow(/type 2 \(Secp256k1\) is not Ed25519/);
  });

  it('refuses public keys of the wrong size and non-canonical protobufs', () => {
    expect(() => peerIdFromPublicKey(new Uint8Array(31))).toThrow('ed25519 public key of 31 bytes is not 32 raw bytes');
    expect(() => peerIdFromPublicKey('abc' as unknown as Uint8Array)).toThrow('ed25519 public key "abc" is not 32 raw bytes');
    expect(() => unmarshalLibp2pPublicKey(hex('1220'))).toThrow(/of 2 bytes is not the canonical Ed25519 encoding/);
    expect(() => unmarshalLibp2pPublicKey(Uint8Array.of(0x08, 0x09))).toThrow(/type 9 \(unknown\)/);
    expect(() => unmarshalLibp2pPublicKey('x' as unknown as Uint8Array)).toThrow(/is not a Uint8Array/);
    // field order swapped: Data before Type
    const swapped = Uint8Array.of(0x12, 0x20, ...key, 0x08, 0x01);
    expect(() => unmarshalLibp2pPublicKey(swapped)).toThrow(/not the canonical/);
  });

  it('fuzz: arbitrary strings raise only PEERS_INVALID_PEER_ID', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 140 }), fc.stringMatching(/^(1|Qm|b|z)[a-zA-Z0-9]{0,70}$/)), (text) => {
        try {
          const info = parsePeerId(text);
          expect(info.publicKey.length).toBe(32);
        } catch (err) {
          expect(isPeersError(err, 'PEERS_INVALID_PEER_ID')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: a mutated valid id either parses to a valid key or is refused with the code', () => {
    fc.assert(
      fc.property(fc.nat(id.length - 1), fc.constantFrom(...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl'), (pos, ch) => {
        const text = id.slice(0, pos) + ch + id.slice(pos + 1);
        try {
          expect(parsePeerId(text).id).toBe(text);
        } catch (err) {
          expect(isPeersError(err, 'PEERS_INVALID_PEER_ID')).toBe(true);
        }
      }),
    );
  });
});

function base32(hexBytes: string): string {
  const bytes = hex(hexBytes);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  while (bits.length % 5 !== 0) bits += '0';
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}
