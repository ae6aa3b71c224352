/**
 * A gzip member holding `data` uncompressed (deflate "stored" blocks): the per-proxy head
 * is a few KB, so compressing it costs more (a zlib stream per response) than it saves.
 * Followed by the shared, really compressed tail member, the body is one valid gzip stream.
 */
import { crc32 } from 'node:zlib';

const MAX_BLOCK = 65535;

export function gzipStored(data: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_BLOCK));
  const out = Buffer.alloc(10 + blocks * 5 + data.length + 8);
  // Header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], 0);
  let pos = 10;
  for (let i = 0; i < blocks; i++) {
    const chunk = data.subarray(i * MAX_BLOCK, Math.min(data.length, (i + 1) * MAX_BLOCK));
    out[pos] = i === blocks - 1 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    out.writeUInt16LE(chunk.length, pos + 1);
    out.writeUInt16LE(~chunk.length & 0xffff, pos + 3);
    out.set(chunk, pos + 5);
    pos += 5 + chunk.length;
  }
  out.writeUInt32LE(crc32(data) >>> 0, pos);
  out.writeUInt32LE(data.length >>> 0, pos + 4);
  return out;
}
