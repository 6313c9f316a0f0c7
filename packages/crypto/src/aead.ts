/**
 * AEAD: chacha20-poly1305 (RFC 8439 §2.8) and aes-256-gcm (NIST SP 800-38D) behind one
 * interface, with three implementations:
 *   - 'native' (default when its addon is built): the OpenSSL inside node through a small N-API
 *              addon (src/native/aead.c) that keeps one initialised cipher context per key and
 *              direction: one call per message, nothing allocated (~1 us per 1400-byte packet
 *              against ~6.8 us for node:crypto's per-message Cipher objects, measured here);
 *   - 'node'   (the default without the addon): node:crypto / OpenSSL;
 *   - 'noble'  @noble/ciphers, portable pure JS, used to cross-check and as a fallback.
 * All produce the same bytes (tests run one vector suite against each).
 *
 * Sealed format: ciphertext || 16-byte tag (the RFC 8439 / GCM convention).
 *
 * Allocations per call on the node path (the Cipher API allows no fewer):
 *   seal:     the Cipher object, update()'s output, the 16-byte tag, + 1 result buffer;
 *   sealInto: the same minus the result buffer (written into the caller's buffer);
 *   open:     the Decipher object and update()'s output (returned as is, no copy);
 *   openInto: the same, then copied into the caller's buffer and the temporary wiped.
 * The key is copied once at creation; no per-call key setup in JS.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import { createRequire } from 'node:module';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { gcm } from '@noble/ciphers/aes.js';
import { CryptoError } from './errors.js';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from './constants.js';

/** Supported AEAD algorithms (names as in node:crypto / OpenSSL). */
export type AeadAlgorithm = 'chacha20-poly1305' | 'aes-256-gcm';
/** Which library runs the cipher. */
export type AeadImplementation = 'native' | 'node' | 'noble';

/** Every supported algorithm, in preference order. */
export const AEAD_ALGORITHMS: readonly AeadAlgorithm[] = ['chacha20-poly1305', 'aes-256-gcm'];

/** Options of createAead(). */
export interface AeadInit {
  /** 'native' (default when built), 'node' (node:crypto; default otherwise) or 'noble' (pure JS). */
  implementation?: AeadImplementation;
}

/** One AEAD key. Not safe to share across threads; cheap to keep for a session. */
export interface Aead {
  readonly algorithm: AeadAlgorithm;
  readonly implementation: AeadImplementation;
  readonly keyLength: 32;
  readonly nonceLength: 12;
  readonly tagLength: 16;
  /** Encrypt and authenticate: returns ciphertext || tag (plaintext.length + 16 bytes). */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /**
   * Like seal() but writes ciphertext || tag into `output` at `offset` (default 0); returns
   * the number of bytes written. `output` must not overlap `plaintext`.
   */
  sealInto(nonce: Uint8Array, plaintext: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset?: number): number;
  /** Verify and decrypt ciphertext || tag. Throws CryptoError CRYPTO_AUTH_FAILED on any mismatch. */
  open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Like open() but writes the plaintext into `output` at `offset`; returns its length. */
  openInto(nonce: Uint8Array, sealed: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset?: number): number;
  /**
   * The data-plane form of openInto(): `sealed` is `length` bytes at `sealedOffset` of
   * `input`; the plaintext goes to `output` at `offset` (may be the same bytes, in place).
   * Returns the plaintext length, or -1 when the tag does not match (the output range is then
   * wiped): wire input that fails authentication is a count, not an exception. Throws
   * CRYPTO_INVALID_ARGUMENT only for a destroyed key, a bad nonce or ranges outside the arrays.
   */
  tryOpenInto(nonce: Uint8Array, input: Uint8Array, sealedOffset: number, length: number, output: Uint8Array, aad?: Uint8Array, offset?: number): number;
  /** Wipe the key; every later call throws CRYPTO_INVALID_ARGUMENT. Safe to call twice. */
  destroy(): void;
  /** True after destroy(). */
  readonly destroyed: boolean;
}

