/** Istio's DestinationRule rules: host, subsets, traffic policies. */
import { at, idx, isObj, list, numAt, objAt, strAt } from '../messages.ts';
import type { Obj , Collector} from '../messages.ts';
import { checkExportTo, checkLabels, checkPort, isDns1123Label, wildcardDomainProblem } from './values.ts';

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function checkNonNegative(o: Obj | undefined, keys: readonly string[], path: string, code: string, c: Collector): void {
  if (o === undefined) return;
  for (const k of keys) {
    const v = numAt(o[k]);
    if (v !== undefined && v < 0) c.error(code, at(path, k), `${k} ${v} must be >= 0`);
  }
}

function checkLoadBalancer(lb: Obj, path: string, c: Collector): void {
  const maglev = objAt(objAt(lb.consistentHash)?.maglev);
  const size = numAt(maglev?.tableSize);
  if (size !== undefined && !isPrime(size)) c.error('MESHLET_CRD_DR_MAGLEV', at(at(at(path, 'consistentHash'), 'maglev'), 'tableSize'), `tableSize ${size} is not prime`);
  const loc = objAt(lb.localityLbSetting);
  if (loc === undefined) return;
  const lp = at(path, 'localityLbSetting');
  const distribute = list(loc.distribute);
  const failover = list(loc.failover);
  if (distribute.length > 0 && failover.length > 0) c.error('MESHLET_CRD_DR_LOCALITY', lp, 'distribute and failover cannot both be set');
  distribute.forEach((d, i) => {
    const to = objAt(objAt(d)?.to) ?? {};
    const dp = idx(at(lp, 'distribute'), i);
    let total = 0;
    for (const [loc2, w] of Object.entries(to)) {
      if (typeof w !== 'number') continue;
      if (w < 1 || w > 100) c.error('MESHLET_CRD_DR_LOCALITY', idx(at(dp, 'to'), loc2), `weight ${w} is not in 1..100`);
      total += w;
    }
    if (total !== 100) c.error('MESHLET_CRD_DR_LOCALITY', at(dp, 'to'), `weights sum to ${total}, not 100`);
  });
  failover.forEach((f, i) => {
    const o = objAt(f);
    if (o !== undefined && o.from !== undefined && o.from === o.to) c.error('MESHLET_CRD_DR_LOCALITY', idx(at(lp, 'failover'), i), 'failover from and to must be different regions');
  });
}

function checkOutlier(o: Obj, path: string, c: Collector): void {
  for (const k of ['maxEjectionPercent', 'minHealthPercent']) {
    const v = numAt(o[k]);
    if (v !== undefined && (v < 0 || v > 100)) c.error('MESHLET_CRD_DR_OUTLIER', at(path, k), `${k} ${v} is not in 0..100`);
  }
  checkNonNegative(o, ['consecutiveErrors'], path, 'MESHLET_CRD_DR_OUTLIER', c);
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
    checkNonNegative(objAt(pool.tcp), ['maxConnections'], at(pp, 'tcp'), 'MESHLET_CRD_DR_POOL', c);
    checkNonNegative(objAt(pool.http), ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'maxConcurrentStreams'], at(pp, 'http'), 'MESHLET_CRD_DR_POOL', c);
  }
  const lb = objAt(p.loadBalancer);
  if (lb !== undefined) checkLoadBalancer(lb, at(path, 'loadBalancer'), c);
  const od = objAt(p.outlierDetection);
  if (od !== undefined) checkOutlier(od, at(path, 'outlierDetection'), c);
  const tls = objAt(p.tls);
  if (tls !== undefined) checkTls(tls, at(path, 'tls'), c);
}

function checkTrafficPolicy(tp: unknown, path: string, c: Collector): void {
  if (!isObj(tp)) return;
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

export function checkDestinationRule(spec: Obj, c: Collector): void {
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
  checkExportTo(spec.exportTo, 'spec.exportTo', c);
  checkLabels(objAt(spec.workloadSelector)?.matchLabels, 'spec.workloadSelector.matchLabels', c);
}
