// Writes docs/protocols/vectors/p2p/messages.json (p2p.md §4, §5), caps.json (§3.4) and
// resumption.json (§3.5) from node:crypto and plain
// Buffer writes only, not from src/, so the vectors check the implementation independently.
// Run: npx tsx test/vectors-generate.ts
import { createCipheriv, hkdfSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const TH = Buffer.alloc(32, 0x5a);
const cases = [
  { name: 'chacha20-poly1305, chat, counter 0', aead: 'chacha20-poly1305', stream: 'chat', counter: 0, rekeyAfterMessages: 1048576, plaintext: Buffer.from('hello') },
  { name: 'aes-256-gcm, files.v2, counter 1', aead: 'aes-256-gcm', stream: 'files.v2', counter: 1, rekeyAfterMessages: 1048576, plaintext: Buffer.from('second message on the stream') },
  { name: 'chacha20-poly1305, empty message', aead: 'chacha20-poly1305', stream: 'x', counter: 2, rekeyAfterMessages: 1048576, plaintext: Buffer.alloc(0) },
  { name: 'chacha20-poly1305, epoch 1 after 4 messages', aead: 'chacha20-poly1305', stream: 'chat', counter: 4, rekeyAfterMessages: 4, plaintext: Buffer.from('after the rekey') },
];
const sendKey = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const noncePrefix = Buffer.from('a1b2c3d4', 'hex');

const vectors = cases.map((c) => {
  const epoch = Math.floor(c.counter / c.rekeyAfterMessages);
  const info = Buffer.concat([Buffer.from('edgebox-p2p v1 stream'), Buffer.from([0]), Buffer.from(c.stream), Buffer.from([0]), Buffer.alloc(4)]);
  info.writeUInt32BE(epoch, info.length - 4);
  const streamKey = Buffer.from(hkdfSync('sha256', sendKey, TH, info, 32));
  const nonce = Buffer.alloc(12);
  noncePrefix.copy(nonce, 0);
  nonce.writeBigUInt64LE(BigInt(c.counter), 4);
  const length = 8 + c.plaintext.length + 16;
  const header = Buffer.alloc(12);
  header[0] = 1; // framing version
  header[1] = 0x10; // TYPE_MESSAGE
  header.writeUInt32BE(0, 4); // channel
  header.writeUInt32BE(length, 8);
  const cipher = createCipheriv(c.aead as 'chacha20-poly1305', streamKey, nonce, { authTagLength: 16 });
  cipher.setAAD(header, { plaintextLength: c.plaintext.length });
  const ct = Buffer.concat([cipher.update(c.plaintext), cipher.final(), cipher.getAuthTag()]);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64LE(BigInt(c.counter));
  return {
    name: c.name,
    aead: c.aead,
    stream: c.stream,
    counter: c.counter,
    rekeyAfterMessages: c.rekeyAfterMessages,
    epoch,
    info: info.toString('hex'),
    streamKey: streamKey.toString('hex'),
    nonce: nonce.toString('hex'),
    plaintext: c.plaintext.toString('hex'),
    frame: Buffer.concat([header, counter, ct]).toString('hex'),
  };
});

const out = {
  description: 'p2p sealed messages (docs/protocols/p2p.md §4, §5): frame = framing header (type 0x10) ‖ counter u64 LE ‖ AEAD(stream key, prefix ‖ counter, plaintext, aad = header)',
  sendKey: sendKey.toString('hex'),
  transcriptHash: TH.toString('hex'),
  sendNoncePrefix: noncePrefix.toString('hex'),
  messages: vectors,
};
writeFileSync(new URL('../../../docs/protocols/vectors/p2p/messages.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors`);

// CAPS payloads (p2p.md §3.4): version u8 ‖ features u32 BE ‖ maxMessageBytes u32 BE ‖ ignored.
const caps = [
  { name: 'everything, 1 MiB', version: 1, features: 0x7, maxMessageBytes: 1048576, extra: '' },
  { name: 'acks only, 100 bytes', version: 1, features: 0x1, maxMessageBytes: 100, extra: '' },
  { name: 'none (all optional features off)', version: 1, features: 0x0, maxMessageBytes: 65536, extra: '' },
  { name: 'a later version: unknown bits and trailing bytes ignored', version: 2, features: 0x80000005, maxMessageBytes: 16777192, extra: 'deadbeef' },
].map((c) => {
  const b = Buffer.alloc(9);
  b[0] = c.version;
  b.writeUInt32BE(c.features >>> 0, 1);
  b.writeUInt32BE(c.maxMessageBytes, 5);
  return {
    name: c.name,
    payload: Buffer.concat([b, Buffer.from(c.extra, 'hex')]).toString('hex'),
    decoded: { version: c.version, acks: (c.features & 1) !== 0, priorities: (c.features & 2) !== 0, resumption: (c.features & 4) !== 0, maxMessageBytes: c.maxMessageBytes },
  };
});
writeFileSync(
  new URL('../../../docs/protocols/vectors/p2p/caps.json', import.meta.url),
  `${JSON.stringify({ description: 'p2p CAPS payloads (docs/protocols/p2p.md §3.4)', caps }, null, 2)}\n`,
);

// Resumption secret (p2p.md §3.5): HKDF-SHA256(salt = TH, ikm = key i→r ‖ key r→i, info = "edgebox-p2p v1 resumption", 32).
const i2r = Buffer.from('101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f', 'hex');
const r2i = Buffer.from('303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f', 'hex');
const rs = Buffer.from(hkdfSync('sha256', Buffer.concat([i2r, r2i]), TH, Buffer.from('edgebox-p2p v1 resumption'), 32));
writeFileSync(
  new URL('../../../docs/protocols/vectors/p2p/resumption.json', import.meta.url),
  `${JSON.stringify({ description: 'p2p resumption secret (docs/protocols/p2p.md §3.5)', transcriptHash: TH.toString('hex'), keyInitiatorToResponder: i2r.toString('hex'), keyResponderToInitiator: r2i.toString('hex'), resumptionSecret: rs.toString('hex') }, null, 2)}\n`,
);
console.log('wrote caps.json and resumption.json');
