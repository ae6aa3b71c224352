import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { parseFlags } from '../args.ts';
import { createLogger } from '../../common/log.ts';
import { formatError, MeshletError } from '../../common/errors.ts';
import { parseDurationMs } from '../../operator/translate/duration.ts';

const HELP = `Usage: meshlet operator [--kubeconfig <file> | --local <dir>] [flags]

Runs the whole meshlet control plane in one process: watches the mesh objects
(VirtualService, DestinationRule, PeerAuthentication, AuthorizationPolicy) plus Services,
EndpointSlices, Pods and Namespaces, writes their status, translates them per proxy and
pushes config to every sidecar; runs the mesh CA; serves the sidecar injector.

  :15012  HTTPS  GET /v1/config (push), POST /v1/certificates (CA). Served with a cert from
                 the mesh root; proxies authenticate with their service-account token
                 (audience meshlet; TokenReview, or token files in local mode) or their
                 workload certificate, and may read only their own identity's config.
  :15014  HTTP   /metrics, /ui (service graph), /debug/*, /ready
  :15017  HTTPS  /inject (pod CREATE) and /validate (mesh kinds); cluster mode only

The mesh CA lives in Secret meshlet-system/meshlet-ca (created on first start; a
user-provided cacerts Secret wins); its public root is published as ConfigMap
meshlet-ca-root in every injected namespace. In local mode it lives in --ca-dir and a
workload's token is the content of <token-dir>/<namespace>/<serviceAccount>.token.

Flags:
  --kubeconfig <file>     cluster to watch (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --local <dir>           watch a directory of YAML instead of a cluster (mesh kinds plus
                          Service and WorkloadEntry objects with loopback addresses)
  --address <ip>          address to listen on (default 0.0.0.0; 127.0.0.1 for local use)
  --push-port <n>         config push + CA, HTTPS (default 15012; 0 picks a free port)
  --monitor-port <n>      /metrics, /ui and /debug (default 15014; 0 picks a free port)
  --webhook-port <n>      sidecar injector, HTTPS (default 15017; 0 picks a free port)
  --webhook <bool>        serve the injector in this process (default true in cluster
                          mode; always off in local mode): --webhook=false to disable
  --webhook-cert-host <h> SAN of the injector's serving certificate; repeatable
                          (default: the meshlet Service names)
  --webhook-config <name> MutatingWebhookConfiguration whose caBundle to keep current;
                          repeatable (default meshlet-sidecar-injector)
  --validating-config <n> ValidatingWebhookConfiguration whose caBundle to keep current;
                          repeatable (default meshlet-validator; "" = none)
  --trust-domain <td>     SPIFFE trust domain (default $MESHLET_TRUST_DOMAIN, mesh.yaml, cluster.local)
  --ca-dir <dir>          local mode: CA material (default <dir>/.meshlet/ca; a cacerts/
                          subfolder with Istio's file names wins over the generated one)
  --token-dir <dir>       local mode: workload token files (default <dir>/.meshlet/tokens)
  --workload-cert-ttl <d> workload certificate lifetime and maximum, e.g. 24h (default
                          $MESHLET_WORKLOAD_CERT_TTL, else 24h; renewed at half-life)
  --ca-secret <name>      cluster mode: bring-your-own CA Secret in meshlet-system, Istio's
                          cacerts shape (default $MESHLET_CA_SECRET, else cacerts); without
                          it a root is generated into Secret meshlet-ca
  --ca-root-ttl <d>       lifetime of a generated root, e.g. 87600h (default
                          $MESHLET_CA_ROOT_TTL, else 10 years); warned about 30 days ahead
  --ca-file <file>        where to write the mesh root (PEM) that clients trust the push
                          server with (default: <tmpdir>/meshlet-operator-ca.pem)
  --mesh-config <file>    mesh-wide settings, the chart's mesh.yaml: trust domain, access
                          log, tracing (default $MESHLET_MESH_CONFIG; none = defaults)
  --prometheus-url <url>  Prometheus for the service graph (default $MESHLET_PROMETHEUS_URL;
                          none = scrape the connected proxies' :15090 directly)
  --tracing-url <url>     Jaeger UI the service graph links edges' traces to
                          (default $MESHLET_TRACING_URL; chart value tracing.url)
  --hold <ms>             longest a config request is held before 304 (default 30000)
  --jwks-refresh <d>      how often the RequestAuthentications' jwksUri keys are fetched
                          again, e.g. 5m (default $MESHLET_JWKS_REFRESH, else 20m); the
                          operator fetches them, proxies get them in their config
  --identity <name>       leader-election identity (default: hostname-pid)
  --no-status             never write status (serve proxies only)
  --insecure-proxy-claims DEVELOPMENT ONLY: /v1/config trusts the proxy's stated identity
                          without a token or certificate (off by default)
  --log-level <level>     fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help

Examples:
  meshlet operator --kubeconfig ~/.kube/config
  meshlet operator --kubeconfig ~/.kube/config --webhook=false --prometheus-url http://prometheus:9090
  meshlet operator --local ./mesh --address 127.0.0.1
`;

