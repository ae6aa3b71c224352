/**
 * Rewrites the app's HTTP liveness/readiness/startup probes to go through the proxy's health
 * port (as Istio does), so a STRICT mTLS inbound listener does not break kubelet probes. The
 * original probes are kept (JSON, keyed by the new path) for the proxy to forward to; see the
 * contract in webhook/README.md.
 */
import type { Container, HttpGet, Probe } from './pod-types.ts';

export const PROBE_KINDS = [
  { field: 'livenessProbe', suffix: 'livez' },
  { field: 'readinessProbe', suffix: 'readyz' },
  { field: 'startupProbe', suffix: 'startupz' },
] as const;

/** What the proxy forwards `/app-health/<container>/<kind>` to (always on 127.0.0.1). */
export interface AppProbe {
  httpGet: { path: string; port: number; scheme: string; host?: string; httpHeaders?: { name: string; value: string }[] };
  timeoutSeconds?: number;
}

export type AppProbes = Record<string, AppProbe>;

function resolvePort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/**
 * Returns the containers with their HTTP probes pointing at `healthPort`, and the originals.
 * Probes that are not httpGet (exec, tcpSocket, grpc) are left as they are.
 */
export function rewriteProbes(containers: readonly Container[], healthPort: number): { containers: Container[]; probes: AppProbes } {
  const probes: AppProbes = {};
  const out = containers.map((c) => {
    const copy: Container = { ...c };
    for (const { field, suffix } of PROBE_KINDS) {
      const probe = c[field] as Probe | undefined;
      const get: HttpGet | undefined = probe?.httpGet;
      if (probe === undefined || get === undefined) continue;
      const port = resolvePort(c, get.port);
      if (port === undefined) continue;
      const path = `/app-health/${c.name}/${suffix}`;
      const original: AppProbe = { httpGet: { path: get.path ?? '/', port, scheme: (get.scheme ?? 'HTTP').toUpperCase() } };
      if (get.host !== undefined) original.httpGet.host = get.host;
      if (get.httpHeaders !== undefined) original.httpGet.httpHeaders = get.httpHeaders;
      if (probe.timeoutSeconds !== undefined) original.timeoutSeconds = probe.timeoutSeconds;
      probes[path] = original;
      copy[field] = { ...probe, httpGet: { path, port: healthPort, scheme: 'HTTP' } };
    }
    return copy;
  });
  return { containers: out, probes };
}

/** The app's own Prometheus scrape target, when its annotations declare one. */
export interface AppMetrics {
  port: number;
  path: string;
  scheme: string;
}

/**
 * Merged metrics (Istio's name): scrapers keep using the pod's `prometheus.io/*` annotations,
 * which now point at the proxy's 15090 `/stats/prometheus`; the proxy appends the app's own
 * metrics there when `appMetrics` is set. Returns null annotations when the app said scrape=false.
 */
export function mergeScrapeAnnotations(annotations: Record<string, string>, containers: readonly Container[], statsPort: number):
  { annotations: Record<string, string> | null; appMetrics: AppMetrics | null } {
  if (annotations['prometheus.io/scrape'] === 'false') return { annotations: null, appMetrics: null };
  let appMetrics: AppMetrics | null = null;
  if (annotations['prometheus.io/scrape'] === 'true') {
    const declared = annotations['prometheus.io/port'];
    const port = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : containers[0]?.ports?.[0]?.containerPort;
    if (port !== undefined) appMetrics = { port, path: annotations['prometheus.io/path'] ?? '/metrics', scheme: annotations['prometheus.io/scheme'] ?? 'http' };
  }
  return {
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(statsPort), 'prometheus.io/path': '/stats/prometheus' },
    appMetrics,
  };
}
