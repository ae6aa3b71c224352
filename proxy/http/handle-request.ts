/**
 * Entry of every HTTP request (HTTP/1.1 and HTTP/2): find the listener and route in the
 * current snapshot, build the context, pick the destination and run the route's chain.
 */
import type { Random } from '../../common/clock.ts';
import type { DownstreamRequest, DownstreamResponse, RequestContext } from '../chain/types.ts';
import { matchRoute } from '../routing/match.ts';
import { inboundListener, outboundListener, type RouteEntry, type SnapshotRuntime } from '../runtime/compile-snapshot.ts';
import { getConnMeta } from './conn-meta.ts';
import { downstreamSink } from './downstream-sink.ts';
import { upstreamHeaders } from './headers.ts';
import { localReply } from './local-reply.ts';
import { NodeAttrs, authorityPort } from './node-attrs.ts';

export interface ProxyState {
  /** The applied snapshot; replaced atomically, read once per request. */
  current: SnapshotRuntime | undefined;
  random: Random;
  /** Debug logger for unexpected errors (never per request at info). */
  onError: (err: Error) => void;
  /** Local replies made before any route chain runs (404 NR, 503 NC), for the metrics. */
  onLocalReply?: (direction: 'inbound' | 'outbound', status: number, flag: string, req: DownstreamRequest) => void;
}

export function findRoute(rt: SnapshotRuntime, direction: 'inbound' | 'outbound', dstAddress: string | undefined, dstPort: number | undefined, attrs: NodeAttrs): { entry: RouteEntry; match: RequestContext['match'] } | undefined {
  const listener = direction === 'outbound' ? outboundListener(rt, dstAddress, attrs.port) : inboundListener(rt, dstPort ?? attrs.port);
  if (listener === undefined) return undefined;
  if (listener.table !== undefined) {
    const r = matchRoute(listener.table, attrs);
    if (!r.ok) return undefined;
    const entry = rt.routes.get(r.route.route);
    return entry === undefined ? undefined : { entry, match: r.match };
  }
  return listener.appRoute === undefined ? undefined : { entry: listener.appRoute, match: undefined };
}

/**
 * `upgrade` is set for HTTP/1.1 Upgrade requests: they run the route's upgrade chain (same
 * features, a splicing terminal) with `res` writing raw to the client socket.
 */
export function handleRequest(state: ProxyState, req: DownstreamRequest, res: DownstreamResponse, upgrade?: RequestContext['upgrade']): void {
  try {
    const h2 = 'stream' in req;
    const meta = getConnMeta(req.socket);
    const direction = meta?.direction ?? 'outbound';
    let target = req.url ?? '/';
    let scheme = meta?.scheme ?? 'http';
    let authority = (h2 ? req.headers[':authority'] : req.headers.host) ?? '';
    if (target.charCodeAt(0) !== 47 /* '/' */ && (target.startsWith('http://') || target.startsWith('https://'))) {
      // Explicit proxy (absolute-form): the URI names the destination.
      const u = new URL(target);
      scheme = u.protocol === 'https:' ? 'https' : 'http';
      authority = u.host;
      target = `${u.pathname}${u.search}`;
    }
    if (authority === '') {
      localReply(res, 400, 'DPE', 'MESHLET_PROXY_BAD_REQUEST');
      return;
    }
    const rt = state.current;
    if (rt === undefined) {
      localReply(res, 503, 'NC', 'MESHLET_PROXY_NOT_READY');
      state.onLocalReply?.(direction, 503, 'NC', req);
      return;
    }
    const port = meta?.dstPort ?? authorityPort(authority, scheme);
    const attrs = new NodeAttrs(req.method ?? 'GET', target, authority, scheme, port, req.headers);
    const found = findRoute(rt, direction, meta?.dstAddress, meta?.dstPort, attrs);
    if (found === undefined) {
      localReply(res, 404, 'NR', 'MESHLET_PROXY_NO_ROUTE');
      state.onLocalReply?.(direction, 404, 'NR', req);
      return;
    }
    const remoteAddress = req.socket.remoteAddress ?? '';
    const ctx: RequestContext = {
      req,
      res,
      attrs,
      direction,
      remoteAddress,
      startTime: performance.now(),
      route: found.entry.runtime,
      match: found.match,
      destination: found.entry.pick?.pick(state.random),
      path: target,
      headers: upstreamHeaders(req.headers, authority, remoteAddress, scheme),
      flags: '',
      endpoint: undefined,
      sink: undefined as unknown as RequestContext['sink'],
    };
    ctx.sink = downstreamSink(ctx);
    if (meta?.dstAddress !== undefined && meta.dstPort !== undefined) ctx.originalDst = { address: meta.dstAddress, port: meta.dstPort };
    if (upgrade === undefined) found.entry.handler(ctx);
    else {
      ctx.upgrade = upgrade;
      found.entry.upgradeHandler(ctx);
    }
  } catch (err) {
    state.onError(err as Error);
    if (!res.headersSent) localReply(res, 500, 'IE', 'MESHLET_CORE_INTERNAL');
    else res.destroy();
  }
}
