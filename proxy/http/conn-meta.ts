/** What the listener learned about a connection before HTTP parsing: direction and original destination. */
import type { Socket } from 'node:net';

export interface ConnMeta {
  direction: 'outbound' | 'inbound';
  /** Original destination from SO_ORIGINAL_DST (undefined when not redirected). */
  dstAddress: string | undefined;
  dstPort: number | undefined;
  /** `https` when the proxy terminated TLS on this connection. */
  scheme: 'http' | 'https';
}

const kMeta = Symbol('meshlet.connMeta');

export function setConnMeta(socket: Socket, meta: ConnMeta): void {
  (socket as unknown as Record<symbol, ConnMeta>)[kMeta] = meta;
}

export function getConnMeta(socket: unknown): ConnMeta | undefined {
  return (socket as Record<symbol, ConnMeta | undefined> | undefined)?.[kMeta];
}
