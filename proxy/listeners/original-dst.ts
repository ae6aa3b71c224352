/**
 * SO_ORIGINAL_DST: the address the app dialled before iptables REDIRECTed it to the proxy,
 * read with libc getsockopt through koffi (prebuilt FFI, no native build). Returns
 * undefined when the connection was not redirected (local mode, explicit proxy).
 */
import type { Socket } from 'node:net';

type GetSockOpt = (fd: number, level: number, name: number, buf: Buffer, len: number[]) => number;

const SOL_IP = 0;
const SOL_IPV6 = 41;
const SO_ORIGINAL_DST = 80; // also IP6T_SO_ORIGINAL_DST

let getsockopt: GetSockOpt | null | undefined;

async function load(): Promise<GetSockOpt | null> {
  try {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    return libc.func('int getsockopt(int, int, int, void *optval, _Inout_ uint32_t *optlen)') as GetSockOpt;
  } catch {
    return null;
  }
}

/** Loads libc once at start-up (so the first connection pays nothing). */
export async function initOriginalDst(): Promise<boolean> {
  getsockopt ??= await load();
  return getsockopt !== null;
}

export interface OriginalDst {
  address: string;
  port: number;
}

export function originalDst(socket: Socket): OriginalDst | undefined {
  if (getsockopt == null) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  const v6 = socket.localFamily === 'IPv6' && !(socket.localAddress ?? '').startsWith('::ffff:');
  const buf = Buffer.alloc(28);
  const len = [buf.length];
  if (getsockopt(fd, v6 ? SOL_IPV6 : SOL_IP, SO_ORIGINAL_DST, buf, len) !== 0) return undefined;
  const port = buf.readUInt16BE(2);
  let address: string;
  if (v6) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(buf.readUInt16BE(8 + i).toString(16));
    address = parts.join(':');
  } else {
    address = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  }
  // With conntrack loaded, a connection that was not NATed reports its own local address.
  const local = (socket.localAddress ?? '').replace(/^::ffff:/, '');
  if (address === local && port === socket.localPort) return undefined;
  return { address, port };
}
