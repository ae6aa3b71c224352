/** `meshlet analyze`: cross-object problems, from a directory or a cluster. */
import { parseFlags } from '../args.ts';
import { errorEntry, MeshletError } from '../../common/errors.ts';
import { Store } from '../../operator/store/store.ts';
import { buildWorld } from '../../operator/world/build.ts';
import { analyze } from '../analyze/rules.ts';
import { loadCluster, loadDirectory, originKey, type Loaded } from '../analyze/load.ts';
import { reportError } from '../explain/fail.ts';

const HELP = `Usage: meshlet analyze [--local <dir> | -f <dir>] [--kubeconfig <file>] [-o text|json]

Finds problems that no single object shows, each with a stable code:
  MESHLET_ANALYZE_UNKNOWN_SUBSET      a route to a subset no DestinationRule defines (503 NR)
  MESHLET_ANALYZE_DR_NO_SERVICE       a DestinationRule for a host with no Service
  MESHLET_ANALYZE_SELECTS_NOTHING     a PeerAuthentication/AuthorizationPolicy/DestinationRule selector matching no workload
  MESHLET_ANALYZE_STRICT_NO_SIDECAR   STRICT mTLS applying to a workload without a sidecar
  MESHLET_ANALYZE_VS_CONFLICT         several VirtualServices for one host
  MESHLET_ANALYZE_INJECTION_MISSING   a running pod without sidecar in a namespace labelled for injection
Objects that fail validation are left out here; run 'meshlet validate -f' for those.

Flags:
  --local <dir>, -f <dir>  analyze a directory of YAML (as 'meshlet local' runs it)
  --kubeconfig <file>      analyze a cluster (default: $KUBECONFIG or ~/.kube/config) when no directory is given
  -o, --output <fmt>       text (default) or json
  -h, --help

Exit codes: 0 no problems, 1 problems found, 2 usage error, 3 could not read the objects.

Examples:
  meshlet analyze --local examples/demo/mesh
  meshlet analyze --kubeconfig ~/.kube/config -o json
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { local: { type: 'string' }, file: { type: 'string', short: 'f' }, kubeconfig: { type: 'string' }, output: { type: 'string', short: 'o' } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    if (positionals.length > 0) throw new MeshletError('MESHLET_CLI_USAGE', `unexpected argument "${positionals[0]}" (use --local <dir>)`);
    const output = (values.output as string | undefined) ?? 'text';
    if (output !== 'text' && output !== 'json') throw new MeshletError('MESHLET_CLI_USAGE', `--output ${output}: use text or json`);
    const dir = (values.local ?? values.file) as string | undefined;
    const loaded: Loaded = dir !== undefined ? loadDirectory(dir) : await loadCluster(values.kubeconfig as string | undefined);
    const store = new Store();
    store.replace(loaded.objects.map((object) => ({ object })), () => true);
    const findings = analyze(buildWorld(store.acceptedObjects()), loaded.objects);
    if (output === 'json') {
      process.stdout.write(`${JSON.stringify(findings.map((f) => ({ ...f, origin: loaded.origins.get(originKey(f.object)) ?? null, hint: errorEntry(f.code).hint })), null, 2)}\n`);
    } else {
      for (const p of loaded.problems) process.stdout.write(`${p} (not analyzed)\n`);
      for (const f of findings) {
        const at = loaded.origins.get(originKey(f.object));
        process.stdout.write(`${f.level === 'error' ? 'Error' : 'Warning'} [${f.code}] ${f.object.kind} ${f.object.namespace}/${f.object.name}${f.path === undefined ? '' : ` ${f.path}`}: ${f.message}${at === undefined ? '' : `  (${at})`}\n  hint: ${errorEntry(f.code).hint}\n`);
      }
      process.stdout.write(findings.length === 0 ? `✔ no problems found (${loaded.objects.length} objects analyzed)\n` : `${findings.length} problem${findings.length === 1 ? '' : 's'} found (${loaded.objects.length} objects analyzed)\n`);
    }
    return findings.length === 0 ? 0 : 1;
  } catch (err) {
    return reportError('analyze', err);
  }
}
