/** Text rendering of an Explanation: one fact per line, each with the object it came from. */
import type { Provenance } from '../../common/snapshot.ts';
import type { Explanation } from './explain.ts';

export const prov = (p: Provenance | undefined): string => (p === undefined ? '' : p.kind === 'default' ? `[mesh default]` : `[${p.kind} ${p.namespace}/${p.name}]`);

function retriesText(r: NonNullable<Explanation['route']>['retries']): string {
  if (r.attempts === 0) return 'none';
  return `${r.attempts} retr${r.attempts === 1 ? 'y' : 'ies'}${r.perTryTimeoutMs > 0 ? `, ${r.perTryTimeoutMs}ms per try` : ''} on ${r.retryOn.join(',')} (backoff base ${r.backoffBaseMs}ms)`;
}

function faultText(f: NonNullable<Explanation['route']>['fault']): string {
  if (f === undefined) return 'none';
  const parts: string[] = [];
  if (f.delay !== undefined) parts.push(`delay ${f.delay.fixedDelayMs}ms for ${f.delay.percentage}% of requests`);
  if (f.abort !== undefined) parts.push(`abort ${f.abort.httpStatus ?? `grpc ${f.abort.grpcStatus}`} for ${f.abort.percentage}% of requests`);
  return parts.join('; ');
}

export function renderExplanation(e: Explanation): string {
  const L: string[] = [];
  const hdrs = Object.entries(e.request.headers).map(([k, v]) => ` -H ${k}:${v}`).join('');
  L.push(`Request:      ${e.request.method} ${e.request.url}${hdrs}`);
  L.push(`From proxy:   ${e.proxy.id} (${e.proxy.spiffeId}, ${e.proxy.ip || 'no address'}), config ${e.proxy.version}`);
  if (e.listener === undefined) {
    L.push(`Result:       ${e.reply ?? e.outcome}`);
    return `${L.join('\n')}\n`;
  }
  L.push(`Listener:     ${e.listener.name}  ${prov(e.listener.provenance)}`);
  if (e.virtualHost !== undefined) L.push(`Virtual host: ${e.virtualHost.name}  ${prov(e.virtualHost.provenance)}`);
  if (e.routes.length > 0) {
    L.push('Routes (in order, first match wins):');
    for (const r of e.routes) {
      L.push(`  ${r.index + 1}. ${r.name}  ${r.matched ? 'MATCHED' : 'no match'}  ${prov(r.provenance)}`);
      for (const w of r.why) L.push(`       ${w}`);
    }
  }
  if (e.reply !== undefined) L.push(`Result:       ${e.reply}`);
  if (e.route !== undefined) {
    L.push(`Timeout:      ${e.route.timeoutMs > 0 ? `${e.route.timeoutMs}ms across all tries` : 'none'}  ${prov(e.route.provenance)}`);
    L.push(`Retries:      ${retriesText(e.route.retries)}`);
    L.push(`Fault:        ${faultText(e.route.fault)}`);
    if (e.route.mirrors.length > 0) L.push(`Mirror:       ${e.route.mirrors.join(', ')}`);
  }
  if (e.destinations.length > 0) L.push('Destinations:');
  for (const d of e.destinations) {
    L.push(`  ${String(d.percent).padStart(5)}%  ${d.service}${d.subset === undefined ? '' : ` subset ${d.subset}`}  (${d.cluster})  ${prov(d.provenance)}`);
    const cp = d.connectionPool;
    const lim = (n: number): string => (n >= 4294967295 ? 'unlimited' : String(n));
    if (cp !== undefined) L.push(`          circuit breaker: connections ${lim(cp.maxConnections)}, pending ${lim(cp.http1MaxPendingRequests)}, requests ${lim(cp.http2MaxRequests)}, retries ${lim(cp.maxRetries)}; lb ${d.loadBalancer}`);
    if (d.outlierDetection !== undefined) L.push(`          outlier detection: eject after ${d.outlierDetection.consecutive5xxErrors} consecutive 5xx for ${d.outlierDetection.baseEjectionTimeMs}ms × ejections, at most ${d.outlierDetection.maxEjectionPercent}%`);
    if (d.endpoints.length === 0) L.push('          endpoints: none (503 UH, MESHLET_PROXY_NO_HEALTHY_UPSTREAM)');
    for (const ep of d.endpoints) {
      L.push(`          endpoint ${ep.address}:${ep.port}${ep.server !== undefined ? ` (proxy ${ep.server.proxy})` : ep.workload === undefined ? '' : ` (${ep.workload})`}${ep.healthy ? '' : ' UNHEALTHY'}  transport: ${ep.transport}`);
      const s = ep.server;
      if (s !== undefined) {
        L.push(`            server mTLS: ${s.mtlsMode}${s.accepted ? '' : ' — this connection would be REFUSED'}  ${prov(s.mtlsProvenance)}`);
        const j = s.jwt;
        if (j !== undefined) {
          const jt = j.result === 'verified' ? `verified, request principal ${j.principal}` : j.result === 'no-token' ? 'no token (passes unauthenticated: no request principal, no claims)' : `REFUSED: 401 ${j.reason} (${j.code})`;
          L.push(`            JWT: ${jt}  ${prov(j.provenance)}`);
        }
        const a = s.authz;
        const text = a.reason === 'no-allow-policies' ? 'allowed (no ALLOW policy applies)' : a.reason === 'allowed' ? `allowed by ${a.policy}` : a.reason === 'denied' ? `DENIED by ${a.policy} (403 RBAC: access denied)` : 'DENIED: no ALLOW policy matches (403 RBAC: access denied)';
        L.push(`            authorization: ${text}  ${prov(a.provenance)}`);
      }
    }
  }
  return `${L.join('\n')}\n`;
}
