/** `meshlet graph`: the service graph in the terminal, and where to open it in a browser. */
import { parseFlags } from '../args.ts';
import { MeshletError, formatError } from '../../common/errors.ts';
import type { GraphEdge, GraphNode } from '../../operator/ui/graph-build.ts';
import { windowOf } from '../../operator/ui/collector.ts';
import type { GraphResponse } from '../../operator/ui/plugin.ts';

const HELP = `Usage: meshlet graph [--operator URL | --prometheus URL] [--window 1m|5m|15m] [-o tree|table|json] [--open]

Prints the service graph as the /ui page draws it: apps with their versions (and the share
of traffic each version served), grouped by namespace, each with the calls it makes:
requests/s, success rate, p99 latency, mutual TLS, health, and the observed split over the
destination's versions. Then the URL of the graph page (/ui on the operator's 15014).

Data comes from the operator (its Prometheus when configured, else its own scrapes of
the connected proxies), or straight from a Prometheus with --prometheus.

Flags:
  --operator URL     operator monitoring address (default $MESHLET_OPERATOR_MONITOR,
                     else http://127.0.0.1:15014; in a cluster:
                     kubectl -n meshlet-system port-forward svc/meshlet 15014)
  --prometheus URL   query this Prometheus instead of the operator
  --window W         time window: 1m (default), 5m or 15m
  -o, --output FMT   tree (default: per namespace and app), table (one line per call) or json
  --open             print the page's URL and open it in a browser when one is available
                     ($BROWSER, else xdg-open with a display); prints only the URL otherwise
  -h, --help

Exit codes: 0 ok, 1 some edge is failing (≥ 20% 5xx), 2 usage error, 3 graph unreachable.

Examples:
  meshlet graph
  meshlet graph --window 5m -o table
  meshlet graph --operator http://127.0.0.1:15014 -o json
  meshlet graph --prometheus http://127.0.0.1:9090
  meshlet graph --open
`;

function versionsOf(n: GraphNode): string {
  if (n.versions.length === 0) return '';
  const withTraffic = n.versions.some((v) => v.rps > 0);
  return ` [${n.versions.map((v) => (withTraffic && n.versions.length > 1 ? `${v.version} ${(v.share * 100).toFixed(0)}%` : v.version)).join(', ')}]`;
}

