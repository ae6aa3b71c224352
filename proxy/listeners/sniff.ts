/** Protocol detection from the first bytes of a connection, and the SNI of a TLS ClientHello (pure). */

export type Sniffed = 'http1' | 'h2c' | 'tls' | 'tcp' | 'need-more';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function classify(buf: Buffer): Sniffed {
  if (buf.length === 0) return 'need-more';
  const n = Math.min(buf.length, PREFACE.length);
  if (buf.subarray(0, n).equals(PREFACE.subarray(0, n))) return buf.length >= PREFACE.length ? 'h2c' : 'need-more';
  if (buf[0] === 0x16) return buf.length < 2 ? 'need-more' : buf[1] === 0x03 ? 'tls' : 'tcp';
  // HTTP/1: a method token of upper-case letters then a space (longest method is 7 letters).
  for (let i = 0; i < buf.length && i < 12; i++) {
    const c = buf[i]!;
    if (c === 0x20) return i > 0 ? 'http1' : 'tcp';
    if (c < 0x41 || c > 0x5a) return c === 0x2d || c === 0x5f ? 'http1' : 'tcp';
  }
  return buf.length >= 12 ? 'tcp' : 'need-more';
}

/**
 * The server name of a TLS ClientHello: a string, `null` when there is none (or this is
 * not a ClientHello), or `undefined` when more bytes are needed.
 */
export function parseSni(buf: Buffer): string | null | undefined {
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0x16) return null;
  const recLen = buf.readUInt16BE(3);
  if (buf.length < 5 + recLen) return recLen > 16_384 ? null : undefined;
  let p = 5;
  if (buf[p] !== 0x01) return null; // handshake type ClientHello
  p += 4 + 2 + 32; // handshake header, version, random
  if (p >= buf.length) return null;
  p += 1 + buf[p]!; // session id
  if (p + 2 > buf.length) return null;
  p += 2 + buf.readUInt16BE(p); // cipher suites
  if (p >= buf.length) return null;
  p += 1 + buf[p]!; // compression methods
  if (p + 2 > buf.length) return null;
  const end = Math.min(buf.length, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= end) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 0 && p + 5 <= end) {
      // server_name list: list length (2), name type (1), name length (2), name
      const nameLen = buf.readUInt16BE(p + 3);
      if (buf[p + 2] === 0 && p + 5 + nameLen <= end) return buf.toString('latin1', p + 5, p + 5 + nameLen).toLowerCase();
      return null;
    }
    p += len;
  }
  return null;
}
