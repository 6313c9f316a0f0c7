/**
 * Capabilities (docs/protocols/p2p.md §3.4): what each side of a session supports, sent once
 * in a CAPS frame on the handshake stream right after the crypto handshake (inside Noise, so
 * bound to the authenticated peer id). A feature is used only when both sides have it.
 *
 *   CAPS payload = version u8 (=1) ‖ features u32 BE ‖ maxMessageBytes u32 BE ‖ (ignored)
 *   features     = bit 0 ACKS, bit 1 PRIORITIES, bit 2 RESUMPTION; other bits ignored
 *
 * Later versions keep this layout as their prefix and append fields, so a v1 reader reads
 * what it knows and ignores the rest.
 */
import { CAPABILITIES_VERSION } from './constants.js';
import { P2pError } from './errors.js';

/** Feature bit: receiver acknowledges messages that ask for it (ACK frames, §4.2). */
export const CAP_ACKS = 0x1;
/** Feature bit: sender schedules by priority (local; advertised for status). */
export const CAP_PRIORITIES = 0x2;
/** Feature bit: responder issues resumption tickets and accepts them (§3.5). */
export const CAP_RESUMPTION = 0x4;

/** Bytes of a v1 CAPS payload. */
export const CAPABILITIES_BYTES = 9;

/** What one side supports. */
export type Capabilities = {
  version: number;
  acks: boolean;
  priorities: boolean;
  resumption: boolean;
  /** Largest plaintext this side accepts. */
  maxMessageBytes: number;
};

/** What a peer that sent no CAPS frame is taken to support: nothing optional. */
export function noCapabilities(maxMessageBytes: number): Capabilities {
  return { version: 0, acks: false, priorities: false, resumption: false, maxMessageBytes };
}

/**
 * The CAPS payload for `caps`.
 *
 * @example encodeCapabilities({ version: 1, acks: true, priorities: true, resumption: true, maxMessageBytes: 1 << 20 })
 */
export function encodeCapabilities(caps: Capabilities): Uint8Array {
  const out = new Uint8Array(CAPABILITIES_BYTES);
  const view = new DataView(out.buffer);
  out[0] = CAPABILITIES_VERSION;
  view.setUint32(1, (caps.acks ? CAP_ACKS : 0) | (caps.priorities ? CAP_PRIORITIES : 0) | (caps.resumption ? CAP_RESUMPTION : 0));
  view.setUint32(5, caps.maxMessageBytes >>> 0);
  return out;
}

/**
 * Read a CAPS payload (P2P_HANDSHAKE when shorter than v1 or version 0).
 *
 * @example const remote = decodeCapabilities(frame.payload);
 */
export function decodeCapabilities(payload: Uint8Array): Capabilities {
  if (payload.length < CAPABILITIES_BYTES || payload[0] === 0) {
    throw new P2pError('P2P_HANDSHAKE', `CAPS payload of ${payload.length} bytes, version ${payload[0] ?? '-'}: expected >= ${CAPABILITIES_BYTES} bytes, version >= 1`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const features = view.getUint32(1);
  return {
    version: payload[0]!,
    acks: (features & CAP_ACKS) !== 0,
    priorities: (features & CAP_PRIORITIES) !== 0,
    resumption: (features & CAP_RESUMPTION) !== 0,
    maxMessageBytes: view.getUint32(5),
  };
}

/**
 * What a session may use: features both sides have; the peer's message size limit.
 *
 * @example const use = negotiateCapabilities(local, remote); if (use.acks) ...
 */
export function negotiateCapabilities(local: Capabilities, remote: Capabilities): Capabilities {
  return {
    version: Math.min(local.version, remote.version),
    acks: local.acks && remote.acks,
    priorities: local.priorities && remote.priorities,
    resumption: local.resumption && remote.resumption,
    maxMessageBytes: remote.maxMessageBytes,
  };
}
