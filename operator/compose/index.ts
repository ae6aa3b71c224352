/**
 * `meshlet operator` as one process (DESIGN.md §1, §2): config push + CA + issuance on 15012
 * (TLS, proxies authenticated by token or workload certificate), /metrics + /ui + /debug on
 * 15014, and the sidecar injector + /validate on 15017 (cluster mode). Each part is its own
 * module here; this file only orders them and stops them.
 */
import type { Logger } from '../../common/log.ts';
import { MeshletError } from '../../common/errors.ts';
import { createOperatorMetrics } from '../metrics.ts';
import { runOperator, type RunningOperator } from '../run.ts';
import { loadKubeConfig } from '../sources/kube-run.ts';
import type { RunningWebhook } from '../../webhook/run.ts';
import { composeCa, localCaPaths, type CaMode } from './ca.ts';
import { loadMeshSettings } from './mesh-config.ts';
import { injectedNamespaces, rootPublisher } from './root-publish.ts';
import type { UiExtras } from '../ui/inspect.ts';
import { registerUi } from './ui.ts';
import { composeWebhook } from './webhook.ts';

export interface ComposeOptions {
  log: Logger;
  local?: string;
  kubeconfig?: string;
  address: string;
  pushPort: number;
  monitorPort: number;
  caFile?: string;
  holdMs?: number;
  /** How often jwksUri keys are fetched again (default 20 min). */
  jwksRefreshMs?: number;
  identity?: string;
  noStatus?: boolean;
  trustDomain?: string;
  /** Local mode: CA material and token files (default `<local>/.meshlet/ca`, `<local>/.meshlet/tokens`). */
  caDir?: string;
  tokenDir?: string;
  /** Workload certificate TTL and maximum (default 24 h). */
  workloadTtlMs?: number;
  /** Lifetime of a root generated on first start (default 10 years). */
  rootTtlMs?: number;
  /** Cluster mode: the bring-your-own CA Secret in meshlet-system (default `cacerts`). */
  userCaSecret?: string;
  /** Cluster mode only; on by default. */
  webhook?: { enabled: boolean; port: number; certHosts?: string[]; mutatingConfigurations?: string[]; validatingConfigurations?: string[] };
  prometheusUrl?: string;
  /** The graph page's side panel: analyze/explain from the CLI layer, tracing UI URL. */
  ui?: UiExtras;
  meshConfig?: string;
  /** Development only: trust the proxy's stated identity on /v1/config (no token needed). */
  insecureProxyClaims?: boolean;
}

export interface ComposedOperator {
  operator: RunningOperator;
  webhook?: RunningWebhook;
  mode: 'kubernetes' | 'local';
  trustDomain: string;
  caLocation: string;
  stop(): Promise<void>;
}

async function part<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MeshletError) throw err;
    throw new MeshletError('MESHLET_COMPOSE_PART_FAILED', `${name}: ${(err as Error).message}`);
  }
}

export async function composeOperator(opts: ComposeOptions): Promise<ComposedOperator> {
  const log = opts.log;
  const mesh = loadMeshSettings(opts.meshConfig);
  const trustDomain = opts.trustDomain ?? mesh.trustDomain ?? 'cluster.local';
  const metrics = createOperatorMetrics({ defaultMetrics: true });
  const kubeConfig = opts.local === undefined ? loadKubeConfig(opts.kubeconfig) : undefined;
  const caMode: CaMode = kubeConfig !== undefined
    ? { kind: 'cluster', kubeConfig }
    : { kind: 'local', caDir: opts.caDir ?? localCaPaths(opts.local as string).caDir, tokenDir: opts.tokenDir ?? localCaPaths(opts.local as string).tokenDir };
  const ca = await part('CA', () => composeCa(caMode, { trustDomain, log: log.child({ part: 'ca' }), registry: metrics.registry, ...(opts.workloadTtlMs === undefined ? {} : { workloadTtlMs: opts.workloadTtlMs }), ...(opts.rootTtlMs === undefined ? {} : { rootTtlMs: opts.rootTtlMs }), ...(opts.userCaSecret === undefined ? {} : { userCaSecret: opts.userCaSecret }) }));
  if (opts.insecureProxyClaims === true) log.warn({ code: 'MESHLET_SECURITY_UNAUTHENTICATED' }, 'INSECURE: --insecure-proxy-claims: /v1/config trusts what proxies say about themselves (development only)');
  const operator = await runOperator({
    log,
    ...(opts.local === undefined ? {} : { local: opts.local }),
    ...(opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig }),
    address: opts.address,
    pushPort: opts.pushPort,
    monitorPort: opts.monitorPort,
    ...(opts.caFile === undefined ? {} : { caFile: opts.caFile }),
    ...(opts.holdMs === undefined ? {} : { holdMs: opts.holdMs }),
    ...(opts.jwksRefreshMs === undefined ? {} : { jwksRefreshMs: opts.jwksRefreshMs }),
    ...(opts.identity === undefined ? {} : { identity: opts.identity }),
    noStatus: opts.noStatus === true,
    metrics,
    meshTelemetry: mesh.telemetry,
    // The same trust domain as the CA's certificates, or every meshed connection fails its SPIFFE check.
    trustDomain,
    tls: ca.tls,
    ...(opts.insecureProxyClaims === true ? {} : { authenticate: ca.authenticate }),
    extendPush: (app) => ca.extendPush(app),
    extendMonitor: (app, core) => registerUi(app, core, opts.prometheusUrl, opts.ui),
  });
  const stops: (() => Promise<void> | void)[] = [() => operator.stop(), () => ca.service.stop()];
  if (kubeConfig !== undefined) {
    operator.core.onWorld(rootPublisher(() => ca.service.publishRoot(), log.child({ part: 'ca' }), injectedNamespaces(operator.core.world)));
  }
  let webhook: RunningWebhook | undefined;
  if (kubeConfig !== undefined && opts.webhook?.enabled !== false) {
    const w = opts.webhook;
    try {
      webhook = await part('webhook', () => composeWebhook({
        kubeConfig,
        log: log.child({ part: 'webhook' }),
        registry: metrics.registry,
        host: opts.address,
        port: w?.port ?? 15017,
        ...(w?.certHosts === undefined ? {} : { certHosts: w.certHosts }),
        ...((w?.mutatingConfigurations ?? mesh.mutatingConfigurations) === undefined ? {} : { mutatingConfigurations: w?.mutatingConfigurations ?? mesh.mutatingConfigurations }),
        ...((w?.validatingConfigurations ?? mesh.validatingConfigurations) === undefined ? {} : { validatingConfigurations: w?.validatingConfigurations ?? mesh.validatingConfigurations }),
      }));
    } catch (err) {
      for (const s of stops.reverse()) await s();
      throw err;
    }
    stops.unshift(() => webhook?.close());
  }
  return {
    operator,
    ...(webhook === undefined ? {} : { webhook }),
    mode: opts.local === undefined ? 'kubernetes' : 'local',
    trustDomain,
    caLocation: caMode.kind === 'local' ? caMode.caDir : 'Secret meshlet-system/meshlet-ca',
    async stop() {
      for (const s of stops) await s();
    },
  };
}
