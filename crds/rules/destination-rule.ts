/** Istio's DestinationRule rules: host, subsets, traffic policies. */
import type { ErrorCode } from '../../common/errors.ts';
import { at, idx, isObj, list, numAt, objAt, strAt } from '../messages.ts';
import type { Obj , Collector} from '../messages.ts';
import { isIP } from 'node:net';
import { checkExportTo, checkLabels, checkPort, checkWorkloadSelector, isDns1123Label, wildcardDomainProblem } from './values.ts';

/** Envoy's isPrime (which Istio copies): 1, 2 and 3 count as prime. */
function isPrime(n: number): boolean {
  if (n !== 0 && n < 4) return true;
  if (n % 2 === 0) return false;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

/** Istio: a locality "region/zone/subzone" may end with one "*", nowhere else. */
function localityProblem(loc: string): string | undefined {
  const stars = loc.split('*').length - 1;
  if (stars > 1 || (stars === 1 && !loc.endsWith('*'))) return `locality "${loc}": "*" may only appear once, at the end`;
  return undefined;
}

function checkNonNegative(o: Obj | undefined, keys: readonly string[], path: string, code: ErrorCode, c: Collector): void {
  if (o === undefined) return;
  for (const k of keys) {
    const v = numAt(o[k]);
    if (v !== undefined && v < 0) c.error(code, at(path, k), `${k} ${v} must be >= 0`);
  }
}

function checkLoadBalancer(lb: Obj, path: string, c: Collector, hasOutlier: boolean): void {
  const maglev = objAt(objAt(lb.consistentHash)?.maglev);
  if (maglev !== undefined) {
    const size = numAt(maglev.tableSize) ?? 0;
    const mp = at(at(at(path, 'consistentHash'), 'maglev'), 'tableSize');
    if (size === 0) c.error('MESHLET_CRD_DR_MAGLEV', mp, 'tableSize must be set for maglev');
    else if (size >= 5000011) c.error('MESHLET_CRD_DR_MAGLEV', mp, `tableSize ${size} must be less than 5000011`);
    else if (!isPrime(size)) c.error('MESHLET_CRD_DR_MAGLEV', mp, `tableSize ${size} is not prime`);
  }
  const loc = objAt(lb.localityLbSetting);
  if (loc === undefined) return;
  const lp = at(path, 'localityLbSetting');
  const distribute = list(loc.distribute);
  const failover = list(loc.failover);
  const priority = list(loc.failoverPriority);
  if (distribute.length > 0 && failover.length > 0) return c.error('MESHLET_CRD_DR_LOCALITY', lp, 'distribute and failover cannot both be set');
  if (failover.length > 0) {
    const topo = priority.find((l) => typeof l === 'string' && TOPOLOGY_LABELS.has(l));
    if (topo !== undefined) c.error('MESHLET_CRD_DR_LOCALITY', at(lp, 'failoverPriority'), `failover cannot be combined with the topology label "${String(topo)}" in failoverPriority`);
  }
  if ((failover.length > 0 || priority.length > 0) && !hasOutlier) c.warn('MESHLET_CRD_DR_LOCALITY', lp, 'failover needs an outlierDetection policy to ever trigger');
  distribute.forEach((d, i) => {
    const to = objAt(objAt(d)?.to) ?? {};
    const dp = idx(at(lp, 'distribute'), i);
    let total = 0;
    const from = strAt(objAt(d)?.from);
    const fp = from === undefined ? undefined : localityProblem(from);
    if (fp !== undefined) c.error('MESHLET_CRD_DR_LOCALITY', at(dp, 'from'), fp);
    for (const [loc2, w] of Object.entries(to)) {
      const lp2 = localityProblem(loc2);
      if (lp2 !== undefined) c.error('MESHLET_CRD_DR_LOCALITY', idx(at(dp, 'to'), loc2), lp2);
      if (typeof w !== 'number') continue;
      if (w < 1 || w > 100) c.error('MESHLET_CRD_DR_LOCALITY', idx(at(dp, 'to'), loc2), `weight ${w} is not in 1..100`);
      total += w;
    }
    if (total !== 100) c.error('MESHLET_CRD_DR_LOCALITY', at(dp, 'to'), `weights sum to ${total}, not 100`);
  });
  failover.forEach((f, i) => {
    const o = objAt(f);
    const fp = idx(at(lp, 'failover'), i);
    if (o === undefined) return;
    if (o.from === o.to) c.error('MESHLET_CRD_DR_LOCALITY', fp, 'failover from and to must be different regions');
    else if ([o.from, o.to].some((r) => typeof r === 'string' && r.includes('/'))) c.error('MESHLET_CRD_DR_LOCALITY', fp, 'failover names regions only (no "/")');
    else if (typeof o.to === 'string' && o.to.includes('*')) c.error('MESHLET_CRD_DR_LOCALITY', at(fp, 'to'), 'failover region cannot contain "*"');
  });
}

function checkOutlier(o: Obj, path: string, c: Collector): void {
  for (const k of ['maxEjectionPercent', 'minHealthPercent']) {
    const v = numAt(o[k]);
    if (v !== undefined && (v < 0 || v > 100)) c.error('MESHLET_CRD_DR_OUTLIER', at(path, k), `${k} ${v} is not in 0..100`);
  }
  checkNonNegative(o, ['consecutiveErrors'], path, 'MESHLET_CRD_DR_OUTLIER', c);
  if (o.splitExternalLocalOriginErrors !== true && (numAt(o.consecutiveLocalOriginFailures) ?? 0) > 0) {
    c.error('MESHLET_CRD_DR_OUTLIER', at(path, 'consecutiveLocalOriginFailures'), 'consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors: true');
  }
}

function checkTunnel(t: Obj, path: string, c: Collector): void {
  const protocol = strAt(t.protocol);
  if (protocol !== undefined && protocol !== '' && protocol !== 'CONNECT' && protocol !== 'POST') c.error('MESHLET_CRD_DR_TUNNEL', at(path, 'protocol'), `protocol "${protocol}" is not CONNECT or POST`);
  const host = strAt(t.targetHost) ?? '';
  if (isIP(host) === 0 && (host.startsWith('*') || wildcardDomainProblem(host) !== undefined)) c.error('MESHLET_CRD_DR_TUNNEL', at(path, 'targetHost'), `"${host}" is not an FQDN or IP address`);
  if (t.targetPort !== undefined) checkPort(t.targetPort, at(path, 'targetPort'), c);
}

function checkTls(t: Obj, path: string, c: Collector): void {
  if (t.mode !== 'MUTUAL' || strAt(t.credentialName) !== undefined) return;
  if (strAt(t.clientCertificate) === undefined) c.error('MESHLET_CRD_REQUIRED', at(path, 'clientCertificate'), 'MUTUAL mode needs clientCertificate (or credentialName)');
  if (strAt(t.privateKey) === undefined) c.error('MESHLET_CRD_REQUIRED', at(path, 'privateKey'), 'MUTUAL mode needs privateKey (or credentialName)');
}

function checkPolicyParts(p: Obj, path: string, c: Collector): void {
  const pool = objAt(p.connectionPool);
  if (pool !== undefined) {
    const pp = at(path, 'connectionPool');
    if (pool.tcp === undefined && pool.http === undefined) c.error('MESHLET_CRD_DR_EMPTY', pp, 'connection pool must have at least one field');
    const http = objAt(pool.http);
    if (http?.h2UpgradePolicy === 'UPGRADE' && http.useClientProtocol === true) c.error('MESHLET_CRD_DR_POOL', at(pp, 'http'), 'useClientProtocol must not be true when h2UpgradePolicy is UPGRADE');
    checkNonNegative(objAt(pool.tcp), ['maxConnections'], at(pp, 'tcp'), 'MESHLET_CRD_DR_POOL', c);
    checkNonNegative(objAt(pool.http), ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'maxConcurrentStreams'], at(pp, 'http'), 'MESHLET_CRD_DR_POOL', c);
  }
  const lb = objAt(p.loadBalancer);
  if (lb !== undefined) checkLoadBalancer(lb, at(path, 'loadBalancer'), c, p.outlierDetection !== undefined);
  const od = objAt(p.outlierDetection);
  if (od !== undefined) checkOutlier(od, at(path, 'outlierDetection'), c);
  const tls = objAt(p.tls);
  if (tls !== undefined) checkTls(tls, at(path, 'tls'), c);
}

