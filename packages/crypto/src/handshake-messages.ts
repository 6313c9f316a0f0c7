/**
 * Encoder and decoder of the four edgebox handshake messages (Init, Response, Finish,
 * CookieReply) and of the authentication payload carried encrypted inside Response and
 * Finish. Layouts with byte offsets: docs/protocols/handshake.md §3.
 *
 * The decoders check the size limit before reading anything, bound every length field, and
 * raise only CryptoError (CRYPTO_HANDSHAKE_MALFORMED / _VERSION) on wire input. They check
 * syntax only; negotiation, replay and authentication live in the initiator and responder.
 * All integers are big-endian.
 */
import { CryptoError } from './errors.js';
import {
  ED25519_SIGNATURE_BYTES,
  HANDSHAKE_SUPPORTED_VERSIONS,
  HS_AUTH_CERTIFICATE,
  HS_AUTH_PSK,
  HS_COOKIE_BYTES,
  HS_COOKIE_REPLY_BYTES,
  HS_FINISH_MAX_BYTES,
  HS_INIT_ID_BYTES,
  HS_INIT_MAX_BYTES,
  HS_MAC_BYTES,
  HS_MAX_CERTIFICATE_BYTES,
  HS_MAX_PSK_ID_BYTES,
  HS_MAX_SUITES,
  HS_MAX_VERSIONS,
  HS_RANDOM_BYTES,
  HS_RESPONSE_MAX_BYTES,
  HS_TYPE_COOKIE_REPLY,
  HS_TYPE_FINISH,
  HS_TYPE_INIT,
  HS_TYPE_RESPONSE,
  MLKEM768_CIPHERTEXT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  X25519_PUBLIC_KEY_BYTES,
} from './handshake-constants.js';

/** Flag bit (offset 2 of Init, offset 3 of Response): an ML-KEM field is present. */
const FLAG_MLKEM = 0x01;

/** Init: the initiator's offer and ephemerals (handshake.md §3.2). */
export interface InitMessage {
  readonly version: number;
  readonly authMode: 'certificate' | 'psk';
  /** Versions offered, best first. */
  readonly versions: readonly number[];
  /** Suite wire ids offered, best first (unknown ids are kept: they are in the transcript). */
  readonly suiteIds: readonly number[];
  readonly initiatorSessionId: number;
  readonly timestampMs: number;
  readonly random: Uint8Array;
  readonly x25519PublicKey: Uint8Array;
  readonly mlkemPublicKey: Uint8Array | undefined;
  /** PSK id (psk mode) or empty (certificate mode). */
  readonly pskId: Uint8Array;
  readonly paddingBytes: number;
  /** Retry cookie echoed from a CookieReply, or undefined. Not part of the transcript. */
  readonly cookie: Uint8Array | undefined;
}

/** A decoded Init plus the exact bytes the transcript hashes (everything but the cookie). */
export interface DecodedInit extends InitMessage {
  readonly body: Uint8Array;
}

/** Response: the responder's choice, ephemeral and encrypted authentication (§3.3). */
export interface ResponseMessage {
  readonly version: number;
  readonly suiteId: number;
  readonly initiatorSessionId: number;
  readonly responderSessionId: number;
  /** Versions and suites the responder supports, best first (authenticated). */
  readonly versions: readonly number[];
  readonly suiteIds: readonly number[];
  readonly x25519PublicKey: Uint8Array;
  readonly mlkemCiphertext: Uint8Array | undefined;
  readonly encrypted: Uint8Array;
}

/** A decoded Response plus its cleartext prefix (hashed into TH2) and its full bytes. */
export interface DecodedResponse extends ResponseMessage {
  readonly clear: Uint8Array;
  readonly bytes: Uint8Array;
}

/** Finish: the initiator's encrypted authentication (§3.4). */
export interface FinishMessage {
  readonly version: number;
  readonly initiatorSessionId: number;
  readonly responderSessionId: number;
  readonly encrypted: Uint8Array;
}

/** A decoded Finish plus its 14-byte header (authenticated as AEAD associated data). */
export interface DecodedFinish extends FinishMessage {
  readonly header: Uint8Array;
}

