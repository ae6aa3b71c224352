/** Istio's VirtualService rules beyond one HTTP route: hosts, tcp/tls routes, exportTo. */
import { at, idx, isObj, list, objAt, strAt } from '../messages.ts';
import type { Obj , Collector} from '../messages.ts';
import { checkDestination, checkHttpRoute, checkWeights } from './http-route.ts';
import { checkOverlaps } from './overlap.ts';
import { checkExportTo, checkHost, checkLabels, checkPort, cidrProblem, isDns1123Label, wildcardDomainProblem } from './values.ts';

function checkL4Match(m: Obj, path: string, c: Collector): void {
  list(m.destinationSubnets).forEach((s, i) => {
    const p = typeof s === 'string' ? cidrProblem(s) : undefined;
    if (p !== undefined) c.error('MESHLET_CRD_CIDR', idx(at(path, 'destinationSubnets'), i), p);
  });
  if (m.port !== undefined && m.port !== 0) checkPort(m.port, at(path, 'port'), c);
  checkLabels(m.sourceLabels, at(path, 'sourceLabels'), c);
  const ns = strAt(m.sourceNamespace);
  if (ns !== undefined && ns !== '' && !isDns1123Label(ns)) c.error('MESHLET_CRD_NAMESPACE', at(path, 'sourceNamespace'), `"${ns}" is not a namespace name`);
  list(m.sniHosts).forEach((h, i) => {
    const p = typeof h === 'string' ? wildcardDomainProblem(h) : undefined;
    if (p !== undefined) c.error('MESHLET_CRD_HOST', idx(at(path, 'sniHosts'), i), p);
  });
}

function checkL4Route(r: Obj, path: string, c: Collector, tls: boolean): void {
  const matches = list(r.match);
  if (tls && matches.length === 0) c.error('MESHLET_CRD_REQUIRED', at(path, 'match'), 'a TLS route needs at least one match with sniHosts');
  matches.forEach((m, i) => {
    if (!isObj(m)) return;
    const mp = idx(at(path, 'match'), i);
    if (tls && list(m.sniHosts).length === 0) c.error('MESHLET_CRD_REQUIRED', at(mp, 'sniHosts'), 'a TLS match needs sniHosts');
    checkL4Match(m, mp, c);
  });
  const routes = list(r.route);
  if (routes.length === 0) c.error('MESHLET_CRD_REQUIRED', at(path, 'route'), 'needs at least one destination');
  routes.forEach((d, i) => checkDestination(objAt(d)?.destination, at(idx(at(path, 'route'), i), 'destination'), c));
  checkWeights(routes, at(path, 'route'), c);
}

export function checkVirtualService(spec: Obj, c: Collector): void {
  const hosts = list(spec.hosts);
  const gateways = list(spec.gateways);
  const appliesToMesh = gateways.length === 0 || gateways.includes('mesh');
  if (hosts.length === 0) c.warn('MESHLET_CRD_VS_NO_HOSTS', 'spec.hosts', 'no hosts: this is a delegate VirtualService, which only gateways use');
  hosts.forEach((h, i) => {
    if (typeof h !== 'string') return;
    const p = idx('spec.hosts', i);
    if (h === '*' && appliesToMesh) c.error('MESHLET_CRD_HOST', p, 'the wildcard host "*" is not allowed for routes applied to sidecars (mesh)');
    else checkHost(h, p, c);
  });
  checkExportTo(spec.exportTo, 'spec.exportTo', c);
  const http = list(spec.http);
  const tcp = list(spec.tcp);
  const tls = list(spec.tls);
  if (http.length + tcp.length + tls.length === 0) c.error('MESHLET_CRD_VS_NO_ROUTES', 'spec', 'a VirtualService needs at least one of http, tcp or tls');
  http.forEach((h, i) => {
    if (isObj(h)) checkHttpRoute(h, idx('spec.http', i), c);
  });
  tcp.forEach((r, i) => {
    if (isObj(r)) checkL4Route(r, idx('spec.tcp', i), c, false);
  });
  tls.forEach((r, i) => {
    if (isObj(r)) checkL4Route(r, idx('spec.tls', i), c, true);
  });
  checkOverlaps(http, 'spec.http', c);
  checkOverlaps(tcp, 'spec.tcp', c);
}
