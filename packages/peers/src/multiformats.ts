/**
 * The few multiformats pieces a peer id needs, written here so @edgebox/peers carries no
 * libp2p dependency: base58btc (the bitcoin alphabet), RFC 4648 base32 (lowercase, no padding,
 * the multibase `b` form) and unsigned varints (multiformats/unsigned-varint: LEB128, at most
 * 9 bytes, minimal encoding only).
 *
 * Inputs are short (peer ids) and their length is bounded by the caller before decoding, so the
 * quadratic base58 loops stay cheap. Decoders return undefined on bad input; the caller builds
 * the error with context.
 */

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BASE58_VALUES = buildTable(BASE58_ALPHABET);
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const BASE32_VALUES = buildTable(BASE32_ALPHABET);

function buildTable(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

/**
 * base58btc encoding: each leading zero byte becomes `1`, the rest is the big-endian number
 * written in base 58.
 *
 * @example base58btcEncode(Uint8Array.of(0, 0x24)) // '1d'
 */
export function base58btcEncode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits: number[] = []; // base-58 digits, least significant first
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j]! << 8;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = '1'.repeat(zeros);
  for (let k = digits.length - 1; k >= 0; k--) out += BASE58_ALPHABET[digits[k]!];
  return out;
}

/**
 * base58btc decoding; undefined for a character outside the alphabet.
 *
 * @example base58btcDecode('1d') // Uint8Array [0, 0x24]
 */
export function base58btcDecode(text: string): Uint8Array | undefined {
  let zeros = 0;
  while (zeros < text.length && text.charCodeAt(zeros) === 0x31) zeros++;
  const bytes: number[] = []; // least significant first
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? BASE58_VALUES[code]! : -1;
    if (value < 0) return undefined;
    let carry = value;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j]! * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let k = 0; k < bytes.length; k++) out[zeros + k] = bytes[bytes.length - 1 - k]!;
  return out;
}

/**
 * RFC 4648 §6 base32, lowercase, without padding (multibase `base32`, prefix `b` not included).
 *
 * @example base32Encode(new TextEncoder().encode('f')) // 'my'
 */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Inverse of base32Encode. Strict: lowercase only, no padding, no impossible length, and the
 * unused trailing bits must be zero, so each byte string has exactly one text form.
 *
 * @example base32Decode('my') // Uint8Array [0x66]
 */
export function base32Decode(text: string): Uint8Array | undefined {
  const rem = text.length % 8;
  if (rem === 1 || rem === 3 || rem === 6) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? BASE32_VALUES[code]! : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out[o++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** A decoded varint and the number of bytes it took. */
export interface Varint {
  value: number;
  length: number;
}

/**
 * Read an unsigned varint at `offset`: undefined when truncated, longer than 9 bytes, not
 * minimally encoded, or above Number.MAX_SAFE_INTEGER.
 *
 * @example readVarint(Uint8Array.of(0x80, 0x01)) // { value: 128, length: 2 }
 */
export function readVarint(bytes: Uint8Array, offset = 0): Varint | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 9; i++) {
    const byte = bytes[offset + i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) return undefined; // a trailing zero group: not minimal
      return value > Number.MAX_SAFE_INTEGER ? undefined : { value, length: i + 1 };
    }
    scale *= 128;
  }
  return undefined;
}

/**
 * Unsigned varint bytes of a non-negative safe integer.
 *
 * @example writeVarint(300) // Uint8Array [0xac, 0x02]
 */
export function writeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}
