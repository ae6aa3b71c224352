/**
 * SPIFFE identity helpers shared by the CA (operator) and the sidecar. An identity is
 * `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>` (DESIGN.md §2); parsing is
 * strict so a certificate carrying anything else is never mistaken for a workload.
 */

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

// DNS-1123 labels for namespace/SA names; trust domain is a DNS-ish name.
const LABEL = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;

/** Builds the SPIFFE URI; throws on names that could smuggle extra path segments. */
export function spiffeUri(id: SpiffeId): string {
  if (!TRUST_DOMAIN.test(id.trustDomain)) throw new Error(`invalid trust domain "${id.trustDomain}"`);
  if (!LABEL.test(id.namespace)) throw new Error(`invalid namespace "${id.namespace}"`);
  if (!LABEL.test(id.serviceAccount)) throw new Error(`invalid service account "${id.serviceAccount}"`);
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Parses a workload SPIFFE URI; undefined when it is not exactly of the mesh's shape. */
export function parseSpiffeUri(uri: string): SpiffeId | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (m === null) return undefined;
  const [, trustDomain, namespace, serviceAccount] = m as unknown as [string, string, string, string];
  if (!TRUST_DOMAIN.test(trustDomain) || !LABEL.test(namespace) || !LABEL.test(serviceAccount)) return undefined;
  return { trustDomain, namespace, serviceAccount };
}

/** Istio principal form (`<td>/ns/<ns>/sa/<sa>`) as used by AuthorizationPolicy. */
export function principalOf(uri: string): string {
  return uri.startsWith('spiffe://') ? uri.slice('spiffe://'.length) : uri;
}

/**
 * The URI SANs of a certificate as node's `tls` reports them in `subjectaltname`
 * (`URI:spiffe://..., DNS:...`). Values may be quoted by node when they contain commas.
 */
export function uriSans(subjectaltname: string | undefined): string[] {
  if (subjectaltname === undefined || subjectaltname === '') return [];
  const out: string[] = [];
  for (const part of subjectaltname.split(/,\s*(?=[A-Za-z ]+:)/)) {
    const p = part.trim();
    if (!p.startsWith('URI:')) continue;
    let v = p.slice(4);
    if (v.startsWith('"') && v.endsWith('"')) v = JSON.parse(v) as string;
    out.push(v);
  }
  return out;
}
