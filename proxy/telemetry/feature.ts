/**
 * The telemetry feature of the proxy chain: metrics, tracing and access log in one wrapper
 * (one sink wrap and one object per request instead of three). Composed per route when a
 * snapshot is applied; a route with every signal off gets `next` itself (zero cost).
 */
import type { Attributes } from '@opentelemetry/api';
import type { DestinationRuntime, Feature, RouteRuntime } from '../chain/types.ts';
import { Exchange, type RouteTelemetry } from './exchange.ts';
import { PEER_HEADER } from './peer-metadata.ts';
import { withoutHeader } from '../http/headers.ts';
import { inboundPeerTls, type PeerTls } from './peer-tls.ts';
import type { ProxyTelemetry } from './telemetry.ts';

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function routeTelemetry(t: ProxyTelemetry, rt: RouteRuntime, d: DestinationRuntime | undefined): RouteTelemetry & { spanName: string; inbound: boolean; spanAttrs: Attributes } {
  const cfg = t.current!;
  const c = d?.cluster.cluster;
  const bindings = cfg.metrics.enabled && c !== undefined ? cfg.metrics.forCluster(c, d!.cluster.endpoints.map((e) => e.endpoint)) : undefined;
  const p = rt.route.provenance;
  const inbound = c?.name.startsWith('inbound|') ?? false;
  const host = bindings?.service.host ?? c?.service ?? rt.virtualHost;
  const port = c?.port ?? 0;
  const id = cfg.identity;
  return {
    bindings,
    clusterName: c?.name ?? '',
    routeName: rt.route.name,
    provenance: `${p.kind}/${p.namespace}/${p.name}`,
    tracing: t.tracing.enabled ? t.tracing : undefined,
    accessLog: t.accessLog.enabled ? t.accessLog : undefined,
    peerHeader: cfg.metrics.peerHeader,
    spanName: `${host}:${port}/*`,
    inbound,
    spanAttrs: {
      component: 'proxy',
      node_id: `sidecar~${id.ip}~${id.id}~${id.namespace}.svc.cluster.local`,
      'istio.namespace': id.namespace,
      'istio.canonical_service': id.labels['service.istio.io/canonical-name'] ?? id.labels.app ?? id.workload,
      'istio.canonical_revision': id.labels['service.istio.io/canonical-revision'] ?? id.labels.version ?? 'latest',
      'istio.mesh_id': 'cluster.local',
      upstream_cluster: c?.name ?? '',
      'upstream_cluster.name': c?.name ?? '',
      route_name: rt.route.name,
    },
  };
}

type Resolved = { dests: { d: DestinationRuntime; r: ReturnType<typeof routeTelemetry> }[]; none: ReturnType<typeof routeTelemetry> } | undefined;

function resolve(t: ProxyTelemetry, rt: RouteRuntime): Resolved {
  const cfg = t.current;
  if (cfg === undefined || (!cfg.metrics.enabled && !t.tracing.enabled && !t.accessLog.enabled)) return undefined;
  return { dests: rt.destinations.map((d) => ({ d, r: routeTelemetry(t, rt, d) })), none: routeTelemetry(t, rt, undefined) };
}

/**
 * The per-route parts are resolved on the first request after each `apply()` (one integer
 * compare per request), so the feature works whether the proxy applies telemetry settings
 * before composing routes or right after swapping the snapshot in.
 */
export function telemetryFeature(t: ProxyTelemetry): Feature {
  return (next, rt) => {
    let gen = -1;
    let res: Resolved;
    return (ctx) => {
      if (gen !== t.generation) {
        res = resolve(t, rt);
        gen = t.generation;
      }
      if (res === undefined) {
        next(ctx);
        return;
      }
      let r = res.none;
      for (const x of res.dests) if (x.d === ctx.destination) r = x.r;
      const h = ctx.headers;
      let peerIn: string | undefined;
      let tls: PeerTls | undefined;
      if (r.inbound || ctx.direction === 'inbound') {
        // The client's metadata is for us, never for the app.
        peerIn = first(h[PEER_HEADER]);
        if (peerIn !== undefined) ctx.headers = withoutHeader(h, PEER_HEADER);
        tls = inboundPeerTls(ctx.req.socket);
      } else {
        if (r.bindings?.meshed === true) h[PEER_HEADER] = r.peerHeader;
        else if (h[PEER_HEADER] !== undefined) ctx.headers = withoutHeader(h, PEER_HEADER);
        tls = undefined; // known once the terminal picked the endpoint
      }
      let span;
      if (r.tracing !== undefined) {
        const attrs = (): Attributes => ({
          ...r.spanAttrs,
          'http.method': ctx.attrs.method,
          'http.url': `${ctx.attrs.scheme}://${ctx.attrs.authority}${ctx.attrs.path}`,
          'http.protocol': `HTTP/${ctx.req.httpVersion}`,
          'guid:x-request-id': first(h['x-request-id']) ?? '',
          'peer.address': ctx.remoteAddress,
          downstream_cluster: '-',
          user_agent: first(h['user-agent']) ?? '',
        });
        span = r.tracing.start(ctx.headers, { kind: r.inbound ? 'server' : 'client', name: r.spanName, attributes: attrs });
      }
      ctx.sink = new Exchange(ctx, r, tls, peerIn, span);
      next(ctx);
    };
  };
}
