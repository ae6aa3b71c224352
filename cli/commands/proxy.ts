/** `meshlet proxy`: runs the sidecar proxy. */
import { readFileSync } from 'node:fs';
import { parseFlags } from '../args.ts';
import { createLogger } from '../../common/log.ts';
import { MeshletError } from '../../common/errors.ts';
import type { Locality } from '../../common/snapshot.ts';
import { ConfigClient } from '../../proxy/config/client.ts';
import { resolveIdentity } from '../../proxy/identity.ts';
import { seededRandom } from '../../common/clock.ts';
import { startProxy } from '../../proxy/server.ts';
import { certManager, tokenAvailable, type CertSource } from '../../proxy/server-security.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../common/spiffe.ts';

const HELP = `Usage: meshlet proxy (--config-file FILE | --operator URL) [flags]

Runs the meshlet sidecar proxy: outbound capture (15001), inbound capture (15006),
admin on 127.0.0.1:15000 (/config_dump, /ready, POST /quitquitquit), readiness
:15021/healthz/ready, stats :15090/stats/prometheus.

Config:
  --config-file FILE        serve one snapshot from a file (tests, local use)
  --operator URL            long-poll the operator (https://meshlet.meshlet-system.svc:15012)
  --ca-file FILE            CA bundle that signed the operator's certificate
  --token-file FILE         service-account token sent as a bearer token
                            (default /var/run/secrets/tokens/meshlet-token when present)
  --insecure                do not verify the operator's certificate (tests only)
  --backoff-base-ms N       first retry delay cap after a failed fetch (default 500; full jitter)
  --backoff-max-ms N        largest retry delay cap (default 30000)

Mesh mTLS (workload certificate; without one the proxy speaks plaintext only):
  with --operator           the cert is requested from the operator (POST /v1/certificates)
                            with --token-file when that file exists; --ca-file verifies it
  --cert-file FILE --key-file FILE --root-file FILE
                            a fixed workload cert chain, its key and the mesh root (no rotation)
  --ca-url URL              (--config-file mode) request the cert from this operator URL
                            with --token-file (and --ca-file to verify it)
  --operator-identity ID    SPIFFE ID the operator's serving cert must carry
  --trust-domain TD         mesh trust domain (default cluster.local)
  --no-mtls                 never set up mTLS even when a token file exists

Identity (default: downward API env POD_NAME, POD_NAMESPACE, SERVICE_ACCOUNT, POD_IP,
POD_LABELS "k=v,..." or the labels file /etc/podinfo/labels):
  --pod NAME  --namespace NS  --service-account SA  --pod-ip IP  --labels k=v,...
  --labels-file FILE        downward-API labels file
  --locality R/Z/S          region/zone/subzone of this proxy (locality-aware balancing)

Listeners:
  --bind ADDR               address of capture/readiness/stats listeners (default 0.0.0.0;
                            local mode gives each proxy its own 127.x address)
  --admin-address ADDR      admin listener address (default 127.0.0.1)
  --outbound-port N (15001) --inbound-port N (15006) --admin-port N (15000)
  --ready-port N (15021)    --stats-port N (15090)         (0 picks a free port)
  --app-host ADDR           where the app listens for inbound traffic (default 127.0.0.1)
  --inbound-source ADDR     source address for inbound forwards (default 127.0.0.6; "" = any)
  --headers-timeout-ms N    time for a client to send request headers (default 10000)
  --keepalive-timeout-ms N  idle downstream keep-alive (default 300000)
  --sniff-timeout-ms N      wait for first bytes on undeclared ports (default 100)
  --upstream-ca FILE        extra CA for SIMPLE TLS upstreams
  --seed N                  seed the random source (weighted splits, balancers)
  --log-level LEVEL         fatal|error|warn|info|debug|trace|silent
  -h, --help

Examples:
  meshlet proxy --config-file snapshot.json --bind 127.0.0.5 --admin-address 127.0.0.5
  POD_NAME=web-1 POD_NAMESPACE=default meshlet proxy --operator https://127.0.0.1:15012 --ca-file ca.pem
`;

const num = (v: unknown, def: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new MeshletError('MESHLET_CORE_BAD_FLAG', `expected a non-negative integer, got "${String(v)}"`);
  return n;
};

function locality(v: string | undefined): Locality | undefined {
  if (v === undefined || v === '') return undefined;
  const [region = '', zone = '', subzone = ''] = v.split('/');
  return { region, zone, subzone };
}

