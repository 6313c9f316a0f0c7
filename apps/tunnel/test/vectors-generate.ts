/**
 * Writes docs/protocols/vectors/tunnel/{frames,sealed}.json with plain Buffer writes and
 * node:crypto, independent of src/ (tunnel.md §10). Run:
 *   node --import tsx apps/tunnel/test/vectors-generate.ts
 */
import { createCipheriv, hkdfSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = join(import.meta.dirname, '../../../docs/protocols/vectors/tunnel');
const hex = (b: Buffer): string => b.toString('hex');
const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };

const valid = [
  { name: 'open-tcp', type: 0x10, channel: 1, flags: 0, fields: { open: { protocol: 'tcp', port: 5201, target: '' } }, body: Buffer.concat([Buffer.from([1, 0]), u16(5201), u16(0)]) },
  { name: 'open-udp-target', type: 0x10, channel: 3, flags: 0, fields: { open: { protocol: 'udp', port: 53, target: 'dns.internal:53' } }, body: Buffer.concat([Buffer.from([2, 0]), u16(53), u16(15), Buffer.from('dns.internal:53')]) },
  { name: 'open-ack', type: 0x11, channel: 1, flags: 0, fields: {}, body: Buffer.alloc(0) },
  { name: 'open-err-limit', type: 0x12, channel: 5, flags: 0, fields: { code: 3 }, body: u16(3) },
  { name: 'data', type: 0x13, channel: 1, flags: 0, fields: { data: '68656c6c6f' }, body: Buffer.from('hello') },
  { name: 'fin', type: 0x14, channel: 1, flags: 0, fields: {}, body: Buffer.alloc(0) },
  { name: 'reset-cancel', type: 0x15, channel: 7, flags: 0, fields: { code: 7 }, body: u16(7) },
  { name: 'window-update-stream', type: 0x16, channel: 1, flags: 0, fields: { credit: 131072 }, body: u32(131072) },
  { name: 'window-update-connection', type: 0x16, channel: 0, flags: 0, fields: { credit: 2147483647 }, body: u32(2147483647) },
  { name: 'datagram-empty', type: 0x17, channel: 3, flags: 0, fields: { data: '' }, body: Buffer.alloc(0) },
  { name: 'ping', type: 0x18, channel: 0, flags: 0, fields: { opaque: '0102030405060708' }, body: Buffer.from('0102030405060708', 'hex') },
  { name: 'pong', type: 0x19, channel: 0, flags: 0, fields: { opaque: '0102030405060708' }, body: Buffer.from('0102030405060708', 'hex') },
  { name: 'rekey-request', type: 0x1a, channel: 0, flags: 0, fields: { ack: false, generation: 1 }, body: u32(1) },
  { name: 'rekey-ack', type: 0x1a, channel: 0, flags: 2, fields: { ack: true, generation: 1 }, body: u32(1) },
  { name: 'goaway', type: 0x1b, channel: 0, flags: 0, fields: { lastStreamId: 41, code: 0 }, body: Buffer.concat([u32(41), u16(0)]) },
];

const invalid = [
  { name: 'open-short', type: 0x10, channel: 1, flags: 0, body: Buffer.from([1, 0, 0]), error: 'TUNNEL_MALFORMED' },
  { name: 'open-bad-protocol', type: 0x10, channel: 1, flags: 0, body: Buffer.concat([Buffer.from([3, 0]), u16(80), u16(0)]), error: 'TUNNEL_MALFORMED' },
  { name: 'open-reserved', type: 0x10, channel: 1, flags: 0, body: Buffer.concat([Buffer.from([1, 1]), u16(80), u16(0)]), error: 'TUNNEL_MALFORMED' },
  { name: 'open-port-0', type: 0x10, channel: 1, flags: 0, body: Buffer.concat([Buffer.from([1, 0]), u16(0), u16(0)]), error: 'TUNNEL_MALFORMED' },
  { name: 'open-target-length-mismatch', type: 0x10, channel: 1, flags: 0, body: Buffer.concat([Buffer.from([1, 0]), u16(80), u16(5), Buffer.from('a:1')]), error: 'TUNNEL_MALFORMED' },
  { name: 'open-target-not-host-port', type: 0x10, channel: 1, flags: 0, body: Buffer.concat([Buffer.from([1, 0]), u16(80), u16(4), Buffer.from('host')]), error: 'TUNNEL_MALFORMED' },
  { name: 'open-on-channel-0', type: 0x10, channel: 0, flags: 0, body: Buffer.concat([Buffer.from([1, 0]), u16(80), u16(0)]), error: 'TUNNEL_PROTOCOL' },
  { name: 'open-ack-with-body', type: 0x11, channel: 1, flags: 0, body: Buffer.from([0]), error: 'TUNNEL_MALFORMED' },
  { name: 'data-empty', type: 0x13, channel: 1, flags: 0, body: Buffer.alloc(0), error: 'TUNNEL_MALFORMED' },
  { name: 'data-too-large', type: 0x13, channel: 1, flags: 0, body: Buffer.alloc(65537), error: 'TUNNEL_MALFORMED' },
  { name: 'datagram-too-large', type: 0x17, channel: 1, flags: 0, body: Buffer.alloc(65508), error: 'TUNNEL_MALFORMED' },
  { name: 'reset-3-bytes', type: 0x15, channel: 1, flags: 0, body: Buffer.from([0, 0, 1]), error: 'TUNNEL_MALFORMED' },
  { name: 'window-update-zero', type: 0x16, channel: 1, flags: 0, body: u32(0), error: 'TUNNEL_MALFORMED' },
  { name: 'window-update-over-2^31', type: 0x16, channel: 1, flags: 0, body: u32(0x80000000), error: 'TUNNEL_MALFORMED' },
  { name: 'ping-7-bytes', type: 0x18, channel: 0, flags: 0, body: Buffer.alloc(7), error: 'TUNNEL_MALFORMED' },
  { name: 'ping-on-stream', type: 0x18, channel: 1, flags: 0, body: Buffer.alloc(8), error: 'TUNNEL_PROTOCOL' },
  { name: 'rekey-generation-0', type: 0x1a, channel: 0, flags: 0, body: u32(0), error: 'TUNNEL_MALFORMED' },
  { name: 'rekey-bad-flag', type: 0x1a, channel: 0, flags: 1, body: u32(1), error: 'TUNNEL_MALFORMED' },
  { name: 'goaway-short', type: 0x1b, channel: 0, flags: 0, body: u32(1), error: 'TUNNEL_MALFORMED' },
  { name: 'unknown-type', type: 0x30, channel: 0, flags: 0, body: Buffer.alloc(0), error: 'TUNNEL_PROTOCOL' },
];

