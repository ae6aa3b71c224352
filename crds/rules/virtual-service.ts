/** Istio's VirtualService rules beyond one HTTP route: hosts, tcp/tls routes, exportTo. */
import { at, idx, isObj, list, objAt, strAt } from '../messages.ts';
import type { Obj , Collector} from '../messages.ts';
import { checkDestination, checkHttpRoute, checkWeights } from './http-route.ts';
import { checkOverlaps } from './overlap.ts';
import { isIP } from 'node:net';
import { checkExportTo, checkHost, checkLabels, checkPort, cidrProblem, hostSubsetOf, hostsOverlap, isDns1123Label, wildcardDomainProblem } from './values.ts';

function checkL4Match(m: Obj, path: string, c: Collector): void {
  list(m.destinationSubnets).forEach((s, i) => {
    const p = typeof s === 'string' ? cidrProblem(s) : undefined;
    if (p !== undefined) c.error('MESHLET_CRD_CIDR', idx(at(path, 'destinationSubnets'), i), p);
  });
  if (m.port !== undefined && m.port !== 0) checkPort(m.port, at(path, 'port'), c);
  checkLabels(m.sourceLabels, at(path, 'sourceLabels'), c);
  const ns = strAt(m.sourceNamespace);
  if (ns !== undefined && ns !== '' && !isDns1123Label(ns)) c.error('MESHLET_CRD_NAMESPACE', at(path, 'sourceNamespace'), `"${ns}" is not a namespace name`);
}

/** Istio: an SNI host is a (wildcard) domain and a subset of one of the VirtualService's hosts. */
function checkSniHosts(m: Obj, path: string, c: Collector, hosts: string[]): void {
  list(m.sniHosts).forEach((h, i) => {
    if (typeof h !== 'string') return;
    const hp = idx(at(path, 'sniHosts'), i);
    const p = wildcardDomainProblem(h);
    if (p !== undefined) {
      if (isIP(h) !== 0) c.warn('MESHLET_CRD_HOST', hp, `SNI host "${h}" is an IP address, which most clients never send`);
      else c.error('MESHLET_CRD_HOST', hp, p);
    } else if (!hosts.some((vh) => hostSubsetOf(h, vh))) c.error('MESHLET_CRD_HOST', hp, `SNI host "${h}" is not covered by any of the VirtualService hosts [${hosts.join(', ')}]`);
  });
}

function checkL4Route(r: Obj, path: string, c: Collector, tls: boolean, hosts: string[]): void {
  const matches = list(r.match);
  if (tls && matches.length === 0) c.error('MESHLET_CRD_REQUIRED', at(path, 'match'), 'a TLS route needs at least one match with sniHosts');
  matches.forEach((m, i) => {
    if (!isObj(m)) return;
    const mp = idx(at(path, 'match'), i);
    if (tls && list(m.sniHosts).length === 0) c.error('MESHLET_CRD_REQUIRED', at(mp, 'sniHosts'), 'a TLS match needs sniHosts');
    checkL4Match(m, mp, c);
    if (tls) checkSniHosts(m, mp, c, hosts);
  });
  const routes = list(r.route);
  if (routes.length === 0) c.error('MESHLET_CRD_REQUIRED', at(path, 'route'), 'needs at least one destination');
  routes.forEach((d, i) => checkDestination(objAt(d)?.destination, at(idx(at(path, 'route'), i), 'destination'), c));
  checkWeights(routes, at(path, 'route'), c);
}

export function checkVirtualService(spec: Obj, c: Collector, namespace?: string): void {
  const hosts = list(spec.hosts).filter((h): h is string => typeof h === 'string');
  const gateways = list(spec.gateways);
  const appliesToMesh = gateways.length === 0 || gateways.includes('mesh');
  const http = list(spec.http);
  const tcp = list(spec.tcp);
  const tls = list(spec.tls);
  if (hosts.length === 0) {
    c.warn('MESHLET_CRD_VS_NO_HOSTS', 'spec.hosts', 'no hosts: this is a delegate VirtualService, which only gateways use');
    if (gateways.length > 0) c.error('MESHLET_CRD_VS_NO_HOSTS', 'spec.gateways', 'a delegate VirtualService (no hosts) cannot name gateways');
    if (tcp.length > 0 || tls.length > 0) c.error('MESHLET_CRD_VS_NO_HOSTS', tcp.length > 0 ? 'spec.tcp' : 'spec.tls', 'a delegate VirtualService (no hosts) can only have http routes');
  }
  let allValid = true;
  hosts.forEach((h, i) => {
    const p = idx('spec.hosts', i);
    const before = c.messages.length;
    if (h === '*' && appliesToMesh) c.error('MESHLET_CRD_HOST', p, 'the wildcard host "*" is not allowed for routes applied to sidecars (mesh)');
    else checkHost(h, p, c);
    if (c.messages.length > before) allValid = false;
  });
  if (allValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        if (hostsOverlap(hosts[i] as string, hosts[j] as string)) c.error('MESHLET_CRD_HOST', idx('spec.hosts', j), `duplicate hosts: "${hosts[i]}" and "${hosts[j]}" overlap`);
      }
    }
  }
  checkExportTo(spec.exportTo, 'spec.exportTo', c, namespace);
  if (http.length + tcp.length + tls.length === 0) c.error('MESHLET_CRD_VS_NO_ROUTES', 'spec', 'a VirtualService needs at least one of http, tcp or tls');
  http.forEach((h, i) => {
    if (isObj(h)) checkHttpRoute(h, idx('spec.http', i), c);
  });
  tcp.forEach((r, i) => {
    if (isObj(r)) checkL4Route(r, idx('spec.tcp', i), c, false, hosts);
  });
  tls.forEach((r, i) => {
    if (isObj(r)) checkL4Route(r, idx('spec.tls', i), c, true, hosts);
  });
  checkOverlaps(http, 'spec.http', c);
  checkOverlaps(tcp, 'spec.tcp', c);
  checkOverlaps(tls, 'spec.tls', c);
}
