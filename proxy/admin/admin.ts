/**
 * Admin (127.0.0.1:15000): `/config_dump` (version, provenance, snapshot, last NACK),
 * `/certs` (workload cert and roots, never keys), `/ready`, `POST /quitquitquit` (graceful exit so Jobs can finish). Readiness (15021):
 * `/healthz/ready` is 200 only once a config is applied and the listeners are up.
 * Stats (15090): `/stats/prometheus`, filled in by the metrics feature.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ConfigStore } from '../config/store.ts';
import { clusterViews } from '../resilience/cluster-guard.ts';
import { renderClusters, renderStats } from '../resilience/stats.ts';

export interface AdminDeps {
  store: ConfigStore;
  isReady: () => boolean;
  quit: () => void;
  /** Serves `/stats/prometheus`, streaming: a scrape must not hold the event loop. */
  metrics: (req: IncomingMessage, res: ServerResponse) => void;
  /** Workload cert and roots (never keys); empty without mTLS. */
  secrets?: () => unknown[];
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function configDump(store: ConfigStore, secrets: unknown[] = []): unknown {
  const rt = store.state.current;
  if (rt === undefined) return { version: '', applied: false, lastNack: store.lastNack ?? null, secrets };
  const s = rt.snapshot;
  const item = (kind: string, name: string, p: { kind: string; namespace: string; name: string }) => ({ kind, name, provenance: p });
  return {
    version: s.version,
    applied: true,
    appliedAt: rt.appliedAt.toISOString(),
    source: store.source,
    lastNack: store.lastNack ?? null,
    proxy: s.proxy,
    provenance: [
      ...s.listeners.map((l) => item('listener', l.name, l.provenance)),
      ...s.routes.flatMap((t) => t.virtualHosts.flatMap((vh) => vh.routes.map((r) => item('route', `${t.name}/${vh.name}/${r.name}`, r.provenance)))),
      ...s.clusters.map((c) => item('cluster', c.name, c.provenance)),
    ],
    snapshot: s,
    secrets,
  };
}

export function createAdminServer(d: AdminDeps): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/config_dump' && req.method === 'GET') return send(res, 200, `${JSON.stringify(configDump(d.store, d.secrets?.() ?? []), null, 2)}\n`, 'application/json');
    if (path === '/certs' && req.method === 'GET') return send(res, 200, `${JSON.stringify({ certificates: d.secrets?.() ?? [] }, null, 2)}\n`, 'application/json');
    if (path === '/ready' || path === '/healthz/ready') return d.isReady() ? send(res, 200, 'LIVE\n') : send(res, 503, 'PRE_INITIALIZING\n');
    if (path === '/quitquitquit' && req.method === 'POST') {
      send(res, 200, 'OK\n');
      d.quit();
      return;
    }
    // Per-cluster resilience counters (Envoy's /stats and /clusters text).
    if (path === '/stats' && req.method === 'GET') return send(res, 200, renderStats(clusterViews(d.store.state.current?.clusters.values() ?? []), new URL(req.url ?? '/', 'http://x').searchParams.get('filter') ?? undefined));
    if (path === '/clusters' && req.method === 'GET') return send(res, 200, renderClusters(clusterViews(d.store.state.current?.clusters.values() ?? [])));
    if (path === '/stats/prometheus') return d.metrics(req, res);
    send(res, 404, 'not found\n');
  });
}

/** The readiness server (15021) and stats server (15090) share the admin handler but only serve their paths. */
export function createPathServer(d: AdminDeps, allowed: string[]): Server {
  const admin = createAdminServer(d);
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!allowed.includes(path)) return send(res, 404, 'not found\n');
    admin.emit('request', req, res);
  });
}
