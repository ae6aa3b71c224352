/**
 * Metadata exchange between sidecars (Istio's `x-envoy-peer-metadata`): the client proxy
 * sends its workload in a request header, the server proxy answers with its own in a
 * response header, and each strips the other's before the app sees it. Both reporters then
 * carry full source and destination labels. Pure: encoding, decoding and a bounded cache.
 */

/** Request header (client → server) and response header (server → client). */
export const PEER_HEADER = 'x-meshlet-peer';

/** What one sidecar tells the other about its workload. Short keys keep the header small. */
export interface PeerMetadata {
  /** Workload name. */
  w: string;
  /** Namespace. */
  n: string;
  /** `app` label (or `app.kubernetes.io/name`). */
  a?: string;
  /** `version` label (or `app.kubernetes.io/version`). */
  v?: string;
  /** SPIFFE identity. */
  p?: string;
  /** Canonical service (`service.istio.io/canonical-name`, else app, else workload). */
  cs?: string;
  /** Canonical revision (`service.istio.io/canonical-revision`, else version, else `latest`). */
  cr?: string;
}

/** Builds this proxy's metadata from its identity. */
export function metadataFor(id: { workload: string; namespace: string; labels: Record<string, string>; spiffeId: string }): PeerMetadata {
  const l = id.labels;
  const app = l.app ?? l['app.kubernetes.io/name'];
  const version = l.version ?? l['app.kubernetes.io/version'];
  const md: PeerMetadata = { w: id.workload, n: id.namespace, p: id.spiffeId };
  if (app !== undefined) md.a = app;
  if (version !== undefined) md.v = version;
  md.cs = l['service.istio.io/canonical-name'] ?? app ?? id.workload;
  md.cr = l['service.istio.io/canonical-revision'] ?? version ?? 'latest';
  return md;
}

/** base64(JSON) so the value is one safe header token. */
export function encodePeer(md: PeerMetadata): string {
  return Buffer.from(JSON.stringify(md), 'utf8').toString('base64');
}

const MAX_HEADER = 2048;

/** Decodes a header value; anything malformed or oversized gives undefined (labels fall back to `unknown`). */
export function decodePeer(raw: string | undefined): PeerMetadata | undefined {
  if (raw === undefined || raw === '' || raw.length > MAX_HEADER) return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (typeof o.w !== 'string' || typeof o.n !== 'string') return undefined;
    const md: PeerMetadata = { w: o.w, n: o.n };
    for (const k of ['a', 'v', 'p', 'cs', 'cr'] as const) if (typeof o[k] === 'string') md[k] = o[k];
    return md;
  } catch {
    return undefined;
  }
}

/**
 * Caches decoded values by raw header string. Peers are a bounded set (one value per
 * workload), but the header comes from the network, so the cache is capped: past the cap it
 * is cleared rather than grown, so a hostile client cannot exhaust memory.
 */
export class PeerCache {
  readonly #max: number;
  readonly #map = new Map<string, PeerMetadata | undefined>();
  constructor(max = 1024) {
    this.#max = max;
  }
  get(raw: string | undefined): PeerMetadata | undefined {
    if (raw === undefined) return undefined;
    if (this.#map.has(raw)) return this.#map.get(raw);
    const md = decodePeer(raw);
    if (this.#map.size >= this.#max) this.#map.clear();
    this.#map.set(raw, md);
    return md;
  }
}