function nodeName(n: GraphNode | undefined, id: string): string {
  if (n === undefined) return id;
  if (n.kind === 'unknown') return '(outside the mesh)';
  if (n.kind === 'external') return `external ${n.name}`;
  return `${n.name}.${n.namespace}`;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const mtlsText = (m: GraphEdge['mtls']): string => (m === 'full' ? 'mTLS' : m === 'partial' ? 'mTLS partial' : m === 'none' ? 'plaintext' : 'mTLS ?');
const health = (h: GraphEdge['health']): string => (h === 'failing' ? 'FAILING' : h);

function edgeFigures(e: GraphEdge): string[] {
  return [
    e.tcp ? `${e.rps.toFixed(2)} conn/s` : `${e.rps.toFixed(2)} rps`,
    e.tcp ? 'tcp' : pct(e.successRate),
    e.p99 === null ? 'p99 -' : `p99 ${e.p99.toFixed(1)}ms`,
    mtlsText(e.mtls),
    health(e.health),
  ];
}

/** One line per call, pure (tests compare it). */
export function renderTable(g: Pick<GraphResponse, 'nodes' | 'edges'>): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const rows = g.edges.map((e: GraphEdge) => {
    const src = byId.get(e.source);
    const dst = byId.get(e.target);
    return [
      nodeName(src, e.source),
      nodeName(dst, e.target) + (dst === undefined ? '' : versionsOf(dst)),
      e.tcp ? `${e.rps.toFixed(2)} conn/s` : e.rps.toFixed(2),
      e.tcp ? 'tcp' : pct(e.successRate),
      e.p99 === null ? '-' : `${e.p99.toFixed(1)}ms`,
      e.mtls === 'full' ? 'yes' : e.mtls === 'partial' ? 'partial' : e.mtls === 'none' ? 'no' : '?',
      health(e.health),
    ];
  });
  const head = ['FROM', 'TO', 'REQ/S', 'SUCCESS', 'P99', 'MTLS', 'HEALTH'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** Namespaces → apps (with versions) → their calls, pure (tests compare it). */
export function renderTree(g: Pick<GraphResponse, 'nodes' | 'edges'>): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, GraphNode[]>();
  for (const n of g.nodes) {
    const k = n.kind === 'unknown' ? '(outside the mesh)' : n.kind === 'external' ? '(external)' : `namespace ${n.namespace}${n.cluster === '' ? '' : ` · cluster ${n.cluster}`}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(n);
  }
  const out: string[] = [];
  const order = [...groups.keys()].sort((a, b) => (a.startsWith('(') ? 1 : 0) - (b.startsWith('(') ? 1 : 0) || a.localeCompare(b));
  for (const k of order) {
    out.push(k);
    const nodes = groups.get(k)!;
    nodes.forEach((n, i) => {
      const lastNode = i === nodes.length - 1;
      const inbound = n.rpsIn > 0 ? `  ← ${n.rpsIn.toFixed(2)} rps in, ${pct(n.successRate)}` : '';
      out.push(`${lastNode ? '└─' : '├─'} ${n.kind === 'unknown' ? 'unknown (outside the mesh)' : n.kind === 'external' ? n.name : n.name}${n.kind === 'ingress' ? ' (ingress)' : ''}${versionsOf(n)}${inbound}`);
      const calls = g.edges.filter((e) => e.source === n.id);
      const w = Math.max(0, ...calls.map((e) => nodeName(byId.get(e.target), e.target).length));
      calls.forEach((e, j) => {
        const split = Object.keys(e.split).length > 1 ? `  split ${Object.entries(e.split).map(([v, s]) => `${v} ${(s * 100).toFixed(0)}%`).join(' ')}` : '';
        const flags = Object.keys(e.flags).length > 0 ? `  flags ${Object.keys(e.flags).join(',')}` : '';
        out.push(`${lastNode ? '   ' : '│  '}${j === calls.length - 1 ? '└─' : '├─'}→ ${nodeName(byId.get(e.target), e.target).padEnd(w)}  ${edgeFigures(e).join('  ')}${split}${flags}`);
      });
    });
  }
  return out.join('\n');
}

/** Opens a URL in a browser when the machine has one ($BROWSER, else xdg-open/open with a display). */
async function openBrowser(url: string): Promise<boolean> {
  const { spawn } = await import('node:child_process');
  const cmd = process.env.BROWSER !== undefined && process.env.BROWSER !== '' ? process.env.BROWSER
    : process.platform === 'darwin' ? 'open'
      : process.env.DISPLAY !== undefined || process.env.WAYLAND_DISPLAY !== undefined ? 'xdg-open' : undefined;
  if (cmd === undefined) return false;
  return new Promise((resolve) => {
    const c = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    c.on('error', () => resolve(false));
    c.on('spawn', () => {
      c.unref();
      resolve(true);
    });
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, { operator: { type: 'string' }, prometheus: { type: 'string' }, window: { type: 'string' }, output: { type: 'string', short: 'o' }, open: { type: 'boolean' } });
  if (v.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const output = (v.output as string | undefined) ?? 'tree';
  if (output !== 'tree' && output !== 'table' && output !== 'json') throw new MeshletError('MESHLET_CORE_BAD_FLAG', `-o ${output}: use tree, table or json`);
  const operator = ((v.operator as string | undefined) ?? process.env.MESHLET_OPERATOR_MONITOR ?? 'http://127.0.0.1:15014').replace(/\/$/, '');
  let window: ReturnType<typeof windowOf>;
  try {
    window = windowOf(v.window);
  } catch (err) {
    process.stderr.write(`${formatError((err as MeshletError).code, (err as Error).message)}\n`);
    return 2;
  }
  if (v.open === true) {
    const url = `${operator}/ui?window=${window}`;
    process.stdout.write(`${url}\n`);
    if (await openBrowser(url)) process.stdout.write('opened in a browser\n');
    return 0;
  }
  let g: GraphResponse;
  const prometheus = v.prometheus as string | undefined;
  if (prometheus !== undefined) {
    const { graphFrom } = await import('../../operator/ui/plugin.ts');
    g = await graphFrom({ prometheusUrl: prometheus }, undefined, window);
  } else {
    try {
      const r = await fetch(`${operator}/ui/graph.json?window=${window}`, { signal: AbortSignal.timeout(10_000) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      g = (await r.json()) as GraphResponse;
    } catch (err) {
      process.stderr.write(`${formatError('MESHLET_TELEMETRY_GRAPH_UNREACHABLE', `${operator}/ui/graph.json: ${(err as Error).message}`)}\n`);
      return 3;
    }
  }
  if (output === 'json') process.stdout.write(`${JSON.stringify(g, null, 2)}\n`);
  else {
    process.stdout.write(g.edges.length === 0 ? `no traffic seen in the last ${window}\n` : `${output === 'tree' ? renderTree(g) : renderTable(g)}\n`);
    for (const e of g.errors) process.stderr.write(`warning: ${e.message} [${e.code}]\n`);
    process.stdout.write(prometheus === undefined ? `\nUI: ${operator}/ui\n` : `\n(source: ${prometheus})\n`);
  }
  if (prometheus !== undefined && g.errors.length > 0 && g.edges.length === 0) return 3;
  return g.edges.some((e) => e.health === 'failing') ? 1 : 0;
}