const NODE_OPTIONS = { authTagLength: AEAD_TAG_BYTES } as const;

function invalid(message: string): CryptoError {
  return new CryptoError('CRYPTO_INVALID_ARGUMENT', message);
}

function authFailed(algorithm: AeadAlgorithm, cause?: unknown): CryptoError {
  return new CryptoError('CRYPTO_AUTH_FAILED', `${algorithm} authentication failed: tag does not match`, cause === undefined ? {} : { cause });
}

function checkOutput(output: Uint8Array, offset: number, needed: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + needed > output.length) {
    throw invalid(`output length ${output.length} < offset ${offset} + ${needed}`);
  }
}

function checkRange(input: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > input.length) {
    throw invalid(`input range ${offset}+${length} lies outside an array of ${input.length} bytes`);
  }
}

/** Shared state and argument checks; subclasses supply the cipher calls. */
abstract class AeadBase implements Aead {
  readonly keyLength = AEAD_KEY_BYTES;
  readonly nonceLength = AEAD_NONCE_BYTES;
  readonly tagLength = AEAD_TAG_BYTES;
  destroyed = false;
  protected readonly key: Buffer;

  constructor(
    readonly algorithm: AeadAlgorithm,
    readonly implementation: AeadImplementation,
    key: Uint8Array,
  ) {
    // Own copy: the caller may wipe its buffer; destroy() wipes ours.
    this.key = Buffer.alloc(AEAD_KEY_BYTES);
    this.key.set(key);
  }

  protected check(nonce: Uint8Array): void {
    if (this.destroyed) throw invalid(`${this.algorithm} key was destroyed`);
    if (nonce.length !== AEAD_NONCE_BYTES) throw invalid(`${this.algorithm} nonce length ${nonce.length} != ${AEAD_NONCE_BYTES}`);
  }

  protected checkSealed(sealed: Uint8Array): void {
    // Wire input: too short to hold a tag is an authentication failure, not a programming error.
    if (sealed.length < AEAD_TAG_BYTES) {
      throw new CryptoError('CRYPTO_AUTH_FAILED', `${this.algorithm} sealed length ${sealed.length} < tag length ${AEAD_TAG_BYTES}`);
    }
  }

  abstract seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;

  tryOpenInto(nonce: Uint8Array, input: Uint8Array, sealedOffset: number, length: number, output: Uint8Array, aad?: Uint8Array, offset = 0): number {
    this.check(nonce);
    checkRange(input, sealedOffset, length);
    if (length < AEAD_TAG_BYTES) return -1;
    checkOutput(output, offset, length - AEAD_TAG_BYTES);
    try {
      return this.openInto(nonce, input.subarray(sealedOffset, sealedOffset + length), output, aad, offset);
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'CRYPTO_AUTH_FAILED') {
        output.fill(0, offset, offset + length - AEAD_TAG_BYTES);
        return -1;
      }
      throw error;
    }
  }

  abstract sealInto(nonce: Uint8Array, plaintext: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset?: number): number;
  abstract open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;

  openInto(nonce: Uint8Array, sealed: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset = 0): number {
    this.check(nonce);
    this.checkSealed(sealed);
    const n = sealed.length - AEAD_TAG_BYTES;
    checkOutput(output, offset, n);
    const pt = this.open(nonce, sealed, aad);
    output.set(pt, offset);
    pt.fill(0);
    return n;
  }

  destroy(): void {
    this.key.fill(0);
    this.destroyed = true;
  }
}

