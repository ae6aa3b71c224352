/**
 * Graph rows from a Prometheus server: the same rates the own collector computes, as PromQL
 * over the standard Istio metrics (so any Prometheus scraping the proxies works).
 */
import { MeshletError } from '../../common/errors.ts';
import type { Row } from './graph-build.ts';

const BY = 'reporter, source_workload, source_workload_namespace, source_app, source_version, source_cluster, destination_service, destination_service_name, destination_service_namespace, destination_workload, destination_workload_namespace, destination_app, destination_version, destination_cluster';

export function graphQueries(window: string): { requests: string; buckets: string; tcp: string } {
  return {
    tcp: `sum(rate(istio_tcp_connections_opened_total[${window}])) by (${BY}, connection_security_policy)`,
    requests: `sum(rate(istio_requests_total[${window}])) by (${BY}, response_code, response_flags, connection_security_policy)`,
    buckets: `sum(rate(istio_request_duration_milliseconds_bucket[${window}])) by (${BY}, le)`,
  };
}

async function query(base: string, q: string, f: typeof fetch): Promise<Row[]> {
  let body: { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  try {
    const r = await f(`${base.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
    body = (await r.json()) as typeof body;
  } catch (err) {
    throw new MeshletError('MESHLET_TELEMETRY_PROMETHEUS_QUERY', `${base}: ${(err as Error).message}`);
  }
  if (body.status !== 'success') throw new MeshletError('MESHLET_TELEMETRY_PROMETHEUS_QUERY', `${q}: ${body.error ?? body.status}`);
  return body.data!.result.map((x) => ({ labels: x.metric, value: Number(x.value[1]) })).filter((r) => Number.isFinite(r.value));
}

export async function prometheusRates(base: string, window = '1m', f: typeof fetch = globalThis.fetch): Promise<{ requests: Row[]; buckets: Row[]; tcp: Row[] }> {
  const q = graphQueries(window);
  const [requests, buckets, tcp] = await Promise.all([query(base, q.requests, f), query(base, q.buckets, f), query(base, q.tcp, f)]);
  return { requests, buckets, tcp };
}

type RangeBody = { status: string; error?: string; data?: { result: { metric: Record<string, string>; values: [number, string][] }[] } };

async function queryRange(base: string, q: string, start: number, end: number, stepS: number, f: typeof fetch): Promise<Map<number, Row[]>> {
  let body: RangeBody;
  try {
    const r = await f(`${base.replace(/\/$/, '')}/api/v1/query_range?query=${encodeURIComponent(q)}&start=${start}&end=${end}&step=${stepS}`, { signal: AbortSignal.timeout(5000) });
    body = (await r.json()) as RangeBody;
  } catch (err) {
    throw new MeshletError('MESHLET_TELEMETRY_PROMETHEUS_QUERY', `${base}: ${(err as Error).message}`);
  }
  if (body.status !== 'success') throw new MeshletError('MESHLET_TELEMETRY_PROMETHEUS_QUERY', `${q}: ${body.error ?? body.status}`);
  const out = new Map<number, Row[]>();
  for (const x of body.data!.result) {
    for (const [t, v] of x.values) {
      const value = Number(v);
      if (!Number.isFinite(value)) continue;
      const rows = out.get(t) ?? [];
      rows.push({ labels: x.metric, value });
      out.set(t, rows);
    }
  }
  return out;
}

/**
 * Chart points from Prometheus: the window cut into `steps` intervals, each interval's rates
 * (`rate(...[step])` evaluated at its end), as the own collector's series gives them.
 */
export async function prometheusSeries(base: string, windowS: number, steps = 12, nowS = Date.now() / 1000, f: typeof fetch = globalThis.fetch): Promise<{ t: number; requests: Row[]; buckets: Row[]; tcp: Row[] }[]> {
  const stepS = Math.max(15, Math.round(windowS / steps));
  const q = graphQueries(`${stepS}s`);
  const end = Math.floor(nowS);
  const start = end - stepS * (steps - 1);
  const [req, bkt, tcp] = await Promise.all([queryRange(base, q.requests, start, end, stepS, f), queryRange(base, q.buckets, start, end, stepS, f), queryRange(base, q.tcp, start, end, stepS, f)]);
  const times = [...new Set([...req.keys(), ...bkt.keys(), ...tcp.keys()])].sort((a, b) => a - b);
  return times.map((t) => ({ t: t * 1000, requests: req.get(t) ?? [], buckets: bkt.get(t) ?? [], tcp: tcp.get(t) ?? [] }));
}
