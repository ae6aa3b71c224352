/** The sections of `meshlet proxy-config`: raw data (json/yaml) and a table per section. */
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { prov } from './render.ts';

export const SECTIONS = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const;
export type Section = (typeof SECTIONS)[number];

/** A certificate as the proxy's admin `/certs` reports it (never key material). */
export interface LiveCert {
  name: string;
  identity: string;
  serial: string;
  notAfter: string;
  secondsUntilExpiry: number;
}

export function sectionData(s: ProxySnapshot, section: Section, certs?: LiveCert[]): unknown {
  switch (section) {
    case 'listeners': return s.listeners;
    case 'routes': return s.routes;
    case 'clusters': return s.clusters;
    case 'endpoints': return s.endpoints;
    case 'secrets': return { identity: s.proxy.spiffeId, ...(certs === undefined ? {} : { certificates: certs }), peerAuthentication: s.security.peerAuthentication, authorization: s.security.authorization };
  }
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local` → `reviews:9080/v1`. */
function short(cluster: string): string {
  const [, port, subset, host] = cluster.split('|');
  return host === undefined ? cluster : `${host.split('.')[0]}:${port}${subset === '' || subset === undefined ? '' : `/${subset}`}`;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((cols) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

function certTable(certs: LiveCert[] | undefined): string {
  if (certs === undefined) return 'certificates: not read (the proxy admin was not reachable: pass --admin <url>, e.g. after kubectl port-forward <pod> 15000)\n';
  if (certs.length === 0) return 'certificates: none (the proxy runs without mTLS, or has no certificate yet)\n';
  const days = (sec: number): string => (sec < 0 ? 'EXPIRED' : sec < 86400 ? `${Math.floor(sec / 3600)}h` : `${Math.floor(sec / 86400)}d`);
  return table(['CERT', 'IDENTITY', 'SERIAL', 'NOT AFTER', 'EXPIRES IN'], certs.map((c) => [c.name, c.identity || '-', c.serial, c.notAfter, days(c.secondsUntilExpiry)]));
}

export function renderSection(s: ProxySnapshot, section: Section, certs?: LiveCert[]): string {
  switch (section) {
    case 'listeners':
      return table(['NAME', 'DIRECTION', 'ADDRESS', 'PORT', 'PROTOCOL', 'ROUTES', 'FROM'], s.listeners.map((l) => [l.name, l.direction, l.address, String(l.port), l.protocol, l.routeTable ?? (l.appPort === undefined ? 'tcp' : `app:${l.appPort}`), prov(l.provenance)]));
    case 'routes':
      return table(['TABLE', 'VIRTUAL HOST', '#', 'ROUTE', 'MATCH', 'DESTINATIONS', 'FROM'], s.routes.flatMap((t) => t.virtualHosts.flatMap((vh) => vh.routes.map((r, i) => [
        t.name, vh.name, String(i + 1), r.name,
        r.match.length === 0 ? '*' : r.match.map((m) => [m.uri && `uri ${m.uri.type}:${m.uri.value}`, m.method && `method ${m.method.value}`, ...Object.entries(m.headers ?? {}).map(([k, v]) => `${k} ${v.type}:${v.value}`), ...Object.entries(m.queryParams ?? {}).map(([k, v]) => `?${k} ${v.type}:${v.value}`)].filter(Boolean).join(' & ') || '*').join(' | '),
        r.action.kind === 'forward' ? r.action.destinations.map((d) => `${short(d.cluster)} ${d.weight}`).join(', ') : r.action.kind,
        prov(r.provenance),
      ]))));
    case 'clusters':
      return table(['NAME', 'SUBSET', 'LB', 'TLS', 'MAX CONN', 'OUTLIER', 'FROM'], s.clusters.map((c) => [c.name, c.subset ?? '-', c.loadBalancer.policy, c.tls.mode, c.connectionPool.maxConnections >= 4294967295 ? '-' : String(c.connectionPool.maxConnections), c.outlierDetection === undefined ? '-' : `${c.outlierDetection.consecutive5xxErrors}x5xx`, prov(c.provenance)]));
    case 'endpoints':
      return table(['ENDPOINT SET', 'ADDRESS', 'HEALTHY', 'WORKLOAD', 'IDENTITY'], s.endpoints.flatMap((e) => (e.endpoints.length === 0 ? [[e.name, '(none)', '', '', '']] : e.endpoints.map((ep) => [e.name, `${ep.address}:${ep.port}`, ep.healthy ? 'yes' : 'no', ep.workload === undefined ? '-' : `${ep.workload.name}.${ep.workload.namespace}${ep.workload.version === undefined ? '' : ` ${ep.workload.version}`}`, ep.identity ?? '(no sidecar)']))));
    case 'secrets': {
      const pa = s.security.peerAuthentication;
      const head = `identity: ${s.proxy.spiffeId}\nmTLS (inbound): ${pa.mode}${Object.keys(pa.ports).length === 0 ? '' : ` (ports: ${Object.entries(pa.ports).map(([p, m]) => `${p}=${m}`).join(', ')})`}  ${prov(pa.provenance)}\n`;
      return head + certTable(certs) + (s.security.authorization.length === 0 ? 'authorization: no policies select this workload\n' : table(['POLICY', 'ACTION', 'RULES', 'FROM'], s.security.authorization.map((p) => [p.name, p.action, String(p.rules.length), prov(p.provenance)])));
    }
  }
}
