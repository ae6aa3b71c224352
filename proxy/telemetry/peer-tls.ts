/**
 * Whether a request arrived over (outbound: leaves over) mesh mTLS, and the peer's SPIFFE
 * identity. Inbound reads the verified client certificate once per connection and caches it
 * on the socket; outbound follows the cluster's TLS mode and the endpoint's identity (the
 * proxy core originates mTLS exactly then, and checks that identity).
 */
import type { TLSSocket } from 'node:tls';
import type { Cluster, Endpoint } from '../../common/snapshot.ts';

export interface PeerTls {
  mtls: boolean;
  principal: string | undefined;
}

const NONE: PeerTls = { mtls: false, principal: undefined };
const kPeer = Symbol('meshlet.telemetry.peerTls');

/** SPIFFE URI SAN of a certificate's `subjectaltname` string. */
export function spiffeFromSan(san: string | undefined): string | undefined {
  if (san === undefined) return undefined;
  for (const part of san.split(',')) {
    const p = part.trim();
    if (p.startsWith('URI:spiffe://')) return p.slice(4);
  }
  return undefined;
}

/** Inbound: the downstream connection's mTLS state. */
export function inboundPeerTls(socket: unknown): PeerTls {
  const s = socket as (TLSSocket & { [kPeer]?: PeerTls }) | undefined;
  if (s === undefined || s === null) return NONE;
  const cached = s[kPeer];
  if (cached !== undefined) return cached;
  let v = NONE;
  if (s.encrypted === true && typeof s.getPeerCertificate === 'function') {
    const principal = spiffeFromSan(s.getPeerCertificate().subjectaltname);
    if (principal !== undefined && s.authorized) v = { mtls: true, principal };
  }
  s[kPeer] = v;
  return v;
}

/** Outbound: whether the proxy speaks mesh mTLS to this endpoint. */
export function outboundPeerTls(cluster: Cluster, endpoint: Endpoint | undefined): PeerTls {
  const mode = cluster.tls.mode;
  if (mode === 'ISTIO_MUTUAL' || (mode === 'AUTO' && endpoint?.identity !== undefined)) return { mtls: true, principal: endpoint?.identity };
  return NONE;
}
