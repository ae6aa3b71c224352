/**
 * The verified peer of an inbound connection: its SPIFFE ID and XFCC value, read from the
 * TLS socket once and cached on it (not per request).
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { uriSans } from '../../common/spiffe.ts';
import { buildXfcc } from './xfcc.ts';

export interface PeerInfo {
  /** Peer SPIFFE ID; undefined for plaintext or a cert without a URI SAN. */
  principal: string | undefined;
  /** The XFCC element for this hop; undefined for plaintext. */
  xfcc: string | undefined;
  /** SNI the client sent, if any. */
  sni: string | undefined;
}

const cache = new WeakMap<object, PeerInfo>();
const PLAINTEXT: PeerInfo = { principal: undefined, xfcc: undefined, sni: undefined };

/** Peer info of a socket; `localIdentity` is this workload's SPIFFE ID (XFCC `By`). */
export function peerInfo(socket: Socket | TLSSocket | undefined, localIdentity: string): PeerInfo {
  if (socket === undefined) return PLAINTEXT;
  const hit = cache.get(socket);
  if (hit !== undefined) return hit;
  const tls = socket as Partial<TLSSocket>;
  let info = PLAINTEXT;
  if (tls.encrypted === true && tls.authorized === true && typeof tls.getPeerCertificate === 'function') {
    const cert = tls.getPeerCertificate();
    const principal = uriSans(cert.subjectaltname)[0];
    const sni = typeof tls.servername === 'string' ? tls.servername : undefined;
    info = { principal, xfcc: cert.raw === undefined ? undefined : buildXfcc(localIdentity, cert), sni };
  }
  cache.set(socket, info);
  return info;
}
