/**
 * Graph rows from a Prometheus server: the same rates the own collector computes, as PromQL
 * over the standard Istio metrics (so any Prometheus scraping the proxies works).
 */
import { MeshletError } from '../../common/errors.ts';
import type { Row } from './graph-build.ts';

const BY = 'reporter, source_workload, source_workload_namespace, destination_service, destination_service_name, destination_service_namespace, destination_workload, destination_workload_namespace';

export function graphQueries(window: string): { requests: string; buckets: string; tcp: string } {
  return {
    tcp: `sum(rate(istio_tcp_connections_opened_total[${window}])) by (${BY}, connection_security_policy)`,
    requests: `sum(rate(istio_requests_total[${window}])) by (${BY}, response_code, connection_security_policy)`,
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