/** CookieReply: a stateless retry request (§3.5). */
export interface CookieReplyMessage {
  readonly version: number;
  readonly initiatorSessionId: number;
  /** First 16 bytes of TH1 of the Init being answered. */
  readonly initId: Uint8Array;
  readonly cookie: Uint8Array;
}

/** The plaintext inside the AEAD of a Response or Finish (§3.6). */
export type AuthPayload =
  | { readonly kind: 'certificate'; readonly certificate: Uint8Array; readonly signature: Uint8Array }
  | { readonly kind: 'psk'; readonly mac: Uint8Array };

/** Size of the fixed header of a Finish message. */
export const FINISH_HEADER_BYTES = 14;

function malformed(message: string, details?: Record<string, unknown>): CryptoError {
  return new CryptoError('CRYPTO_HANDSHAKE_MALFORMED', message, details === undefined ? {} : { details });
}

/** Bounds-checked sequential reader; every overrun is a MALFORMED error naming the field. */
class Reader {
  private off = 0;
  constructor(private readonly buf: Uint8Array, private readonly what: string) {}

  get offset(): number {
    return this.off;
  }

  private need(n: number, field: string): void {
    if (this.off + n > this.buf.length) {
      throw malformed(
        `${this.what}.${field} needs ${n} bytes at offset ${this.off}, message has ${this.buf.length}`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.off++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = (this.buf[this.off]! << 8) | this.buf[this.off + 1]!;
    this.off += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const o = this.off;
    this.off += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  u64(field: string): number {
    const hi = this.u32(field);
    const lo = this.u32(field);
    if (hi > 0x1fffff) throw malformed(`${this.what}.${field} ${hi} * 2^32 exceeds 2^53`);
    return hi * 0x1_0000_0000 + lo;
  }

  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  /** A u8 count then that many u8 entries, 1..max. */
  list(max: number, field: string): number[] {
    const n = this.u8(`${field}Count`);
    if (n < 1 || n > max) throw malformed(`${this.what}.${field}Count ${n} not in 1..${max}`);
    return Array.from(this.bytes(n, field));
  }

  end(): void {
    if (this.off !== this.buf.length) {
      throw malformed(`${this.what} has ${this.buf.length - this.off} trailing bytes after offset ${this.off}`);
    }
  }
}

/** Append-only writer into a buffer of known final size. */
class Writer {
  readonly buf: Uint8Array;
  private off = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  u8(v: number): void {
    this.buf[this.off++] = v & 0xff;
  }
  u16(v: number): void {
    this.u8(v >>> 8);
    this.u8(v);
  }
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  u64(v: number): void {
    this.u32(Math.floor(v / 0x1_0000_0000));
    this.u32(v >>> 0);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.off);
    this.off += b.length;
  }
  list(values: readonly number[]): void {
    this.u8(values.length);
    for (const v of values) this.u8(v);
  }
  done(): Uint8Array {
    if (this.off !== this.buf.length) throw new Error(`writer size ${this.off} != ${this.buf.length}`);
    return this.buf;
  }
}

function checkHeader(msg: Uint8Array, type: number, what: string, max: number, min: number): void {
  if (!(msg instanceof Uint8Array)) throw malformed(`${what} is ${typeof msg}, expected Uint8Array`);
  if (msg.length > max) throw malformed(`${what} length ${msg.length} > max ${max}`);
  if (msg.length < min) throw malformed(`${what} length ${msg.length} < min ${min}`);
  checkVersionByte(msg[0]!, what);
  if (msg[1] !== type) throw malformed(`${what} type ${msg[1]} != expected ${type}`);
}

function checkVersionByte(v: number, what: string): void {
  if (!HANDSHAKE_SUPPORTED_VERSIONS.includes(v)) {
    throw new CryptoError(
      'CRYPTO_HANDSHAKE_VERSION',
      `${what}.version ${v} not in supported [${HANDSHAKE_SUPPORTED_VERSIONS.join(',')}]`,
      { details: { version: v } },
    );
  }
}

function checkList(values: readonly number[], max: number, field: string): void {
  if (values.length < 1 || values.length > max) throw new RangeError(`${field} count ${values.length} not in 1..${max}`);
}

/**
 * The message type of `msg` (byte 1) after checking its version byte, so a transport can
 * route it; raises MALFORMED for an empty or unknown message and VERSION for an unknown version.
 *
 * @example if (peekHandshakeType(datagram) === 'init') responder.receive(datagram, { peerAddress })
 */
export function peekHandshakeType(msg: Uint8Array): 'init' | 'response' | 'finish' | 'cookie-reply' {
  if (!(msg instanceof Uint8Array) || msg.length < 2) {
    throw malformed(`handshake message length ${msg instanceof Uint8Array ? msg.length : typeof msg} < min 2`);
  }
  checkVersionByte(msg[0]!, 'message');
  switch (msg[1]) {
    case HS_TYPE_INIT:
      return 'init';
    case HS_TYPE_RESPONSE:
      return 'response';
    case HS_TYPE_FINISH:
      return 'finish';
    case HS_TYPE_COOKIE_REPLY:
      return 'cookie-reply';
    default:
      throw malformed(`message type ${msg[1]} not in [1,2,3,4]`);
  }
}

// ---- Init (handshake.md §3.2) --------------------------------------------------------------

/** Size of the Init body without padding (the cookie trailer excluded). */
function initBodySize(m: Omit<InitMessage, 'paddingBytes' | 'cookie'>): number {
  return (
    4 + 1 + m.versions.length + 1 + m.suiteIds.length + 4 + 8 + HS_RANDOM_BYTES + X25519_PUBLIC_KEY_BYTES +
    (m.mlkemPublicKey === undefined ? 0 : MLKEM768_PUBLIC_KEY_BYTES) + 1 + m.pskId.length + 2
  );
}

/**
 * Padding an Init needs so that the whole message (with a 1-byte empty cookie trailer) is at
 * least `minBytes` long.
 *
 * @example initPaddingFor(fields, HS_INIT_MIN_BYTES)
 */
export function initPaddingFor(m: Omit<InitMessage, 'paddingBytes' | 'cookie'>, minBytes: number): number {
  return Math.max(0, minBytes - (initBodySize(m) + 1));
}

/**
 * Encode an Init. The transcript hashes `body` (all bytes before the cookie trailer), so a
 * re-send with a cookie keeps the same TH1.
 *
 * @example const { bytes, body } = encodeInit({ ...fields, paddingBytes: 0, cookie: undefined })
 */
export function encodeInit(m: InitMessage): { bytes: Uint8Array; body: Uint8Array } {
  checkList(m.versions, HS_MAX_VERSIONS, 'versions');
  checkList(m.suiteIds, HS_MAX_SUITES, 'suites');
  if (m.pskId.length > HS_MAX_PSK_ID_BYTES) throw new RangeError(`pskId length ${m.pskId.length} > max ${HS_MAX_PSK_ID_BYTES}`);
  const bodySize = initBodySize(m) + m.paddingBytes;
  const cookieLen = m.cookie === undefined ? 0 : m.cookie.length;
  const w = new Writer(bodySize + 1 + cookieLen);
  w.u8(m.version);
  w.u8(HS_TYPE_INIT);
  w.u8(m.mlkemPublicKey === undefined ? 0 : FLAG_MLKEM);
  w.u8(m.authMode === 'certificate' ? HS_AUTH_CERTIFICATE : HS_AUTH_PSK);
  w.list(m.versions);
  w.list(m.suiteIds);
  w.u32(m.initiatorSessionId);
  w.u64(m.timestampMs);
  w.bytes(m.random);
  w.bytes(m.x25519PublicKey);
  if (m.mlkemPublicKey !== undefined) w.bytes(m.mlkemPublicKey);
  w.u8(m.pskId.length);
  w.bytes(m.pskId);
  w.u16(m.paddingBytes);
  w.bytes(new Uint8Array(m.paddingBytes));
  w.u8(cookieLen);
  if (m.cookie !== undefined) w.bytes(m.cookie);
  const bytes = w.done();
  return { bytes, body: bytes.subarray(0, bodySize) };
}

/**
 * Decode an Init; MALFORMED on any syntax error, VERSION on an unknown version byte.
 *
 * @example const init = decodeInit(datagram) // init.body feeds the transcript
 */
export function decodeInit(msg: Uint8Array): DecodedInit {
  checkHeader(msg, HS_TYPE_INIT, 'init', HS_INIT_MAX_BYTES, 4);
  const r = new Reader(msg, 'init');
  const version = r.u8('version');
  r.u8('type');
  const flags = r.u8('flags');
  if ((flags & ~FLAG_MLKEM) !== 0) throw malformed(`init.flags 0x${flags.toString(16)} has unknown bits`);
  const mode = r.u8('authMode');
  if (mode !== HS_AUTH_CERTIFICATE && mode !== HS_AUTH_PSK) throw malformed(`init.authMode ${mode} not in [1,2]`);
  const versions = r.list(HS_MAX_VERSIONS, 'versions');
  const suiteIds = r.list(HS_MAX_SUITES, 'suites');
  const initiatorSessionId = r.u32('initiatorSessionId');
  const timestampMs = r.u64('timestamp');
  const random = r.bytes(HS_RANDOM_BYTES, 'random');
  const x25519PublicKey = r.bytes(X25519_PUBLIC_KEY_BYTES, 'x25519PublicKey');
  const mlkemPublicKey = (flags & FLAG_MLKEM) !== 0 ? r.bytes(MLKEM768_PUBLIC_KEY_BYTES, 'mlkemPublicKey') : undefined;
  const pskIdLen = r.u8('pskIdLength');
  if (mode === HS_AUTH_PSK ? pskIdLen < 1 || pskIdLen > HS_MAX_PSK_ID_BYTES : pskIdLen !== 0) {
    throw malformed(`init.pskIdLength ${pskIdLen} invalid for authMode ${mode} (psk: 1..${HS_MAX_PSK_ID_BYTES}, certificate: 0)`);
  }
  const pskId = r.bytes(pskIdLen, 'pskId');
  const paddingBytes = r.u16('paddingLength');
  const padding = r.bytes(paddingBytes, 'padding');
  // Padding must be zero: it is hashed anyway, but zeros keep it from becoming a covert field.
  for (let i = 0; i < padding.length; i++) {
    if (padding[i] !== 0) throw malformed(`init.padding byte ${i} is ${padding[i]}, expected 0`);
  }
  const bodyEnd = r.offset;
  const cookieLen = r.u8('cookieLength');
  if (cookieLen !== 0 && cookieLen !== HS_COOKIE_BYTES) throw malformed(`init.cookieLength ${cookieLen} not in [0,${HS_COOKIE_BYTES}]`);
  const cookie = cookieLen === 0 ? undefined : r.bytes(cookieLen, 'cookie');
  r.end();
  return {
    version,
    authMode: mode === HS_AUTH_CERTIFICATE ? 'certificate' : 'psk',
    versions,
    suiteIds,
    initiatorSessionId,
    timestampMs,
    random,
    x25519PublicKey,
    mlkemPublicKey,
    pskId,
    paddingBytes,
    cookie,
    body: msg.subarray(0, bodyEnd),
  };
}

// ---- Response (handshake.md §3.3) ----------------------------------------------------------

/**
 * Encode the cleartext prefix of a Response (everything before the encrypted length); the
 * transcript hashes it into TH2 before the encrypted part can be computed.
 *
 * @example const clear = encodeResponseClear(fields); const th2 = th.mix(clear)
 */
export function encodeResponseClear(m: Omit<ResponseMessage, 'encrypted'>): Uint8Array {
  checkList(m.versions, HS_MAX_VERSIONS, 'versions');
  checkList(m.suiteIds, HS_MAX_SUITES, 'suites');
  const size = 12 + 1 + m.versions.length + 1 + m.suiteIds.length + X25519_PUBLIC_KEY_BYTES +
    (m.mlkemCiphertext === undefined ? 0 : MLKEM768_CIPHERTEXT_BYTES);
  const w = new Writer(size);
  w.u8(m.version);
  w.u8(HS_TYPE_RESPONSE);
  w.u8(m.suiteId);
  w.u8(m.mlkemCiphertext === undefined ? 0 : FLAG_MLKEM);
  w.u32(m.initiatorSessionId);
  w.u32(m.responderSessionId);
  w.list(m.versions);
  w.list(m.suiteIds);
  w.bytes(m.x25519PublicKey);
  if (m.mlkemCiphertext !== undefined) w.bytes(m.mlkemCiphertext);
  return w.done();
}

/**
 * Join a Response's cleartext prefix and its encrypted authentication payload.
 *
 * @example const response = encodeResponseTail(clear, sealedAuth)
 */
export function encodeResponseTail(clear: Uint8Array, encrypted: Uint8Array): Uint8Array {
  const w = new Writer(clear.length + 2 + encrypted.length);
  w.bytes(clear);
  w.u16(encrypted.length);
  w.bytes(encrypted);
  return w.done();
}

/**
 * Decode a Response; MALFORMED on any syntax error, VERSION on an unknown version byte.
 *
 * @example const response = decodeResponse(datagram)
 */
export function decodeResponse(msg: Uint8Array): DecodedResponse {
  checkHeader(msg, HS_TYPE_RESPONSE, 'response', HS_RESPONSE_MAX_BYTES, 4);
  const r = new Reader(msg, 'response');
  const version = r.u8('version');
  r.u8('type');
  const suiteId = r.u8('suite');
  const flags = r.u8('flags');
  if ((flags & ~FLAG_MLKEM) !== 0) throw malformed(`response.flags 0x${flags.toString(16)} has unknown bits`);
  const initiatorSessionId = r.u32('initiatorSessionId');
  const responderSessionId = r.u32('responderSessionId');
  const versions = r.list(HS_MAX_VERSIONS, 'versions');
  const suiteIds = r.list(HS_MAX_SUITES, 'suites');
  const x25519PublicKey = r.bytes(X25519_PUBLIC_KEY_BYTES, 'x25519PublicKey');
  const mlkemCiphertext = (flags & FLAG_MLKEM) !== 0 ? r.bytes(MLKEM768_CIPHERTEXT_BYTES, 'mlkemCiphertext') : undefined;
  const clearEnd = r.offset;
  const encLen = r.u16('encryptedLength');
  const encrypted = r.bytes(encLen, 'encrypted');
  r.end();
  return {
    version,
    suiteId,
    initiatorSessionId,
    responderSessionId,
    versions,
    suiteIds,
    x25519PublicKey,
    mlkemCiphertext,
    encrypted,
    clear: msg.subarray(0, clearEnd),
    bytes: msg,
  };
}

// ---- Finish (handshake.md §3.4) ------------------------------------------------------------

/**
 * Encode the 14-byte Finish header (it is AEAD associated data, so it exists before the
 * ciphertext).
 *
 * @example const header = encodeFinishHeader({ version: 1, initiatorSessionId, responderSessionId, encryptedLength })
 */
export function encodeFinishHeader(m: {
  version: number;
  initiatorSessionId: number;
  responderSessionId: number;
  encryptedLength: number;
}): Uint8Array {
  const w = new Writer(FINISH_HEADER_BYTES);
  w.u8(m.version);
  w.u8(HS_TYPE_FINISH);
  w.u16(0);
  w.u32(m.initiatorSessionId);
  w.u32(m.responderSessionId);
  w.u16(m.encryptedLength);
  return w.done();
}

/**
 * Decode a Finish; MALFORMED on any syntax error, VERSION on an unknown version byte.
 *
 * @example const finish = decodeFinish(datagram)
 */
export function decodeFinish(msg: Uint8Array): DecodedFinish {
  checkHeader(msg, HS_TYPE_FINISH, 'finish', HS_FINISH_MAX_BYTES, 4);
  const r = new Reader(msg, 'finish');
  const version = r.u8('version');
  r.u8('type');
  const reserved = r.u16('reserved');
  if (reserved !== 0) throw malformed(`finish.reserved ${reserved} != 0`);
  const initiatorSessionId = r.u32('initiatorSessionId');
  const responderSessionId = r.u32('responderSessionId');
  const encLen = r.u16('encryptedLength');
  const encrypted = r.bytes(encLen, 'encrypted');
  r.end();
  return { version, initiatorSessionId, responderSessionId, encrypted, header: msg.subarray(0, FINISH_HEADER_BYTES) };
}

// ---- CookieReply (handshake.md §3.5) -------------------------------------------------------

/**
 * Encode a CookieReply (always HS_COOKIE_REPLY_BYTES = 45 bytes).
 *
 * @example encodeCookieReply({ version: 1, initiatorSessionId, initId: th1.subarray(0, 16), cookie })
 */
export function encodeCookieReply(m: CookieReplyMessage): Uint8Array {
  const w = new Writer(HS_COOKIE_REPLY_BYTES);
  w.u8(m.version);
  w.u8(HS_TYPE_COOKIE_REPLY);
  w.u16(0);
  w.u32(m.initiatorSessionId);
  w.bytes(m.initId);
  w.u8(m.cookie.length);
  w.bytes(m.cookie);
  return w.done();
}

/**
 * Decode a CookieReply; MALFORMED on any syntax error, VERSION on an unknown version byte.
 *
 * @example const reply = decodeCookieReply(datagram)
 */
export function decodeCookieReply(msg: Uint8Array): CookieReplyMessage {
  checkHeader(msg, HS_TYPE_COOKIE_REPLY, 'cookieReply', HS_COOKIE_REPLY_BYTES, HS_COOKIE_REPLY_BYTES);
  const r = new Reader(msg, 'cookieReply');
  const version = r.u8('version');
  r.u8('type');
  const reserved = r.u16('reserved');
  if (reserved !== 0) throw malformed(`cookieReply.reserved ${reserved} != 0`);
  const initiatorSessionId = r.u32('initiatorSessionId');
  const initId = r.bytes(HS_INIT_ID_BYTES, 'initId');
  const cookieLen = r.u8('cookieLength');
  if (cookieLen !== HS_COOKIE_BYTES) throw malformed(`cookieReply.cookieLength ${cookieLen} != ${HS_COOKIE_BYTES}`);
  const cookie = r.bytes(cookieLen, 'cookie');
  r.end();
  return { version, initiatorSessionId, initId, cookie };
}

// ---- authentication payload (handshake.md §3.6) --------------------------------------------

/**
 * Encode the plaintext that Response and Finish carry encrypted.
 *
 * @example encodeAuthPayload({ kind: 'psk', mac })
 */
export function encodeAuthPayload(p: AuthPayload): Uint8Array {
  if (p.kind === 'psk') {
    const w = new Writer(1 + HS_MAC_BYTES);
    w.u8(HS_AUTH_PSK);
    w.bytes(p.mac);
    return w.done();
  }
  if (p.certificate.length > HS_MAX_CERTIFICATE_BYTES) {
    throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `certificate length ${p.certificate.length} > max ${HS_MAX_CERTIFICATE_BYTES}`);
  }
  const w = new Writer(3 + p.certificate.length + ED25519_SIGNATURE_BYTES);
  w.u8(HS_AUTH_CERTIFICATE);
  w.u16(p.certificate.length);
  w.bytes(p.certificate);
  w.bytes(p.signature);
  return w.done();
}

/**
 * Decode a decrypted authentication payload and check it matches the negotiated mode.
 *
 * @example const auth = decodeAuthPayload(plaintext, 'certificate')
 */
export function decodeAuthPayload(msg: Uint8Array, mode: 'certificate' | 'psk'): AuthPayload {
  const r = new Reader(msg, 'auth');
  const kind = r.u8('kind');
  const expected = mode === 'certificate' ? HS_AUTH_CERTIFICATE : HS_AUTH_PSK;
  if (kind !== expected) throw malformed(`auth.kind ${kind} != ${expected} (${mode})`);
  if (mode === 'psk') {
    const mac = r.bytes(HS_MAC_BYTES, 'mac');
    r.end();
    return { kind: 'psk', mac };
  }
  const certLen = r.u16('certificateLength');
  if (certLen < 1 || certLen > HS_MAX_CERTIFICATE_BYTES) throw malformed(`auth.certificateLength ${certLen} not in 1..${HS_MAX_CERTIFICATE_BYTES}`);
  const certificate = r.bytes(certLen, 'certificate');
  const signature = r.bytes(ED25519_SIGNATURE_BYTES, 'signature');
  r.end();
  return { kind: 'certificate', certificate, signature };
}
