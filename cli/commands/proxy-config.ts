/** `meshlet proxy-config <proxy> <section>`: one part of a proxy's config, as the proxy has it. */
import { parseFlags } from '../args.ts';
import { MeshletError } from '../../common/errors.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { reportError } from '../explain/fail.ts';
import { snapshotOf, sourceFrom } from '../explain/source.ts';
import { renderSection, SECTIONS, sectionData, type LiveCert, type Section } from '../explain/sections.ts';

const HELP = `Usage: meshlet proxy-config <proxy> listeners|routes|clusters|endpoints|secrets [-o table|json|yaml] [flags]

Shows one part of the config of proxy <proxy> (<pod>.<namespace>), with the object each
item came from. Read from the proxy's own admin endpoint with --admin (what it actually
applied), else from the operator's debug API (what it pushed), else from --local <dir>.

Sections:
  listeners   outbound/inbound listeners (port, protocol, route table)
  routes      route tables: virtual hosts, routes in order, matches and destinations
  clusters    upstream clusters: subset, load balancer, circuit breaker, TLS mode
  endpoints   endpoint sets: address, port, health, identity
  secrets     the proxy's certificates (identity, serial, not-after, from its admin /certs),
              its identity, PeerAuthentication mode and AuthorizationPolicies

Flags:
  -o, --output <fmt>   table (default), json or yaml
  --admin <url>        the proxy's admin endpoint, e.g. http://127.0.77.10:15000
  --operator <url>     operator debug endpoint (default $MESHLET_OPERATOR or http://127.0.0.1:15014)
  --local <dir>        a directory of YAML (no operator needed)
  -h, --help

Examples:
  meshlet proxy-config frontend.default routes
  meshlet proxy-config frontend.default clusters -o json
  meshlet proxy-config frontend.default listeners --admin http://127.0.77.10:15000
`;

/** The proxy's live certificates from its admin `/certs`; undefined when it cannot be reached. */
async function liveCerts(adminUrl: string): Promise<LiveCert[] | undefined> {
  try {
    const res = await fetch(`${adminUrl.replace(/\/$/, '')}/certs`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    return ((await res.json()) as { certificates: LiveCert[] }).certificates;
  } catch {
    return undefined;
  }
}

async function fromAdmin(url: string, id: string): Promise<ProxySnapshot> {
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/config_dump`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new MeshletError('MESHLET_CLI_OPERATOR_UNREACHABLE', `the proxy admin endpoint ${url} (--admin) did not answer: ${(err as Error).message}`);
  }
  const dump = (await res.json()) as { applied: boolean; snapshot?: ProxySnapshot };
  if (dump.snapshot === undefined) throw new MeshletError('MESHLET_CLI_OPERATOR_UNREACHABLE', `the proxy at ${url} has no config applied yet`);
  if (dump.snapshot.proxy.id !== id) throw new MeshletError('MESHLET_CLI_UNKNOWN_PROXY', `${url} is proxy ${dump.snapshot.proxy.id}, not ${id}`);
  return dump.snapshot;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { output: { type: 'string', short: 'o' }, admin: { type: 'string' }, operator: { type: 'string' }, local: { type: 'string' } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    const [proxy, section] = positionals;
    if (proxy === undefined || section === undefined || positionals.length > 2) throw new MeshletError('MESHLET_CLI_USAGE', `need <proxy> and a section (${SECTIONS.join('|')})`);
    if (!(SECTIONS as readonly string[]).includes(section)) throw new MeshletError('MESHLET_CLI_USAGE', `unknown section "${section}": use ${SECTIONS.join(', ')}`);
    const output = (values.output as string | undefined) ?? 'table';
    if (!['table', 'json', 'yaml'].includes(output)) throw new MeshletError('MESHLET_CLI_USAGE', `--output ${output}: use table, json or yaml`);
    const snapshot = typeof values.admin === 'string' ? await fromAdmin(values.admin, proxy) : await snapshotOf(await sourceFrom(values), proxy);
    // Certificates live only in the proxy: ask its admin (--admin, else its own address, which
    // answers in local mode; in a cluster the admin listens on the pod's loopback only).
    const certs = section !== 'secrets' ? undefined : await liveCerts(typeof values.admin === 'string' ? values.admin : `http://${snapshot.proxy.ip}:15000`);
    const data = sectionData(snapshot, section as Section, certs);
    if (output === 'json') process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else if (output === 'yaml') process.stdout.write((await import('yaml')).stringify(data));
    else process.stdout.write(renderSection(snapshot, section as Section, certs));
    return 0;
  } catch (err) {
    return reportError('proxy-config', err);
  }
}