function checkTrafficPolicy(tp: unknown, path: string, c: Collector): void {
  if (!isObj(tp)) return;
  if (Object.keys(tp).length === 0) return c.error('MESHLET_CRD_DR_EMPTY', path, 'traffic policy must have at least one field');
  if (tp.tunnel !== undefined && tp.proxyProtocol !== undefined) c.error('MESHLET_CRD_DR_TUNNEL', path, 'tunnel and proxyProtocol must not be set together');
  const tunnel = objAt(tp.tunnel);
  if (tunnel !== undefined) checkTunnel(tunnel, at(path, 'tunnel'), c);
  checkPolicyParts(tp, path, c);
  list(tp.portLevelSettings).forEach((s, i) => {
    if (!isObj(s)) return;
    const sp = idx(at(path, 'portLevelSettings'), i);
    const port = objAt(s.port);
    if (port === undefined || port.number === undefined) c.error('MESHLET_CRD_PORT', at(sp, 'port'), 'port-level settings need port.number');
    else checkPort(port.number, at(at(sp, 'port'), 'number'), c);
    checkPolicyParts(s, sp, c);
  });
}

export function checkDestinationRule(spec: Obj, c: Collector, namespace?: string): void {
  const host = strAt(spec.host);
  if (host !== undefined) {
    const p = wildcardDomainProblem(host);
    if (p !== undefined) c.error('MESHLET_CRD_HOST', 'spec.host', p);
  }
  checkTrafficPolicy(spec.trafficPolicy, 'spec.trafficPolicy', c);
  const names = new Map<string, number>();
  list(spec.subsets).forEach((s, i) => {
    if (!isObj(s)) return;
    const sp = idx('spec.subsets', i);
    const name = strAt(s.name);
    if (name !== undefined) {
      if (!isDns1123Label(name)) c.error('MESHLET_CRD_DR_SUBSET_NAME', at(sp, 'name'), `"${name}" is not a DNS-1123 label`);
      const first = names.get(name);
      if (first !== undefined) c.error('MESHLET_CRD_DR_SUBSET_DUPLICATE', at(sp, 'name'), `subset "${name}" is already defined at spec.subsets[${first}]`);
      else names.set(name, i);
    }
    checkLabels(s.labels, at(sp, 'labels'), c);
    checkTrafficPolicy(s.trafficPolicy, at(sp, 'trafficPolicy'), c);
  });
  checkExportTo(spec.exportTo, 'spec.exportTo', c, namespace);
  checkWorkloadSelector(spec.workloadSelector, 'spec.workloadSelector', c);
  // Istio: a DestinationRule with a workload selector only applies in its own namespace.
  const exportTo = list(spec.exportTo).filter((e): e is string => typeof e === 'string').map((e) => (e === '.' ? namespace ?? '.' : e));
  if (spec.workloadSelector !== undefined && exportTo.length > 0) {
    const own = namespace ?? '.';
    if (!exportTo.includes(own)) c.error('MESHLET_CRD_NAMESPACE', 'spec.exportTo', 'a DestinationRule with a workloadSelector cannot be exported beyond its own namespace');
    else if (new Set(exportTo).size > 1) c.error('MESHLET_CRD_NAMESPACE', 'spec.exportTo', 'a DestinationRule with a workloadSelector cannot have several exportTo entries');
  }
}
