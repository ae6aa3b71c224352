import { parseFlags } from '../args.ts';

const HELP = `Usage: meshlet proxy-status [--operator <url>] [--output table|json]

Lists every proxy connected to the operator with the config version it acked:
  SYNCED  the proxy acked the config the operator wants it on
  STALE   a newer config was computed (and sent) but not acked yet
  NACK    the proxy rejected the config (the error is shown; it keeps its last good one)

Flags:
  --operator <url>   operator monitoring endpoint (default http://127.0.0.1:15014)
  -o, --output <f>   table (default) or json
  -h, --help

Examples:
  meshlet proxy-status
  meshlet proxy-status --operator http://127.0.0.1:15014 -o json
`;

interface Row {
  id: string;
  namespace: string;
  workload: string;
  version: string;
  acked?: string;
  status: string;
  error?: string;
  connected: boolean;
}

export function renderTable(rows: Row[]): string {
  const head = ['PROXY', 'WORKLOAD', 'ACKED', 'STATUS', 'ERROR'];
  const body = rows.map((r) => [r.id, `${r.workload}.${r.namespace}`, r.acked ?? '-', `${r.status}${r.connected ? '' : ' (gone)'}`, r.error ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  return [head, ...body].map((cols) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { operator: { type: 'string' }, output: { type: 'string', short: 'o' } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const base = ((values.operator as string | undefined) ?? 'http://127.0.0.1:15014').replace(/\/$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/debug/proxies`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    process.stderr.write(`meshlet proxy-status: cannot reach the operator at ${base}: ${(err as Error).message}\n  hint: start it with 'meshlet operator' or pass --operator <url>\n`);
    return 3;
  }
  if (!res.ok) {
    process.stderr.write(`meshlet proxy-status: operator answered ${res.status}\n`);
    return 3;
  }
  const data = (await res.json()) as { proxies: Row[] };
  if (values.output === 'json') process.stdout.write(`${JSON.stringify(data.proxies, null, 2)}\n`);
  else if (data.proxies.length === 0) process.stdout.write('no proxies connected\n');
  else process.stdout.write(renderTable(data.proxies));
  return data.proxies.some((r) => r.status === 'NACK') ? 1 : 0;
}
