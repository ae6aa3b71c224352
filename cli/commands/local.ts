/** `meshlet local <dir>`: run a directory of Istio YAML as a mesh on this machine, no cluster. */
import { existsSync, statSync } from 'node:fs';
import { parseFlags } from '../args.ts';
import { formatError } from '../../common/errors.ts';

const HELP = `Usage: meshlet local <dir> [flags]

Runs the mesh described by a directory of YAML on this machine, without a cluster and
without root: the operator watches <dir> (edits apply within a second), one proxy runs
per WorkloadEntry on the entry's own 127.x address, and each workload's own command runs
when the entry says how:

  apiVersion: networking.istio.io/v1
  kind: WorkloadEntry
  metadata:
    name: reviews-v1
    namespace: default
    annotations:
      local.meshlet.io/command: "node ../apps/reviews.ts"   # run by sh, cwd = this file's folder
  spec: {address: 127.0.77.21, labels: {app: reviews, version: v1}, serviceAccount: reviews}

The command gets BIND_ADDRESS (the entry's address), PORT (its first port), MESHLET_WORKLOAD,
MESHLET_LABEL_<KEY> and HTTP_PROXY=http://<address>:15001: apps call services through
their proxy as an explicit HTTP proxy (e.g. GET http://reviews:9080/ via that proxy).
Output is prefixed with the workload's name. Ctrl-C stops everything.
An entry without serviceAccount (or annotated sidecar.meshlet.io/proxy: "false") runs without a proxy.

Requests go sidecar to sidecar: a meshed endpoint is its proxy's inbound listener
(<address>:15006), reached with auto mTLS. Certs come from the operator's CA, which
checks per-workload token files in a private state dir (removed on exit). The
destination proxy enforces PeerAuthentication, RequestAuthentication (JWT) and
AuthorizationPolicy, then forwards to the app from 127.0.0.6. The operator fetches the
RequestAuthentications' jwksUri keys itself, every 20m (MESHLET_JWKS_REFRESH=<duration>).

Flags:
  --push-port <n>      operator config push port (default 15012; 0 picks a free one)
  --monitor-port <n>   operator debug/metrics port (default 15014; 0 picks a free one)
  --proxy-port <n>     each proxy's explicit-proxy port on its address (default 15001)
  --no-apps            start the operator and proxies only
  --netns              (root) each workload in its own network namespace with iptables capture:
                       WorkloadEntry addresses in 198.18.0.0/15, the host (operator) at 198.18.0.1;
                       proxies run as uid 1337, apps without HTTP_PROXY; namespaces removed on exit
  --seed <n>           seed the proxies' random source (reproducible weighted splits)
  --log-level <level>  operator and proxy log level (default warn)
  --no-color           no colours in prefixes
  -h, --help

Then, in another terminal:
  meshlet proxy-status                      # connected proxies, SYNCED/STALE/NACK
  meshlet explain frontend.default http://reviews:9080/ -H user-tier:premium
  meshlet proxy-config frontend.default routes

Examples:
  meshlet local examples/demo/mesh
  meshlet local ./mesh --monitor-port 0 --push-port 0 --no-apps
`;

function port(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw Object.assign(new Error(`${name} must be a port number, got "${String(v)}"`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    'push-port': { type: 'string' }, 'monitor-port': { type: 'string' }, 'proxy-port': { type: 'string' },
    'no-apps': { type: 'boolean' }, netns: { type: 'boolean' }, seed: { type: 'string' }, 'log-level': { type: 'string' }, 'no-color': { type: 'boolean' },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1 || !existsSync(dir) || !statSync(dir).isDirectory()) {
    process.stderr.write(`${formatError('MESHLET_CLI_USAGE', dir === undefined ? 'meshlet local needs a directory' : `${dir} is not a directory`)}\nUsage: meshlet local <dir>   (see meshlet local --help)\n`);
    return 2;
  }
  if (values.netns === true) {
    const { netnsUnavailable } = await import('../local/netns.ts');
    const why = netnsUnavailable();
    if (why !== undefined) {
      process.stderr.write(`meshlet local: ${why}\n  hint: run without --netns (loopback addresses, no root needed)\n`);
      return 2;
    }
  }
  const { runLocal } = await import('../local/run.ts');
  let stopping = false;
  const done = new Promise<void>((r) => {
    const onSignal = (): void => {
      if (!stopping) r();
      stopping = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  let local: Awaited<ReturnType<typeof runLocal>>;
  try {
    local = await runLocal({
      dir,
      pushPort: port(values['push-port'], '--push-port', 15012),
      monitorPort: port(values['monitor-port'], '--monitor-port', 15014),
      proxyPort: port(values['proxy-port'], '--proxy-port', 15001),
      apps: values['no-apps'] !== true,
      out: process.stdout,
      color: values['no-color'] !== true && process.stdout.isTTY === true,
      logLevel: (values['log-level'] as string | undefined) ?? 'warn',
      ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
      graceMs: 5000,
      netns: values.netns === true,
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code !== 'EADDRINUSE') throw err;
    process.stderr.write(`meshlet local: ${e.message}: another operator (or meshlet local) is probably running.\n  hint: stop it, or pick free ports with --push-port 0 --monitor-port 0\n`);
    // The operator's half-started servers may hold the loop: exit once the code is set.
    setTimeout(() => process.exit(3), 200).unref();
    return 3;
  }
  process.stdout.write(`local | ready: ${local.plan.workloads.length} workloads. Try: MESHLET_OPERATOR=${local.operatorUrl} meshlet proxy-status   (Ctrl-C stops everything)\n`);
  await done;
  process.stdout.write('local | stopping…\n');
  await local.stop();
  process.stdout.write('local | stopped\n');
  // Whatever handle might linger, the children are gone: exit soon after returning.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}
