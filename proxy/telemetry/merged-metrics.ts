/**
 * Merged metrics (Istio's feature, the webhook's contract): when the pod declared its own
 * `prometheus.io/*` scrape annotations, the injector moved them to env `APP_METRICS`
 * (`{"port": 9102, "path": "/metrics", "scheme": "http"}`) and points scrapers at the
 * proxy's 15090; the proxy appends the app's exposition to its own. App families whose
 * names the proxy already exports (e.g. a Node app's process_* metrics) are dropped: a
 * family twice in one exposition fails the whole scrape in Prometheus.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface AppMetrics {
  port: number;
  path: string;
  scheme: string;
}

/** Parses env `APP_METRICS`; undefined when absent or malformed (the proxy serves its own metrics only). */
export function appMetricsFromEnv(env: NodeJS.ProcessEnv = process.env): AppMetrics | undefined {
  const raw = env.APP_METRICS;
  if (raw === undefined || raw === '') return undefined;
  try {
    const o = JSON.parse(raw) as Partial<AppMetrics>;
    if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) return undefined;
    return { port: o.port, path: typeof o.path === 'string' && o.path.startsWith('/') ? o.path : '/metrics', scheme: o.scheme === 'https' ? 'https' : 'http' };
  } catch {
    return undefined;
  }
}

const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info'];

function baseName(name: string, ours: ReadonlySet<string>): string {
  if (ours.has(name)) return name;
  for (const s of SUFFIXES) if (name.endsWith(s) && ours.has(name.slice(0, -s.length))) return name.slice(0, -s.length);
  return name;
}

/** The app's lines minus families the proxy already exports. Pure. */
export function filterAppExposition(text: string, ours: ReadonlySet<string>): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let name: string;
    if (line.startsWith('#')) {
      const m = /^# (?:HELP|TYPE|UNIT) (\S+)/.exec(line);
      if (m === null) continue;
      name = m[1]!;
    } else {
      const end = line.search(/[{ ]/);
      name = end === -1 ? line : line.slice(0, end);
    }
    if (!ours.has(baseName(name, ours))) out.push(line);
  }
  return out.join('\n');
}

/** Fetches the app's metrics from 127.0.0.1 (bounded time; any failure gives undefined). */
export function fetchAppMetrics(app: AppMetrics, timeoutMs = 2000, host = '127.0.0.1'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = (app.scheme === 'https' ? httpsRequest : httpRequest)({ host, port: app.port, path: app.path, method: 'GET', timeout: timeoutMs, rejectUnauthorized: false, headers: { accept: 'text/plain' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(undefined);
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > 32 * 1024 * 1024) req.destroy();
      });
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
