/**
 * Starts a whole operator: core + one source (local directory or Kubernetes) + push server
 * (15012, HTTPS) + monitoring server (15014). `meshlet operator` and `meshlet local` call this.
 */
import { writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../common/log.ts';
import { OperatorCore } from './core.ts';
import { buildPushApp, type ProxyAuthenticator } from './push/server.ts';
import { issuePushServingCert } from './push/serving-cert.ts';
import { buildDebugApp } from './debug/server.ts';
import { LocalDirSource } from './sources/local-dir.ts';
import type { Clock } from '../common/clock.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { MeshTelemetryConfig } from './translate/telemetry-settings.ts';

export interface RunOptions {
  log: Logger;
  /** Directory for local mode; else Kubernetes. */
  local?: string;
  /** Kubeconfig path (default: KUBECONFIG / in-cluster). */
  kubeconfig?: string;
  address?: string;
  pushPort?: number;
  monitorPort?: number;
  /** Where to write the push server's CA certificate (PEM), so clients can trust it. */
  caFile?: string;
  /** Serving cert/key to use instead of a generated one. */
  tls?: { key: string; cert: string; ca?: string; requestCert?: boolean };
  /** The operator's metrics (so other parts can register on the same registry before start). */
  metrics?: OperatorMetrics;
  /** Mesh-wide telemetry settings carried into every World. */
  meshTelemetry?: MeshTelemetryConfig;
  /** `meshlet local`: meshed endpoints are their sidecar's inbound port (see World.localMode). */
  localMode?: { inboundPort: number };
  /** SPIFFE trust domain (the CA's): translation expects peers and writes policies in it. */
  trustDomain?: string;
  authenticate?: ProxyAuthenticator;
  holdMs?: number;
  /** How often the RequestAuthentications' jwksUri keys are fetched again (default 20 min). */
  jwksRefreshMs?: number;
  timers?: Clock;
  /** Identity for leader election (defaults to hostname + pid). */
  identity?: string;
  /** Lease timings (ms) for status-writer election. */
  lease?: { durationMs?: number; renewMs?: number; retryMs?: number };
  /** Do not write status (read-only replica). */
  noStatus?: boolean;
  /** Registers more routes on the 15012 app before it listens (e.g. the CA's POST /v1/certificates). */
  extendPush?: (app: FastifyInstance, core: OperatorCore) => Promise<void> | void;
  /** Registers more routes on the 15014 app before it listens (e.g. /ui). */
  extendMonitor?: (app: FastifyInstance, core: OperatorCore) => Promise<void> | void;
}

export interface RunningOperator {
  core: OperatorCore;
  pushApp: FastifyInstance;
  debugApp: FastifyInstance;
  pushPort: number;
  monitorPort: number;
  caPem: string;
  caFile?: string;
  stop(): Promise<void>;
}

function portOf(app: FastifyInstance): number {
  const a = app.server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

export async function runOperator(opts: RunOptions): Promise<RunningOperator> {
  const core = new OperatorCore({ log: opts.log, ...(opts.timers === undefined ? {} : { timers: opts.timers }), ...(opts.holdMs === undefined ? {} : { holdMs: opts.holdMs }), ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }), ...(opts.meshTelemetry === undefined ? {} : { meshTelemetry: opts.meshTelemetry }), ...(opts.localMode === undefined ? {} : { localMode: opts.localMode }), ...(opts.trustDomain === undefined ? {} : { trustDomain: opts.trustDomain }), ...(opts.jwksRefreshMs === undefined ? {} : { jwks: { refreshMs: opts.jwksRefreshMs } }) });
  const stops: (() => Promise<void> | void)[] = [];
  if (opts.local !== undefined) {
    const src = new LocalDirSource(opts.local, core.store, opts.log);
    src.start();
    stops.push(() => src.stop());
    // The directory was read whole (synchronously) above: the first World is complete.
    core.flush();
  } else {
    // No flush here: the core is gated until every watched kind was listed once.
    const { startKubeSources } = await import('./sources/kube-run.ts');
    stops.push(await startKubeSources(core, opts));
  }
  let serving: { key: string; cert: string; ca?: string; requestCert?: boolean };
  if (opts.tls !== undefined) serving = opts.tls;
  else {
    const c = await issuePushServingCert();
    serving = { key: c.keyPem, cert: c.certPem, ca: c.caPem };
  }
  const caPem = serving.ca ?? serving.cert;
  if (opts.caFile !== undefined) writeFileSync(opts.caFile, caPem);
  const pushApp = buildPushApp(core, { tls: serving, ...(opts.authenticate === undefined ? {} : { authenticate: opts.authenticate }) });
  const debugApp = buildDebugApp(core);
  await opts.extendPush?.(pushApp, core);
  await opts.extendMonitor?.(debugApp, core);
  const host = opts.address ?? '0.0.0.0';
  await pushApp.listen({ host, port: opts.pushPort ?? 15012 });
  await debugApp.listen({ host, port: opts.monitorPort ?? 15014 });
  const running: RunningOperator = {
    core,
    pushApp,
    debugApp,
    pushPort: portOf(pushApp),
    monitorPort: portOf(debugApp),
    caPem,
    async stop() {
      core.close();
      for (const s of stops.reverse()) await s();
      await pushApp.close();
      await debugApp.close();
    },
  };
  if (opts.caFile !== undefined) running.caFile = opts.caFile;
  return running;
}
