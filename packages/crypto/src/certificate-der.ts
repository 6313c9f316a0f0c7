/**
 * A small read-only DER walker for the fields of an X.509 certificate that node:crypto does
 * not expose (RFC 5280 §4.1): subject/issuer common names, validity, serial and the
 * extensions (critical flags, basicConstraints, keyUsage bits, extKeyUsage, subjectAltName).
 *
 * Why not @peculiar/x509 here: its ASN.1 schema layer costs ~0.8 ms per certificate, ten times
 * node:crypto's parse, and verify() sits on the handshake path. This walker only runs on bytes
 * OpenSSL has already parsed and re-encoded identically (canonical DER), and every read is
 * bounds-checked; any surprise throws, and the caller maps it to CRYPTO_CERT_INVALID.
 */

/** One extension as found in the certificate. */
export interface DerExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** Content of the extnValue OCTET STRING. */
  readonly value: Uint8Array;
}

/** The certificate fields this walker reads. */
export interface DerCertificateFields {
  /** Serial number content octets, lowercase hex (as encoded, sign octet included). */
  readonly serialHex: string;
  readonly issuerCommonName: string | undefined;
  readonly subjectCommonName: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly DerExtension[];
}

class DerError extends Error {}

interface Tlv {
  readonly tag: number;
  /** First content byte. */
  readonly start: number;
  /** One past the last content byte. */
  readonly end: number;
}

/** Read the TLV at `pos`, which must end at or before `limit` (definite lengths only). */
function tlv(b: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError(`TLV header at ${pos} past ${limit}`);
  const tag = b[pos] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at ${pos}`);
  let len = b[pos + 1] as number;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > limit) throw new DerError(`length of ${n} octets at ${pos}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[start + i] as number);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError(`TLV at ${pos} length ${len} past ${limit}`);
  return { tag, start, end };
}

function want(t: Tlv, tag: number, what: string): Tlv {
  if (t.tag !== tag) throw new DerError(`${what}: tag 0x${t.tag.toString(16)} != 0x${tag.toString(16)}`);
  return t;
}

/** Children of a constructed TLV. */
function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end; ) {
    const t = tlv(b, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  return out;
}

/** Dotted OID from the content of an OBJECT IDENTIFIER. */
export function decodeOid(b: Uint8Array, t: Tlv): string {
  want(t, 0x06, 'OID');
  if (t.end === t.start) throw new DerError('empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (let i = t.start; i < t.end; i++) {
    const byte = b[i] as number;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  if (((b[t.end - 1] as number) & 0x80) !== 0) throw new DerError('truncated OID');
  return arcs.join('.');
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

function decodeString(b: Uint8Array, t: Tlv): string {
  const bytes = b.subarray(t.start, t.end);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return textDecoder.decode(bytes);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString (read as Latin-1, as OpenSSL does)
      return Buffer.from(bytes).toString('latin1');
    case 0x1e: {
      // BMPString: UTF-16BE
      if (bytes.length % 2 !== 0) throw new DerError('odd BMPString');
      let s = '';
      for (let i = 0; i < bytes.length; i += 2) s += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
      return s;
    }
    default:
      throw new DerError(`string tag 0x${t.tag.toString(16)}`);
  }
}

/** The first CN (2.5.4.3) of a Name, or undefined. */
function commonNameOf(b: Uint8Array, name: Tlv): string | undefined {
  want(name, 0x30, 'Name');
  for (const rdn of children(b, name)) {
    want(rdn, 0x31, 'RDN');
    for (const atv of children(b, rdn)) {
      const [type, value] = children(b, want(atv, 0x30, 'AttributeTypeAndValue'));
      if (type === undefined || value === undefined) throw new DerError('short AttributeTypeAndValue');
      if (decodeOid(b, type) === '2.5.4.3') return decodeString(b, value);
    }
  }
  return undefined;
}

function decodeTime(b: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(b.subarray(t.start, t.end)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)) !== null) {
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy; // RFC 5280 §4.1.2.5.1
  } else if (t.tag === 0x18 && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)) !== null) {
    year = Number(m[1]);
  } else {
    throw new DerError(`time ${JSON.stringify(s)}`);
  }
  const [, , mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(year, mo - 1, d, h, mi, se);
  const check = new Date(ms);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) throw new DerError(`time ${s}`);
  return check;
}

/**
 * Read the fields of a DER certificate. Throws (a plain Error) on anything unexpected; the
 * caller turns that into CRYPTO_CERT_INVALID.
 */
