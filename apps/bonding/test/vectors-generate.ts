/**
 * Writes docs/protocols/vectors/bonding/data.json (bonding.md §2, §3).
 *
 * The bytes are built here with plain Buffer writes and node:crypto's ciphers directly, NOT
 * with the app's session, inner-header or framing code, so the vectors are an independent
 * statement of the layout; test/vectors.test.ts checks seal() and open() against them.
 * Regenerate only when the spec changes:
 *
 *   node --conditions=@edgebox/source --import tsx apps/bonding/test/vectors-generate.ts
 */
import { createCipheriv } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = join(import.meta.dirname, '../../../docs/protocols/vectors/bonding');

interface Inner {
  linkId: number;
  flags: number;
  linkSeq: number;
  dataSeq: number;
  sendTimeMs: number;
  echoTimeMs: number;
  echoHoldMs: number;
}

interface Spec {
  name: string;
  description: string;
  aead: 'chacha20-poly1305' | 'aes-256-gcm';
  key: string;
  noncePrefix: string;
  receiver: number;
  counter: number;
  type: number;
  inner: Inner;
  payload: string;
}

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An IPv4 ICMP echo request 10.99.0.2 -> 10.99.0.1 carrying `text`, checksums filled in. */
function icmpEcho(text: string): Buffer {
  const data = Buffer.from(text);
  const icmp = Buffer.alloc(8 + data.length);
  icmp.writeUInt8(8, 0); // echo request
  icmp.writeUInt16BE(0x1234, 4); // identifier
  icmp.writeUInt16BE(1, 6); // sequence
  data.copy(icmp, 8);
  icmp.writeUInt16BE(checksum(icmp), 2);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + icmp.length, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip.writeUInt8(64, 8);
  ip.writeUInt8(1, 9); // ICMP
  Buffer.from([10, 99, 0, 2, 10, 99, 0, 1]).copy(ip, 12);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([ip, icmp]);
}

function build(s: Spec) {
  const outer = Buffer.alloc(16);
  outer.writeUInt8(1, 0); // framing version
  outer.writeUInt8(s.type, 1);
  outer.writeUInt8(0, 2); // flags
  outer.writeUInt8(0, 3); // reserved
  outer.writeUInt32BE(s.receiver, 4);
  outer.writeBigUInt64LE(BigInt(s.counter), 8);
  const inner = Buffer.alloc(12);
  inner.writeUInt8((s.inner.linkId << 4) | s.inner.flags, 0); // link id nibble, flags nibble
  inner.writeUInt16BE(s.inner.linkSeq, 1);
  inner.writeUInt32BE(s.inner.dataSeq, 3);
  inner.writeUInt16BE(s.inner.sendTimeMs, 7);
  inner.writeUInt16BE(s.inner.echoTimeMs, 9);
  inner.writeUInt8(s.inner.echoHoldMs, 11);
  const plaintext = Buffer.concat([inner, Buffer.from(s.payload, 'hex')]);
  const nonce = Buffer.alloc(12);
  Buffer.from(s.noncePrefix, 'hex').copy(nonce, 0);
  nonce.writeBigUInt64LE(BigInt(s.counter), 4);
  const cipher = createCipheriv(s.aead as 'chacha20-poly1305', Buffer.from(s.key, 'hex'), nonce, { authTagLength: 16 });
  cipher.setAAD(outer, { plaintextLength: plaintext.length });
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const datagram = Buffer.concat([outer, ct, cipher.getAuthTag()]);
  return { ...s, nonce: nonce.toString('hex'), aad: outer.toString('hex'), plaintext: plaintext.toString('hex'), datagram: datagram.toString('hex') };
}

const key = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x10 + i)).toString('hex');
const ping = icmpEcho('edgebox bonding v1').toString('hex');

const vectors = {
  description:
    'edgebox bonding v1 datagrams (bonding.md §2, §3). Each is sealed by the sender whose send key is `key` and send nonce prefix `noncePrefix`, as its datagram number `counter` (0-based) of the session, to the peer whose session id is `receiver`. nonce = noncePrefix ‖ counter (u64 LE); aad = the 16-byte outer header = datagram[0..16); plaintext = inner header (12 bytes) ‖ payload; datagram = aad ‖ AEAD ciphertext ‖ 16-byte tag. A receiver with that key and prefix opens `datagram` to exactly `inner` and `payload`.',
  version: 1,
  revision: 2,
  outerHeaderBytes: 16,
  innerHeaderBytes: 12,
  tagBytes: 16,
  datagrams: [
    build({
      name: 'data-chacha-first',
      description: 'first DATA datagram of a session (counter 0): an ICMP echo request, link 2, nothing to echo yet',
      aead: 'chacha20-poly1305',
      key,
      noncePrefix: 'a1a2a3a4',
      receiver: 7,
      counter: 0,
      type: 0x40,
      inner: { linkId: 2, flags: 0, linkSeq: 0, dataSeq: 0, sendTimeMs: 1_000_000 & 0xffff, echoTimeMs: 0, echoHoldMs: 0xff },
      payload: ping,
    }),
    build({
      name: 'data-aes-gcm-counter-300',
      description: 'DATA datagram number 300 (counter bytes 2c 01 00 .. LE) under AES-256-GCM, echoing a timestamp held 3 ms, data sequence 0xfffffffe (just before the u32 wrap), link sequence and timestamps near the u16 wrap',
      aead: 'aes-256-gcm',
      key,
      noncePrefix: 'b1b2b3b4',
      receiver: 0x0a0b0c0d,
      counter: 300,
      type: 0x40,
      inner: { linkId: 15, flags: 0, linkSeq: 0xfffe, dataSeq: 0xffff_fffe, sendTimeMs: 0xfff0, echoTimeMs: 0xffe0, echoHoldMs: 3 },
      payload: ping,
    }),
    build({
      name: 'feedback-chacha',
      description: 'FEEDBACK (counter 1) reporting links 0 and 1: received / lost / bytes, all big-endian',
      aead: 'chacha20-poly1305',
      key,
      noncePrefix: 'a1a2a3a4',
      receiver: 7,
      counter: 1,
      type: 0x43,
      inner: { linkId: 0, flags: 0, linkSeq: 1, dataSeq: 0, sendTimeMs: 1_000_100 & 0xffff, echoTimeMs: 999_990 & 0xffff, echoHoldMs: 12 },
      payload: '02' + '0000' + '000003e8' + '00000002' + '0000000000155cc0' + '0100' + '000001f4' + '00000000' + '00000000000aae60',
    }),
  ],
};

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'data.json'), JSON.stringify(vectors, null, 2) + '\n');
console.log(`wrote ${join(OUT, 'data.json')}`);
