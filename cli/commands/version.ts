import { parseFlags } from '../args.ts';
import { meshletCodeForm, meshletVersion } from '../version.ts';
import { operatorUrl } from '../explain/source.ts';

const HELP = `Usage: meshlet version [--short] [--client] [--operator <url>] [-o text|json]

Prints the meshlet client version and the Node.js runtime it runs on, then — when the
operator is reachable — the operator (its address and current config hash) and every
connected proxy with the config version it runs and whether that is the latest.

Flags:
  --short            print only the client version number
  --client           client only: do not contact the operator
  --operator <url>   operator debug endpoint (default $MESHLET_OPERATOR or http://127.0.0.1:15014)
  -o, --output <f>   text (default) or json
  -h, --help

Examples:
  meshlet version --short
  meshlet version --operator http://127.0.0.1:15014
`;

interface ProxyRow { id: string; acked?: string; version: string; status: string; connected: boolean }

async function operatorInfo(url: string): Promise<{ world: string; proxies: ProxyRow[] } | string> {
  try {
    const res = await fetch(`${url}/debug/proxies`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return `answered ${res.status}`;
    return (await res.json()) as { world: string; proxies: ProxyRow[] };
  } catch (err) {
    const e = err as Error;
    return e.cause instanceof Error ? e.cause.message : e.message;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { short: { type: 'boolean' }, client: { type: 'boolean' }, operator: { type: 'string' }, output: { type: 'string', short: 'o' } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.short === true) {
    process.stdout.write(`${meshletVersion}\n`);
    return 0;
  }
  const client = { version: meshletVersion, node: process.version, platform: `${process.platform}/${process.arch}`, code: meshletCodeForm };
  const op = values.client === true ? undefined : operatorUrl(values.operator as string | undefined);
  const info = op === undefined ? undefined : await operatorInfo(op.url);
  if (values.output === 'json') {
    const operator = op === undefined ? null : typeof info === 'string' ? { url: op.url, reachable: false, error: info } : { url: op.url, reachable: true, world: info?.world, proxies: info?.proxies.map((p) => ({ id: p.id, config: p.acked ?? null, status: p.status, connected: p.connected })) };
    process.stdout.write(`${JSON.stringify({ client, operator }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`client: meshlet ${meshletVersion} (node ${process.version}, ${client.platform}, ${meshletCodeForm === 'dist' ? 'compiled' : 'from source'})\n`);
  if (op === undefined || info === undefined) return 0;
  if (typeof info === 'string') {
    process.stdout.write(`operator: not reachable at ${op.url} (${op.from}): ${info}\n          point elsewhere with --operator <url> or MESHLET_OPERATOR=<url>\n`);
    return 0;
  }
  // The operator and the proxies it serves run the same meshlet build as this client in local mode.
  process.stdout.write(`operator: ${op.url}, config ${info.world}, ${info.proxies.filter((p) => p.connected).length} proxies connected\n`);
  for (const p of info.proxies) process.stdout.write(`proxy:    ${p.id}  config ${p.acked ?? '-'}  ${p.status}${p.connected ? '' : ' (gone)'}\n`);
  return 0;
}