function port(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw Object.assign(new Error(`${name} must be a port number, got "${String(v)}"`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  return n;
}

function bool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === 'true' || v === '1' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'off') return false;
  throw Object.assign(new Error(`${name} must be true or false, got "${String(v)}"`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? (v as string[]).filter((x) => x !== '') : undefined);
const env = (k: string): string | undefined => (process.env[k] === undefined || process.env[k] === '' ? undefined : process.env[k]);

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    local: { type: 'string' },
    address: { type: 'string' },
    'push-port': { type: 'string' },
    'monitor-port': { type: 'string' },
    'webhook-port': { type: 'string' },
    webhook: { type: 'string' },
    'webhook-cert-host': { type: 'string', multiple: true },
    'webhook-config': { type: 'string', multiple: true },
    'validating-config': { type: 'string', multiple: true },
    'trust-domain': { type: 'string' },
    'ca-dir': { type: 'string' },
    'token-dir': { type: 'string' },
    'workload-cert-ttl': { type: 'string' },
    'ca-secret': { type: 'string' },
    'ca-root-ttl': { type: 'string' },
    'ca-file': { type: 'string' },
    'mesh-config': { type: 'string' },
    'prometheus-url': { type: 'string' },
    'tracing-url': { type: 'string' },
    hold: { type: 'string' },
    'jwks-refresh': { type: 'string' },
    identity: { type: 'string' },
    'no-status': { type: 'boolean' },
    'insecure-proxy-claims': { type: 'boolean' },
    'log-level': { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const local = str(values.local);
  if (local !== undefined && (!existsSync(local) || !statSync(local).isDirectory())) {
    process.stderr.write(`${formatError('MESHLET_CORE_BAD_FLAG', `--local ${local} is not a directory`)}\n`);
    return 2;
  }
  const webhookOn = bool(values.webhook, '--webhook', local === undefined);
  if (webhookOn && local !== undefined && values.webhook !== undefined) {
    process.stderr.write(`${formatError('MESHLET_CORE_BAD_FLAG', '--webhook needs a cluster: the injector is off in local mode')}\n`);
    return 2;
  }
  const log = createLogger({ component: 'operator', ...(typeof values['log-level'] === 'string' ? { level: values['log-level'] } : {}) });
  const { composeOperator } = await import('../../operator/compose/index.ts');
  const caFile = str(values['ca-file']) ?? join(tmpdir(), 'meshlet-operator-ca.pem');
  const address = str(values.address) ?? '0.0.0.0';
  const trustDomain = str(values['trust-domain']) ?? env('MESHLET_TRUST_DOMAIN');
  const meshConfig = str(values['mesh-config']) ?? env('MESHLET_MESH_CONFIG');
  const prometheusUrl = str(values['prometheus-url']) ?? env('MESHLET_PROMETHEUS_URL');
  const validating = values['validating-config'];
  const ttlText = str(values['workload-cert-ttl']) ?? env('MESHLET_WORKLOAD_CERT_TTL');
  const workloadTtlMs = ttlText === undefined ? undefined : parseDurationMs(ttlText);
  if (ttlText !== undefined && (workloadTtlMs === undefined || workloadTtlMs < 60_000)) {
    process.stderr.write(`${formatError('MESHLET_CORE_BAD_FLAG', `--workload-cert-ttl ${ttlText} is not a duration of at least 1m (e.g. 24h)`)}\n`);
    return 2;
  }
  const rootTtlText = str(values['ca-root-ttl']) ?? env('MESHLET_CA_ROOT_TTL');
  const rootTtlMs = rootTtlText === undefined ? undefined : parseDurationMs(rootTtlText);
  if (rootTtlText !== undefined && (rootTtlMs === undefined || rootTtlMs < 24 * 3_600_000)) {
    process.stderr.write(`${formatError('MESHLET_CORE_BAD_FLAG', `--ca-root-ttl ${rootTtlText} is not a duration of at least 24h (e.g. 87600h)`)}\n`);
    return 2;
  }
  const jwksText = str(values['jwks-refresh']) ?? env('MESHLET_JWKS_REFRESH');
  const jwksRefreshMs = jwksText === undefined ? undefined : parseDurationMs(jwksText);
  if (jwksText !== undefined && (jwksRefreshMs === undefined || jwksRefreshMs < 100)) {
    process.stderr.write(`${formatError('MESHLET_CORE_BAD_FLAG', `--jwks-refresh ${jwksText} is not a duration of at least 100ms (e.g. 20m)`)}
`);
    return 2;
  }
  // An empty value (the chart renders "" when no Secret is named) means the default.
  const userCaSecret = str(values['ca-secret']) ?? env('MESHLET_CA_SECRET');
  let op;
  try {
    op = await composeOperator({
      log,
      ...(local === undefined ? {} : { local: resolve(local) }),
      ...(str(values.kubeconfig) === undefined ? {} : { kubeconfig: str(values.kubeconfig) as string }),
      address,
      pushPort: port(values['push-port'], '--push-port', 15012),
      monitorPort: port(values['monitor-port'], '--monitor-port', 15014),
      caFile,
      holdMs: port(values.hold, '--hold', 30000) || 30000,
      ...(jwksRefreshMs === undefined ? {} : { jwksRefreshMs }),
      ...(str(values.identity) === undefined ? {} : { identity: str(values.identity) as string }),
      noStatus: values['no-status'] === true,
      ...(trustDomain === undefined ? {} : { trustDomain }),
      ...(str(values['ca-dir']) === undefined ? {} : { caDir: resolve(str(values['ca-dir']) as string) }),
      ...(str(values['token-dir']) === undefined ? {} : { tokenDir: resolve(str(values['token-dir']) as string) }),
      webhook: {
        enabled: webhookOn,
        port: port(values['webhook-port'], '--webhook-port', 15017),
        ...(list(values['webhook-cert-host']) === undefined ? {} : { certHosts: list(values['webhook-cert-host']) as string[] }),
        ...(list(values['webhook-config']) === undefined ? {} : { mutatingConfigurations: list(values['webhook-config']) as string[] }),
        ...(Array.isArray(validating) ? { validatingConfigurations: list(validating) as string[] } : {}),
      },
      ...(prometheusUrl === undefined ? {} : { prometheusUrl }),
      ui: (await import('../graph/ui-extras.ts')).uiExtras(str(values['tracing-url']) ?? env('MESHLET_TRACING_URL')),
      ...(workloadTtlMs === undefined ? {} : { workloadTtlMs }),
      ...(rootTtlMs === undefined ? {} : { rootTtlMs }),
      ...(userCaSecret === undefined ? {} : { userCaSecret }),
      ...(meshConfig === undefined ? {} : { meshConfig }),
      insecureProxyClaims: values['insecure-proxy-claims'] === true,
    });
  } catch (err) {
    const e = err instanceof MeshletError ? err : new MeshletError('MESHLET_COMPOSE_PART_FAILED', (err as Error).message);
    log.fatal({ code: e.code, err: e.message }, e.message);
    process.stderr.write(`${e.message} [${e.code}]\n  hint: ${e.hint}\n`);
    return 1;
  }
  const o = op.operator;
  log.info(
    { pushPort: o.pushPort, monitorPort: o.monitorPort, webhookPort: op.webhook?.port, caFile, ca: op.caLocation, trustDomain: op.trustDomain, mode: op.mode, world: o.core.world.hash },
    `operator ready: push+CA https://${address}:${o.pushPort} (root ${caFile}), metrics+ui :${o.monitorPort}${op.webhook === undefined ? '' : `, webhook https://${address}:${op.webhook.port}`}`,
  );
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
