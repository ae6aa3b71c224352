/**
 * Upstream transport choice (Istio's auto mTLS): under AUTO, mTLS to endpoints that have a
 * sidecar (they carry `identity`), plaintext to the others. ISTIO_MUTUAL always originates
 * mTLS (checking the endpoint identity when known, else the trust domain); DISABLE never.
 * SIMPLE/MUTUAL are TLS origination to non-mesh servers, left to the proxy core.
 */
import type { ClusterTls, Endpoint } from '../../common/snapshot.ts';

export type UpstreamTransport =
  | { kind: 'mtls'; identity: string | undefined }
  | { kind: 'plaintext' }
  | { kind: 'tls-origination'; mode: 'SIMPLE' | 'MUTUAL'; sni?: string };

export function upstreamTransport(tls: ClusterTls, endpoint: Pick<Endpoint, 'identity'>): UpstreamTransport {
  switch (tls.mode) {
    case 'AUTO':
      return endpoint.identity === undefined ? { kind: 'plaintext' } : { kind: 'mtls', identity: endpoint.identity };
    case 'ISTIO_MUTUAL':
      return { kind: 'mtls', identity: endpoint.identity };
    case 'DISABLE':
      return { kind: 'plaintext' };
    case 'SIMPLE':
    case 'MUTUAL':
      return tls.sni === undefined ? { kind: 'tls-origination', mode: tls.mode } : { kind: 'tls-origination', mode: tls.mode, sni: tls.sni };
  }
}
