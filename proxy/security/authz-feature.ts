/**
 * The authz step of the inbound chain, `(next, route) => handler`, built once per route from
 * the snapshot's compiled policies. A denial answers 403 `RBAC: access denied` with flag
 * `RBAC` and `x-meshlet-error: MESHLET_SECURITY_RBAC_DENIED`, as Envoy's rbac filter does.
 * `onDecision` receives every denial and AUDIT mark with the policy's provenance, for the
 * metrics and the access log. `authorizeConnection` is the same check for TCP (caller closes).
 */
import type { Socket } from 'node:net';
import { getConnMeta } from '../http/conn-meta.ts';
import { localReply } from '../http/local-reply.ts';
import type { Feature, RequestContext } from '../chain/types.ts';
import { addFlag } from '../chain/flags.ts';
import type { AuthzDecision, AuthzRequest, CompiledAuthz } from './authz.ts';
import { normalizeIp } from './authz-match.ts';
import { peerInfo } from './peer.ts';

export const RBAC_FLAG = 'RBAC';
export const RBAC_CODE = 'MESHLET_SECURITY_RBAC_DENIED';

export interface AuthzFeatureOptions {
  /** This workload's SPIFFE ID. */
  localIdentity: string;
  /** Called for denials and audited requests (not for plain allows: no per-request cost). */
  onDecision?: (d: AuthzDecision, r: AuthzRequest) => void;
}

function destination(socket: Socket | undefined): { ip: string; port: number } {
  const meta = socket === undefined ? undefined : getConnMeta(socket);
  return { ip: normalizeIp(meta?.dstAddress ?? socket?.localAddress ?? ''), port: meta?.dstPort ?? socket?.localPort ?? 0 };
}

/** The authz view of an HTTP request. */
export function httpAuthzRequest(ctx: RequestContext, localIdentity: string): AuthzRequest {
  const socket = ctx.req.socket as Socket | undefined;
  const peer = peerInfo(socket, localIdentity);
  const dst = destination(socket);
  const r: AuthzRequest = {
    http: true, sourceIp: normalizeIp(ctx.remoteAddress), destinationIp: dst.ip, destinationPort: ctx.attrs.port || dst.port,
    method: ctx.attrs.method, path: ctx.attrs.path, host: ctx.attrs.authority, header: (n) => ctx.attrs.header(n),
  };
  if (peer.principal !== undefined) r.principal = peer.principal;
  if (peer.sni !== undefined) r.sni = peer.sni;
  return r;
}

export function authzFeature(authz: CompiledAuthz, opts: AuthzFeatureOptions): Feature {
  return (next) => {
    if (authz.empty) return next;
    return (ctx) => {
      if (ctx.direction !== 'inbound') {
        next(ctx);
        return;
      }
      const r = httpAuthzRequest(ctx, opts.localIdentity);
      const d = authz.evaluate(r);
      if (!d.allowed || d.audited.length > 0) opts.onDecision?.(d, r);
      if (d.allowed) {
        next(ctx);
        return;
      }
      addFlag(ctx, RBAC_FLAG);
      localReply(ctx.res, 403, ctx.flags, RBAC_CODE);
    };
  };
}

/** TCP: decide once per connection; the caller closes the socket when `allowed` is false. */
export function authorizeConnection(authz: CompiledAuthz, socket: Socket, localIdentity: string): AuthzDecision {
  if (authz.empty) return { allowed: true, reason: 'no-allow-policies', audited: [] };
  const peer = peerInfo(socket, localIdentity);
  const dst = destination(socket);
  const r: AuthzRequest = { http: false, sourceIp: normalizeIp(socket.remoteAddress ?? ''), destinationIp: dst.ip, destinationPort: dst.port };
  if (peer.principal !== undefined) r.principal = peer.principal;
  if (peer.sni !== undefined) r.sni = peer.sni;
  return authz.evaluate(r);
}
