import type { ErrorEntry } from './types.ts';

/** Codes of the telemetry area: service graph, Prometheus queries, proxy scrapes, `meshlet graph`. */
export const telemetryErrors = [
  { code: 'MESHLET_TELEMETRY_PROMETHEUS_QUERY', status: 502, message: 'the Prometheus query for the service graph failed', hint: 'Check the Prometheus URL given to the operator (--prometheus-url) and that it scrapes the proxies on :15090/stats/prometheus.' },
  { code: 'MESHLET_TELEMETRY_SCRAPE_FAILED', status: 502, message: 'could not scrape a proxy\'s stats endpoint', hint: 'The operator reaches each proxy on <pod IP>:15090; check network policies and that the proxy is running. The graph shows the other proxies meanwhile.' },
  { code: 'MESHLET_TELEMETRY_GRAPH_UNREACHABLE', status: 503, message: 'could not fetch the service graph from the operator', hint: 'Pass --operator http://<host>:15014 (kubectl -n meshlet-system port-forward svc/meshlet 15014) or start `meshlet local`.' },
  { code: 'MESHLET_TELEMETRY_GRAPH_WINDOW', status: 400, message: 'unknown service-graph time window', hint: 'Use window=1m, 5m or 15m (the page\'s selector), or --window 1m|5m|15m with meshlet graph.' },
  { code: 'MESHLET_TELEMETRY_UI_NOT_FOUND', status: 404, message: 'no such service-graph file or object', hint: 'The page links only to files it serves and objects the operator knows; the object may have been deleted.' },
] as const satisfies readonly ErrorEntry[];
