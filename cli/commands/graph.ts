/** `meshlet graph`: the service graph in the terminal, and where to open it in a browser. */
import { parseFlags } from '../args.ts';
import { MeshletError, formatError } from '../../common/errors.ts';
import type { GraphEdge, GraphNode } from '../../operator/ui/graph-build.ts';
import type { GraphResponse } from '../../operator/ui/plugin.ts';

const HELP = `Usage: meshlet graph [--operator URL | --prometheus URL] [-o table|json]

Prints the service graph: one line per call (caller → service) and per service →
workload that served it, with requests/s, success rate, p99 latency and whether the
traffic is mutual TLS, then the URL of the graph page (/ui on the operator's 15014).

Data comes from the operator (its Prometheus when configured, else its own scrapes of
the connected proxies), or straight from a Prometheus with --prometheus.

Flags:
  --operator URL     operator monitoring address (default $MESHLET_OPERATOR_MONITOR,
                     else http://127.0.0.1:15014; in a cluster:
                     kubectl -n meshlet-system port-forward svc/meshlet 15014)
  --prometheus URL   query this Prometheus instead of the operator
  --window W         PromQL rate window with --prometheus (default 1m)
  -o, --output FMT   table (default) or json
  -h, --help

Exit codes: 0 ok, 1 some edge is failing (≥ 20% 5xx), 2 usage error, 3 graph unreachable.

Examples:
  meshlet graph
  meshlet graph --operator http://127.0.0.1:15014 -o json
  meshlet graph --prometheus http://127.0.0.1:9090
`;

function nodeName(n: GraphNode | undefined, id: string): string {
  if (n === undefined) return id;
  if (n.kind === 'unknown') return '(outside the mesh)';
  return n.kind === 'service' ? `svc ${n.name}.${n.namespace}` : `${n.name}.${n.namespace}`;
}

/** The table, pure (tests compare it). */
export function renderTable(g: Pick<GraphResponse, 'nodes' | 'edges'>): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const rows = g.edges.map((e: GraphEdge) => [
    nodeName(byId.get(e.source), e.source),
    nodeName(byId.get(e.target), e.target),
    e.tcp ? `${e.rps.toFixed(2)} conn/s` : e.rps.toFixed(2),
    e.tcp ? 'tcp' : `${(e.successRate * 100).toFixed(1)}%`,
    e.p99Ms === null ? '-' : `${e.p99Ms.toFixed(1)}ms`,
    e.mtls ? 'yes' : 'no',
    e.health === 'failing' ? 'FAILING' : e.health,
  ]);
  const head = ['FROM', 'TO', 'REQ/S', 'SUCCESS', 'P99', 'MTLS', 'HEALTH'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, { operator: { type: 'string' }, prometheus: { type: 'string' }, window: { type: 'string' }, output: { type: 'string', short: 'o' } });
  if (v.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const output = (v.output as string | undefined) ?? 'table';
  if (output !== 'table' && output !== 'json') throw new MeshletError('MESHLET_CORE_BAD_FLAG', `-o ${output}: use table or json`);
  const operator = ((v.operator as string | undefined) ?? process.env.MESHLET_OPERATOR_MONITOR ?? 'http://127.0.0.1:15014').replace(/\/$/, '');
  let g: GraphResponse;
  const prometheus = v.prometheus as string | undefined;
  if (prometheus !== undefined) {
    const { graphFrom } = await import('../../operator/ui/plugin.ts');
    g = await graphFrom({ prometheusUrl: prometheus, promWindow: (v.window as string | undefined) ?? '1m' }, undefined);
  } else {
    try {
      const r = await fetch(`${operator}/ui/graph.json`, { signal: AbortSignal.timeout(10_000) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      g = (await r.json()) as GraphResponse;
    } catch (err) {
      process.stderr.write(`${formatError('MESHLET_TELEMETRY_GRAPH_UNREACHABLE', `${operator}/ui/graph.json: ${(err as Error).message}`)}\n`);
      return 3;
    }
  }
  if (output === 'json') process.stdout.write(`${JSON.stringify(g, null, 2)}\n`);
  else {
    process.stdout.write(g.edges.length === 0 ? 'no traffic seen yet (the graph shows calls from the last minute)\n' : `${renderTable(g)}\n`);
    for (const e of g.errors) process.stderr.write(`warning: ${e.message} [${e.code}]\n`);
    process.stdout.write(prometheus === undefined ? `\nUI: ${operator}/ui\n` : `\n(source: ${prometheus})\n`);
  }
  if (prometheus !== undefined && g.errors.length > 0 && g.edges.length === 0) return 3;
  return g.edges.some((e) => e.health === 'failing') ? 1 : 0;
}