// Big vectors are described, not spelled out: bodyFill + bodyLength.
const hexOrFill = (b: Buffer): Record<string, unknown> =>
  b.length > 1024 ? { bodyFill: b[0] ?? 0, bodyLength: b.length } : { body: hex(b) };

writeFileSync(
  join(out, 'frames.json'),
  JSON.stringify(
    {
      description: 'tunnel v1 frame bodies (tunnel.md §2): plaintext, before sealing',
      valid: valid.map((v) => ({ ...v, body: hex(v.body) })),
      invalid: invalid.map(({ body, ...v }) => ({ ...v, ...hexOrFill(body) })),
    },
    null,
    2,
  ) + '\n',
);

function sealFrame(alg: 'aes-256-gcm' | 'chacha20-poly1305', key: Buffer, prefix: Buffer, counter: number, type: number, flags: number, channel: number, pt: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 1; header[1] = type; header[2] = flags; header[3] = 0;
  header.writeUInt32BE(channel, 4); header.writeUInt32BE(pt.length + 16, 8);
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0); nonce.writeBigUInt64LE(BigInt(counter), 4);
  const c = createCipheriv(alg as 'aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(header, { plaintextLength: pt.length });
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return Buffer.concat([header, ct, c.getAuthTag()]);
}

const sealed = ['aes-256-gcm', 'chacha20-poly1305'].map((alg) => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i + (alg === 'aes-256-gcm' ? 0 : 0x40)));
  const prefix = Buffer.from('a1b2c3d4', 'hex');
  const frames = [
    { type: 0x10, channel: 1, flags: 0, plaintext: Buffer.concat([Buffer.from([1, 0]), u16(443), u16(0)]) },
    { type: 0x13, channel: 1, flags: 0, plaintext: Buffer.from('GET / HTTP/1.1\r\n\r\n') },
    { type: 0x14, channel: 1, flags: 0, plaintext: Buffer.alloc(0) },
    { type: 0x1a, channel: 0, flags: 0, plaintext: u32(1) },
  ].map((f, counter) => ({
    counter, type: f.type, channel: f.channel, flags: f.flags, plaintext: hex(f.plaintext),
    hex: hex(sealFrame(alg as 'aes-256-gcm', key, prefix, counter, f.type, f.flags, f.channel, f.plaintext)),
  }));
  const next = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), Buffer.from('edgebox/tunnel/v1/rekey'), 32));
  // the frame after the REKEY is sealed under the next key, counter 0 (tunnel.md §6)
  const afterRekey = { counter: 0, type: 0x13, channel: 1, flags: 0, plaintext: hex(Buffer.from('after')), hex: hex(sealFrame(alg as 'aes-256-gcm', next, prefix, 0, 0x13, 0, 1, Buffer.from('after'))) };
  return { aead: alg, key: hex(key), noncePrefix: hex(prefix), frames, rekey: { key: hex(key), next: hex(next) }, afterRekey };
});

writeFileSync(
  join(out, 'sealed.json'),
  JSON.stringify({ description: 'tunnel v1 sealed frames (tunnel.md §3, §6): header as AAD, implicit counter nonces', sessions: sealed }, null, 2) + '\n',
);