class NodeAead extends AeadBase {
  private readonly cipherName: CipherGCMTypes | 'chacha20-poly1305';

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    super(algorithm, 'node', key);
    this.cipherName = algorithm;
  }

  private encrypt(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined): { ct: Buffer; tag: Buffer } {
    this.check(nonce);
    const c = createCipheriv(this.cipherName as 'chacha20-poly1305', this.key, nonce, NODE_OPTIONS);
    if (aad !== undefined && aad.length > 0) c.setAAD(aad, { plaintextLength: plaintext.length });
    const ct = c.update(plaintext);
    c.final(); // stream ciphers: returns an empty buffer
    return { ct, tag: c.getAuthTag() };
  }

  seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
    const { ct, tag } = this.encrypt(nonce, plaintext, aad);
    const out = new Uint8Array(ct.length + AEAD_TAG_BYTES);
    out.set(ct, 0);
    out.set(tag, ct.length);
    return out;
  }

  sealInto(nonce: Uint8Array, plaintext: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset = 0): number {
    checkOutput(output, offset, plaintext.length + AEAD_TAG_BYTES);
    const { ct, tag } = this.encrypt(nonce, plaintext, aad);
    output.set(ct, offset);
    output.set(tag, offset + ct.length);
    return ct.length + AEAD_TAG_BYTES;
  }

  open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
    this.check(nonce);
    this.checkSealed(sealed);
    const n = sealed.length - AEAD_TAG_BYTES;
    const d = createDecipheriv(this.cipherName as 'chacha20-poly1305', this.key, nonce, NODE_OPTIONS);
    d.setAuthTag(sealed.subarray(n));
    if (aad !== undefined && aad.length > 0) d.setAAD(aad, { plaintextLength: n });
    const pt = d.update(sealed.subarray(0, n));
    try {
      d.final();
    } catch (cause) {
      pt.fill(0); // never hand out (or leave around) unauthenticated plaintext
      throw authFailed(this.algorithm, cause);
    }
    return new Uint8Array(pt.buffer, pt.byteOffset, pt.byteLength);
  }
}

class NobleAead extends AeadBase {
  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    super(algorithm, 'noble', key);
  }

  private cipher(nonce: Uint8Array, aad: Uint8Array | undefined) {
    this.check(nonce);
    const a = aad !== undefined && aad.length > 0 ? aad : undefined;
    return this.algorithm === 'chacha20-poly1305' ? chacha20poly1305(this.key, nonce, a) : gcm(this.key, nonce, a);
  }

  seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
    return this.cipher(nonce, aad).encrypt(plaintext);
  }

  sealInto(nonce: Uint8Array, plaintext: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset = 0): number {
    const n = plaintext.length + AEAD_TAG_BYTES;
    checkOutput(output, offset, n);
    const sealed = this.seal(nonce, plaintext, aad);
    output.set(sealed, offset);
    return n;
  }

  open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
    const c = this.cipher(nonce, aad);
    this.checkSealed(sealed);
    try {
      return c.decrypt(sealed);
    } catch (cause) {
      throw authFailed(this.algorithm, cause);
    }
  }
}

/** The addon's functions (src/native/aead.c). */
interface NativeAeadModule {
  create(algorithm: 0 | 1, key: Uint8Array): object;
  seal(handle: object, nonce: Uint8Array, aad: Uint8Array | null, src: Uint8Array, srcOffset: number, length: number, dst: Uint8Array, dstOffset: number): number;
  open(handle: object, nonce: Uint8Array, aad: Uint8Array | null, src: Uint8Array, srcOffset: number, length: number, dst: Uint8Array, dstOffset: number): number;
  destroy(handle: object): void;
}

const require = createRequire(import.meta.url);
// src/ and dist/ both sit one level below the package root, beside build/.
const NATIVE_ADDON_PATH = '../build/Release/aead.node';
let nativeModule: NativeAeadModule | null | undefined;
let nativeLoadError = '';

function loadNative(): NativeAeadModule | null {
  if (nativeModule !== undefined) return nativeModule;
  try {
    nativeModule = require(NATIVE_ADDON_PATH) as NativeAeadModule;
  } catch (error) {
    nativeModule = null;
    nativeLoadError = (error as Error).message.split('\n', 1)[0] ?? '';
  }
  return nativeModule;
}

/**
 * True when the 'native' AEAD addon is built and loads (createAead's default is then 'native').
 *
 * @example
 * if (!nativeAeadAvailable()) log.warn('AEAD falls back to node:crypto (slower): build @edgebox/crypto with node-gyp');
 */
export function nativeAeadAvailable(): boolean {
  return loadNative() !== null;
}