export async function run(argv: string[]): Promise<number> {
  const s = { type: 'string' } as const;
  const { values: v } = parseFlags(argv, {
    'config-file': s, operator: s, 'ca-file': s, 'token-file': s, insecure: { type: 'boolean' },
    pod: s, namespace: s, 'service-account': s, 'pod-ip': s, labels: s, 'labels-file': s, locality: s,
    bind: s, 'admin-address': s, 'outbound-port': s, 'inbound-port': s, 'admin-port': s, 'ready-port': s, 'stats-port': s,
    'app-host': s, 'inbound-source': s, 'headers-timeout-ms': s, 'keepalive-timeout-ms': s, 'sniff-timeout-ms': s,
    'upstream-ca': s, seed: s, 'log-level': s, 'backoff-base-ms': s, 'backoff-max-ms': s,
    'cert-file': s, 'key-file': s, 'root-file': s, 'ca-url': s, 'operator-identity': s, 'trust-domain': s, 'no-mtls': { type: 'boolean' },
  });
  if (v.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const str = (k: string): string | undefined => v[k] as string | undefined;
  const configFile = str('config-file');
  const operator = str('operator');
  if ((configFile === undefined) === (operator === undefined)) {
    process.stderr.write("meshlet proxy: pass exactly one of --config-file or --operator\nRun 'meshlet proxy --help' for usage.\n");
    return 2;
  }
  // Read the file before binding anything, so a bad path fails fast and leaves no listener behind.
  const configText = configFile === undefined ? undefined : readFileSync(configFile, 'utf8');
  const log = createLogger({ component: 'proxy', ...(str('log-level') === undefined ? {} : { level: str('log-level')! }) });
  const id = resolveIdentity({ pod: str('pod'), namespace: str('namespace'), serviceAccount: str('service-account'), podIp: str('pod-ip'), labels: str('labels'), labelsFile: str('labels-file') }, process.env);
  if (operator !== undefined && id.id === '') throw new MeshletError('MESHLET_PROXY_IDENTITY');
  const seed = str('seed');
  const random = seed === undefined ? Math.random : seededRandom(num(seed, 0));
  const headersTimeoutMs = num(v['headers-timeout-ms'], 10_000);
  const inboundSource = str('inbound-source') ?? '127.0.0.6';
  const loc = locality(str('locality') ?? process.env.MESHLET_LOCALITY);
  const trustDomain = str('trust-domain') ?? DEFAULT_TRUST_DOMAIN;
  const tokenFile = str('token-file') ?? '/var/run/secrets/tokens/meshlet-token';
  let certs: CertSource | undefined;
  const files = [str('cert-file'), str('key-file'), str('root-file')];
  if (files.some((f) => f !== undefined)) {
    if (files.some((f) => f === undefined)) throw new MeshletError('MESHLET_CORE_BAD_FLAG', '--cert-file, --key-file and --root-file go together');
    certs = { kind: 'files', certFile: files[0]!, keyFile: files[1]!, rootFile: files[2]! };
  } else if (v['no-mtls'] !== true && (str('ca-url') ?? operator) !== undefined && tokenAvailable(tokenFile)) {
    const caFile = str('ca-file');
    const opId = str('operator-identity');
    certs = { kind: 'operator', url: (str('ca-url') ?? operator)!, tokenFile, trustDomain, ...(caFile === undefined ? {} : { caFile }), ...(opId === undefined ? {} : { operatorIdentity: opId }) };
  }
  let quit: () => void = () => undefined;
  const quitted = new Promise<void>((r) => (quit = r));
  const proxy = await startProxy({
    bind: str('bind') ?? '0.0.0.0',
    adminAddress: str('admin-address') ?? '127.0.0.1',
    ports: { outbound: num(v['outbound-port'], 15001), inbound: num(v['inbound-port'], 15006), admin: num(v['admin-port'], 15000), ready: num(v['ready-port'], 15021), stats: num(v['stats-port'], 15090) },
    appHost: str('app-host') ?? '127.0.0.1',
    inboundSource: inboundSource === '' ? undefined : inboundSource,
    ...(loc === undefined ? {} : { locality: loc }),
    headersTimeoutMs,
    keepAliveTimeoutMs: num(v['keepalive-timeout-ms'], 300_000),
    sniffTimeoutMs: num(v['sniff-timeout-ms'], 100),
    firstByteTimeoutMs: headersTimeoutMs,
    random,
    ...(str('upstream-ca') === undefined ? {} : { upstreamCaFile: str('upstream-ca')! }),
    log,
    onQuit: () => quit(),
    ...(certs === undefined ? {} : { certs: certManager(certs, log), trustDomain }),
  });
  let client: ConfigClient | undefined;
  let closeTransport: (() => Promise<void>) | undefined;
  if (configFile !== undefined) {
    proxy.store.source = `file:${configFile}`;
    const r = proxy.store.apply(configText!);
    if (!r.ok) {
      log.error({ code: r.code, version: r.version }, r.error);
      await proxy.close(0);
      throw new MeshletError(r.code, r.error);
    }
  } else {
    // The operator transport (an HTTPS client) loads only in operator mode.
    const { createTransport } = await import('../../proxy/config/transport.ts');
    const t = createTransport({ ...(str('ca-file') === undefined ? {} : { caFile: str('ca-file')! }), insecure: v.insecure === true, tokenFile });
    closeTransport = t.close;
    proxy.store.source = operator!;
    client = new ConfigClient({
      operator: operator!, proxyId: id.id, store: proxy.store, fetch: t.fetch,
      setTimeout: (cb, ms) => setTimeout(cb, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout), random: Math.random,
      backoff: { baseMs: num(v['backoff-base-ms'], 500), maxMs: num(v['backoff-max-ms'], 30_000) },
      onEvent: (e) => {
        // Any answer means the operator (and its CA) is back: a renewal in backoff goes now.
        if (e.type !== 'error') proxy.security?.certs.operatorAnswered();
        if (e.type === 'applied') log.info({ version: e.version }, 'config applied');
        else if (e.type === 'nack') log.warn({ code: e.code, version: e.version }, `config rejected: ${e.error}`);
        else if (e.type === 'error') log.warn({ code: 'MESHLET_PROXY_CONFIG_FETCH', attempt: e.attempt, delayMs: e.delayMs }, `config fetch failed: ${e.error}`);
      },
    });
    void client.run();
  }
  log.info({ id: id.id, mtls: proxy.security === undefined ? 'off' : certs?.kind, ports: proxy.ports, bind: str('bind') ?? '0.0.0.0', version: proxy.store.version }, 'proxy listening');
  const onSignal = (): void => {
    void proxy.close(5_000).then(() => quit());
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await quitted;
  client?.stop();
  await closeTransport?.();
  log.info('proxy stopped');
  return 0;
}
