/**
 * Calls the operator's `POST /v1/certificates` with the projected service-account token,
 * re-read from its file on every call (the kubelet rotates it). The operator's TLS cert is
 * verified against the mesh root from ConfigMap `meshlet-ca-root`.
 */
import { readFile } from 'node:fs/promises';
import { Agent } from '../../common/undici-lite.ts';
import type { PeerCertificate } from 'node:tls';
import { DEFAULT_TRUST_DOMAIN } from '../../common/spiffe.ts';
import { checkPeerIdentity } from './tls-contexts.ts';
import type { IssuedCertificate } from './workload-cert.ts';

export interface CertClientOptions {
  /** e.g. `https://meshlet.meshlet-system.svc:15012`. */
  operatorUrl: string;
  /** File holding the projected token (audience `meshlet`), or in local mode the workload's token file. */
  tokenFile: string;
  /** PEM the operator's serving cert chains to; undefined uses the system store. */
  caPem?: string;
  /** Requested TTL, seconds (the operator caps it). */
  ttlSeconds?: number;
  /**
   * When the operator serves with a mesh workload cert: its exact SPIFFE ID, checked instead
   * of the host name (e.g. `spiffe://cluster.local/ns/meshlet-system/sa/meshlet-operator`).
   */
  operatorIdentity?: string;
  trustDomain?: string;
}

export function createCertRequester(opts: CertClientOptions): (csrPem: string) => Promise<IssuedCertificate> {
  const connect: Record<string, unknown> = opts.caPem === undefined ? {} : { ca: opts.caPem };
  if (opts.operatorIdentity !== undefined) {
    const id = opts.operatorIdentity;
    const td = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    connect.checkServerIdentity = (_host: string, cert: PeerCertificate) => checkPeerIdentity(cert, id, td);
  }
  const dispatcher = new Agent({ connect });
  return async (csrPem) => {
    const token = (await readFile(opts.tokenFile, 'utf8')).trim();
    const body = JSON.stringify({ csr: csrPem, ...(opts.ttlSeconds === undefined ? {} : { ttlSeconds: opts.ttlSeconds }) });
    const url = new URL('/v1/certificates', opts.operatorUrl);
    const res = await dispatcher.request({
      origin: url.origin, path: url.pathname, method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`operator answered ${res.statusCode}: ${text.slice(0, 300)}`);
    const json = JSON.parse(text) as Partial<IssuedCertificate>;
    if (typeof json.certChain !== 'string' || typeof json.rootCert !== 'string') throw new Error('operator answer lacks certChain/rootCert');
    return { certChain: json.certChain, rootCert: json.rootCert };
  };
}