/** The implementation createAead() uses when none is asked for: 'native' when built, else 'node'. */
export function defaultAeadImplementation(): AeadImplementation {
  return loadNative() === null ? 'node' : 'native';
}

class NativeAead extends AeadBase {
  private readonly native: NativeAeadModule;
  private readonly handle: object;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array, native: NativeAeadModule) {
    super(algorithm, 'native', key);
    this.native = native;
    // The contexts hold the key schedule; our copy is not needed after this.
    this.handle = native.create(algorithm === 'chacha20-poly1305' ? 0 : 1, this.key);
    this.key.fill(0);
  }

  seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
    this.sealInto(nonce, plaintext, out, aad, 0);
    return out;
  }

  sealInto(nonce: Uint8Array, plaintext: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset = 0): number {
    this.check(nonce);
    checkOutput(output, offset, plaintext.length + AEAD_TAG_BYTES);
    return this.native.seal(this.handle, nonce, aad ?? null, plaintext, 0, plaintext.length, output, offset);
  }

  open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
    this.check(nonce);
    this.checkSealed(sealed);
    const out = new Uint8Array(sealed.length - AEAD_TAG_BYTES);
    if (this.native.open(this.handle, nonce, aad ?? null, sealed, 0, sealed.length, out, 0) < 0) throw authFailed(this.algorithm);
    return out;
  }

  override openInto(nonce: Uint8Array, sealed: Uint8Array, output: Uint8Array, aad?: Uint8Array, offset = 0): number {
    this.check(nonce);
    this.checkSealed(sealed);
    checkOutput(output, offset, sealed.length - AEAD_TAG_BYTES);
    const n = this.native.open(this.handle, nonce, aad ?? null, sealed, 0, sealed.length, output, offset);
    if (n < 0) throw authFailed(this.algorithm);
    return n;
  }

  override tryOpenInto(nonce: Uint8Array, input: Uint8Array, sealedOffset: number, length: number, output: Uint8Array, aad?: Uint8Array, offset = 0): number {
    this.check(nonce);
    checkRange(input, sealedOffset, length);
    if (length < AEAD_TAG_BYTES) return -1;
    checkOutput(output, offset, length - AEAD_TAG_BYTES);
    return this.native.open(this.handle, nonce, aad ?? null, input, sealedOffset, length, output, offset);
  }

  override destroy(): void {
    if (!this.destroyed) this.native.destroy(this.handle);
    super.destroy();
  }
}

/**
 * Create an AEAD for one 32-byte key. The key is copied; destroy() wipes the copy.
 *
 * @example
 * const aead = createAead('chacha20-poly1305', key);            // native, else node:crypto
 * const sealed = aead.seal(nonce, packet, header);               // ciphertext || tag
 * const plain = aead.open(nonce, sealed, header);                // throws CRYPTO_AUTH_FAILED
 * aead.destroy();
 */
export function createAead(algorithm: AeadAlgorithm, key: Uint8Array, init: AeadInit = {}): Aead {
  if (algorithm !== 'chacha20-poly1305' && algorithm !== 'aes-256-gcm') {
    throw invalid(`aead algorithm ${String(algorithm)} is not one of ${AEAD_ALGORITHMS.join(', ')}`);
  }
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_BYTES) {
    throw invalid(`${algorithm} key length ${key?.length} != ${AEAD_KEY_BYTES}`);
  }
  const impl = init.implementation ?? defaultAeadImplementation();
  if (impl === 'native') {
    const native = loadNative();
    if (native === null) throw new CryptoError('CRYPTO_NATIVE_UNAVAILABLE', `aead implementation native is not built (${nativeLoadError}): build it with \`npm run build-native -w @edgebox/crypto\` (needs python3, make, g++) or use 'node'`);
    return new NativeAead(algorithm, key, native);
  }
  if (impl === 'node') return new NodeAead(algorithm, key);
  if (impl === 'noble') return new NobleAead(algorithm, key);
  throw invalid(`aead implementation ${String(impl)} is not one of native, node, noble`);
}