export function readCertificateFields(der: Uint8Array): DerCertificateFields {
  const cert = want(tlv(der, 0, der.length), 0x30, 'Certificate');
  if (cert.end !== der.length) throw new DerError('trailing bytes');
  const [tbs] = children(der, cert);
  if (tbs === undefined) throw new DerError('no TBSCertificate');
  const f = children(der, want(tbs, 0x30, 'TBSCertificate'));
  let i = 0;
  if (f[i]?.tag === 0xa0) i++; // [0] version
  const serial = want(f[i++] ?? fail('no serial'), 0x02, 'serial');
  i++; // signature AlgorithmIdentifier (node:crypto checks the signature)
  const issuer = f[i++] ?? fail('no issuer');
  const validity = children(der, want(f[i++] ?? fail('no validity'), 0x30, 'Validity'));
  const subject = f[i++] ?? fail('no subject');
  i++; // subjectPublicKeyInfo (node:crypto reads the key)
  const extensions: DerExtension[] = [];
  for (; i < f.length; i++) {
    const t = f[i] as Tlv;
    if (t.tag !== 0xa3) continue; // [1]/[2] unique identifiers
    const seen = new Set<string>();
    for (const ext of children(der, want(children(der, t)[0] ?? fail('empty [3]'), 0x30, 'Extensions'))) {
      const parts = children(der, want(ext, 0x30, 'Extension'));
      const oid = decodeOid(der, parts[0] ?? fail('no extnID'));
      let critical = false;
      let valueTlv = parts[1] ?? fail('no extnValue');
      if (valueTlv.tag === 0x01) {
        if (valueTlv.end - valueTlv.start !== 1) throw new DerError('BOOLEAN length');
        critical = der[valueTlv.start] !== 0;
        valueTlv = parts[2] ?? fail('no extnValue');
      }
      want(valueTlv, 0x04, 'extnValue');
      if (seen.has(oid)) throw new DerError(`extension ${oid} twice`); // RFC 5280 §4.2
      seen.add(oid);
      extensions.push({ oid, critical, value: der.subarray(valueTlv.start, valueTlv.end) });
    }
  }
  const [nb, na] = validity;
  return {
    serialHex: Buffer.from(der.subarray(serial.start, serial.end)).toString('hex'),
    issuerCommonName: commonNameOf(der, issuer),
    subjectCommonName: commonNameOf(der, subject),
    notBefore: decodeTime(der, nb ?? fail('no notBefore')),
    notAfter: decodeTime(der, na ?? fail('no notAfter')),
    extensions,
  };
}

function fail(message: string): never {
  throw new DerError(message);
}

/** basicConstraints (2.5.29.19) value: cA flag. */
export function decodeBasicConstraintsCa(value: Uint8Array): boolean {
  const seq = want(tlv(value, 0, value.length), 0x30, 'BasicConstraints');
  const first = children(value, seq)[0];
  if (first === undefined || first.tag !== 0x01) return false; // cA DEFAULT FALSE
  return value[first.start] !== 0;
}

/**
 * keyUsage (2.5.29.15) value as a bit mask with bit i = RFC 5280 KeyUsage bit i
 * (digitalSignature = 1, keyCertSign = 32, cRLSign = 64, decipherOnly = 256).
 */
export function decodeKeyUsage(value: Uint8Array): number {
  const bits = want(tlv(value, 0, value.length), 0x03, 'KeyUsage');
  let mask = 0;
  for (let bit = 0; bit < 9; bit++) {
    const at = bits.start + 1 + (bit >> 3);
    if (at < bits.end && ((value[at] as number) & (0x80 >> (bit & 7))) !== 0) mask |= 1 << bit;
  }
  return mask;
}

/** extKeyUsage (2.5.29.37) value: the KeyPurposeId OIDs. */
export function decodeExtKeyUsage(value: Uint8Array): string[] {
  const seq = want(tlv(value, 0, value.length), 0x30, 'ExtKeyUsage');
  return children(value, seq).map((t) => decodeOid(value, t));
}

function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new DerError(`iPAddress of ${bytes.length} bytes`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first if tied
  let best = -1;
  let bestLen = 1;
  for (let s = 0; s < 8; s++) {
    let e = s;
    while (e < 8 && groups[e] === 0) e++;
    if (e - s > bestLen) {
      best = s;
      bestLen = e - s;
    }
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** subjectAltName (2.5.29.17) value: dNSName and iPAddress entries (others ignored). */
export function decodeSubjectAltNames(value: Uint8Array): { dns: string[]; ip: string[] } {
  const seq = want(tlv(value, 0, value.length), 0x30, 'GeneralNames');
  const dns: string[] = [];
  const ip: string[] = [];
  for (const t of children(value, seq)) {
    if (t.tag === 0x82) dns.push(Buffer.from(value.subarray(t.start, t.end)).toString('latin1'));
    else if (t.tag === 0x87) ip.push(formatIp(value.subarray(t.start, t.end)));
  }
  return { dns, ip };
}
