/**
 * Loads the batch_io addon (src/native/batch_io.c, built by node-gyp into build/Release on
 * `npm ci`) lazily, and packs/unpacks its address slots. When the addon is missing (no compiler
 * at install time, not Linux) {@link loadBatchIo} throws LINKS_NATIVE_UNAVAILABLE once per call
 * so callers can fall back to node:dgram / fs.writeSync.
 *
 * Address slot, ADDR_SLOT_BYTES per entry (the C side reads and writes the same layout):
 *
 *   0               16    18   19  20
 *   +---------------+-----+----+---+
 *   | address bytes | port| fam| 0 |   IPv4 in bytes 0..3; port big-endian; fam 4 | 6
 *   +---------------+-----+----+---+
 */
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { LinksError } from './errors.js';

/** Bytes per packed address in `sendBatch`/`recvBatch` address arrays. */
export const ADDR_SLOT_BYTES = 20;
/** Largest batch one native call takes (the C side's stack arrays). */
export const BATCH_IO_MAX = 1024;

/** Bytes of one batch: one buffer with offsets into it, or one buffer per entry. */
export type BatchData = Uint8Array | readonly Uint8Array[];

/** The addon's functions (see batch_io.c for the contract of each). @internal */
export interface BatchIoNative {
  udpOpen(family: 4 | 6, address: string, port: number, flags: number, receiveBufferBytes: number, sendBufferBytes: number): [fd: number, port: number];
  udpConnect(fd: number, family: 4 | 6, address: string, port: number): void;
  sendBatch(fd: number, data: BatchData, offsets: Uint32Array, lengths: Uint32Array, start: number, count: number, addrs: Uint8Array | null): number;
  recvBatch(fd: number, slots: Uint8Array, slotSize: number, count: number, lengths: Uint32Array, addrs: Uint8Array | null): number;
  writeBatch(fd: number, data: BatchData, offsets: Uint32Array, lengths: Uint32Array, start: number, count: number): number;
  readBatch(fd: number, slots: Uint8Array, slotSize: number, count: number, lengths: Uint32Array): number;
  pathMtu(fd: number, family: 4 | 6): number;
  close(fd: number): void;
  /** Readiness on the event loop (uv_poll_t): callback(status, events) while fd is readable. */
  watch(fd: number, callback: (status: number, events: number) => void): object;
  unwatch(handle: object): void;
}

/** udpOpen flags. @internal */
export const UDP_FLAG_DONT_FRAGMENT = 1;
/** udpOpen flags. @internal */
export const UDP_FLAG_V6ONLY = 2;

/** The error the addon throws for a failed syscall. @internal */
export interface NativeSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  index: number;
}

const require = createRequire(import.meta.url);
// src/ and dist/ both sit one level below the package root, beside build/.
const ADDON_PATH = '../build/Release/batch_io.node';
let native: BatchIoNative | undefined;
let loadError: Error | undefined;

/**
 * The batch_io addon, loaded on first use. Throws LINKS_NATIVE_UNAVAILABLE when it was not built.
 *
 * @example
 * let batched = true;
 * try { loadBatchIo(); } catch (err) { if (isLinksError(err, 'LINKS_NATIVE_UNAVAILABLE')) batched = false; }
 */
export function loadBatchIo(): BatchIoNative {
  if (native !== undefined) return native;
  if (loadError === undefined) {
    try {
      native = require(ADDON_PATH) as BatchIoNative;
      return native;
    } catch (error) {
      loadError = error as Error;
    }
  }
  throw new LinksError(
    'LINKS_NATIVE_UNAVAILABLE',
    `batched I/O addon is not available (${loadError.message.split('\n')[0] ?? ''}): build it with \`npm run build-native -w @edgebox/links\` (needs python3, make, g++) or fall back to node:dgram`,
    { cause: loadError, details: { path: ADDON_PATH } },
  );
}

/**
 * True when the batch_io addon loads (never throws).
 *
 * @example
 * const link = batchIoAvailable() ? await createBatchUdpSocket(init) : await createUdpLink(init);
 */
export function batchIoAvailable(): boolean {
  try {
    loadBatchIo();
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `address`:`port` into address slot `index` of `slots` (cold path: parses the text).
 *
 * @example
 * const addrs = new Uint8Array(64 * ADDR_SLOT_BYTES);
 * packAddress(addrs, 0, '127.0.0.1', 51820);
 */
export function packAddress(slots: Uint8Array, index: number, address: string, port: number): void {
  const at = index * ADDR_SLOT_BYTES;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LinksError('LINKS_INVALID_ARGUMENT', `port ${port} is not an integer 0..65535`, { details: { field: 'port', value: port } });
  if (at < 0 || at + ADDR_SLOT_BYTES > slots.length) throw new LinksError('LINKS_INVALID_ARGUMENT', `address slot ${index} lies outside an array of ${slots.length} bytes`, { details: { field: 'index', value: index } });
  slots.fill(0, at, at + ADDR_SLOT_BYTES);
  if (isIPv4(address)) {
    const parts = address.split('.');
    for (let i = 0; i < 4; i++) slots[at + i] = Number(parts[i]);
    slots[at + 18] = 4;
  } else if (isIPv6(address)) {
    writeIpv6(slots, at, address);
    slots[at + 18] = 6;
  } else {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `address ${JSON.stringify(address)} is not an IPv4 or IPv6 address`, { details: { field: 'address', value: address } });
  }
  slots[at + 16] = port >>> 8;
  slots[at + 17] = port & 0xff;
}

/**
 * Reads address slot `index` as text (cold path: allocates a string; compare bytes on hot paths).
 *
 * @example
 * const { address, port } = unpackAddress(sources, i); // '127.0.0.1', 40000
 */
export function unpackAddress(slots: Uint8Array, index: number): { family: 4 | 6; address: string; port: number } {
  const at = index * ADDR_SLOT_BYTES;
  const port = (slots[at + 16]! << 8) | slots[at + 17]!;
  if (slots[at + 18] === 4) return { family: 4, address: `${slots[at]}.${slots[at + 1]}.${slots[at + 2]}.${slots[at + 3]}`, port };
  if (slots[at + 18] !== 6) throw new LinksError('LINKS_INVALID_ARGUMENT', `address slot ${index} holds no address (family byte ${slots[at + 18]})`, { details: { field: 'index', value: index } });
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((slots[at + i]! << 8) | slots[at + i + 1]!).toString(16));
  return { family: 6, address: compressIpv6(groups), port };
}

function writeIpv6(slots: Uint8Array, at: number, address: string): void {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // embedded IPv4 (::ffff:192.0.2.1): rewrite it as the last two hex groups
    const v4 = text.slice(lastColon + 1).split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  const right = rest === undefined || rest === '' ? [] : rest.split(':').map((g) => parseInt(g, 16));
  const groups = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  for (let i = 0; i < 8; i++) {
    slots[at + 2 * i] = groups[i]! >>> 8;
    slots[at + 2 * i + 1] = groups[i]! & 0xff;
  }
}

/** RFC 5952 text: the longest run (>= 2) of zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
