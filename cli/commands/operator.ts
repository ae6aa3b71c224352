import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { parseFlags } from '../args.ts';
import { createLogger } from '../../common/log.ts';
import { formatError } from '../../common/errors.ts';

const HELP = `Usage: meshlet operator [--kubeconfig <file> | --local <dir>] [flags]

Runs the meshlet control plane: watches the mesh objects (VirtualService, DestinationRule,
PeerAuthentication, AuthorizationPolicy) plus Services, EndpointSlices, Pods and Namespaces,
writes their status, translates them per proxy and pushes config to every sidecar.

Flags:
  --kubeconfig <file>     cluster to watch (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --local <dir>           watch a directory of YAML instead of a cluster (mesh kinds plus
                          Service and WorkloadEntry objects with loopback addresses)
  --address <ip>          address to listen on (default 0.0.0.0; 127.0.0.1 for local use)
  --push-port <n>         config push server, HTTPS (default 15012; 0 picks a free port)
  --monitor-port <n>      /metrics and /debug (default 15014; 0 picks a free port)
  --ca-file <file>        where to write the push server's CA certificate
                          (default: <tmpdir>/meshlet-operator-ca.pem)
  --hold <ms>             longest a config request is held before 304 (default 30000)
  --identity <name>       leader-election identity (default: hostname-pid)
  --no-status             never write status (serve proxies only)
  --log-level <level>     fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help

Examples:
  meshlet operator --kubeconfig ~/.kube/config
  meshlet operator --local ./mesh --address 127.0.0.1 --push-port 15012
`;

function port(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw Object.assign(new Error(`${name} must be a port number, got "${String(v)}"`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    local: { type: 'string' },
    address: { type: 'string' },
    'push-port': { type: 'string' },
    'monitor-port': { type: 'string' },
    'ca-file': { type: 'string' },
    hold: { type: 'string' },
    identity: { type: 'string' },
    'no-status': { type: 'boolean' },
    'log-level': { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const local = values.local as string | undefined;
  if (local !== undefined && (!existsSync(local) || !statSync(local).isDirectory())) {
    process.stderr.write(`${formatError('MESHLET_CORE_BAD_FLAG', `--local ${local} is not a directory`)}\n`);
    return 2;
  }
  const log = createLogger({ component: 'operator', ...(typeof values['log-level'] === 'string' ? { level: values['log-level'] } : {}) });
  const { runOperator } = await import('../../operator/run.ts');
  const caFile = (values['ca-file'] as string | undefined) ?? join(tmpdir(), 'meshlet-operator-ca.pem');
  const op = await runOperator({
    log,
    ...(local === undefined ? {} : { local: resolve(local) }),
    ...(typeof values.kubeconfig === 'string' ? { kubeconfig: values.kubeconfig } : {}),
    address: (values.address as string | undefined) ?? '0.0.0.0',
    pushPort: port(values['push-port'], '--push-port', 15012),
    monitorPort: port(values['monitor-port'], '--monitor-port', 15014),
    caFile,
    holdMs: port(values.hold, '--hold', 30000) || 30000,
    ...(typeof values.identity === 'string' ? { identity: values.identity } : {}),
    noStatus: values['no-status'] === true,
  });
  log.info({ pushPort: op.pushPort, monitorPort: op.monitorPort, caFile, mode: local === undefined ? 'kubernetes' : 'local', world: op.core.world.hash }, `operator ready: push https://${(values.address as string | undefined) ?? '0.0.0.0'}:${op.pushPort} (CA ${caFile}), metrics :${op.monitorPort}/metrics`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await op.stop();
  return 0;
}
