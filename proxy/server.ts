/** Starts a whole sidecar: capture listeners, HTTP servers, admin/readiness/stats, config store. */
import type { Server } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Logger } from '../common/log.ts';
import type { Locality } from '../common/snapshot.ts';
import { createAdminServer, createPathServer } from './admin/admin.ts';
import { ConfigStore } from './config/store.ts';
import type { ProxyState } from './http/handle-request.ts';
import { createCaptureServer, markMtls, type CaptureServer } from './listeners/capture.ts';
import { createH2cServer, createHttp1Acceptor } from './listeners/http-servers.ts';
import type { H2GuardHooks } from './listeners/h2-guard.ts';
import { registerH2GuardMetrics } from './listeners/h2-guard-metrics.ts';
import { initOriginalDst } from './listeners/original-dst.ts';
import { PoolRegistry } from './upstream/pools.ts';
import { MeshletError } from '../common/errors.ts';
import type { Feature } from './chain/types.ts';
import { DEFAULT_TRUST_DOMAIN } from '../common/spiffe.ts';
import { inboundSecurityFeature } from './features/index.ts';
import { InboundAuthz } from './security/inbound-authz.ts';
import { compileJwt } from './security/jwt.ts';
import { ProxySecurity } from './security/runtime.ts';
import { REFUSAL_CODES } from './security/inbound-mtls.ts';
import type { WorkloadCertManager } from './security/workload-cert.ts';
import { registerAuthzMetrics } from './security/authz-metrics.ts';
import type { AuthzDecision } from './security/authz.ts';
import { registerProxyCertExpiryGauge } from './security/secrets.ts';
import { appMetricsFromEnv, proxyTelemetry, statsHandler } from './telemetry/index.ts';
import { localReplyRecorder } from './local-reply-metrics.ts';

export interface ProxyPorts {
  outbound: number;
  inbound: number;
  admin: number;
  ready: number;
  stats: number;
}

export interface ProxyOptions {
  /** Address of the capture, readiness and stats listeners (0.0.0.0 in a pod, a 127.x address in local mode). */
  bind: string;
  /** Address of the admin listener (127.0.0.1 in a pod). */
  adminAddress: string;
  ports: ProxyPorts;
  /** Where the app listens for inbound forwards. */
  appHost: string;
  /** Source address of inbound forwards to a loopback app; undefined disables the bind. */
  inboundSource: string | undefined;
  locality?: Locality;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  sniffTimeoutMs: number;
  firstByteTimeoutMs: number;
  random: () => number;
  upstreamCaFile?: string;
  log: Logger;
  /** Chain features (default: the built-ins of proxy/features/index.ts); tests and benches may pass their own. */
  features?: Feature[];
  /** Called by POST /quitquitquit after the drain. */
  onQuit?: () => void;
  /** Workload certificate source: turns on inbound mTLS (PeerAuthentication), auto mTLS upstream and XFCC (authz runs without it too). */
  certs?: WorkloadCertManager;
  trustDomain?: string;
}

export interface RunningProxy {
  store: ConfigStore;
  security: ProxySecurity | undefined;
  state: ProxyState;
  ports: ProxyPorts;
  ready(): boolean;
  close(drainMs?: number): Promise<void>;
}

function listen(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new MeshletError('MESHLET_PROXY_BIND', `${host}:${port}: ${err.message}`)));
    server.listen({ port, host, backlog: 4096 }, () => resolve((server.address() as AddressInfo).port));
  });
}

// prom-client refuses a second registration of a name: one set of collectors per registry.
const registered = new WeakSet<object>();
let authzMetrics: ((d: AuthzDecision) => void) | undefined;
let h2Guard: ((log: Logger) => H2GuardHooks) | undefined;
/** The cert manager of the latest proxy started in this process (the expiry gauge reads it). */
let certSource: WorkloadCertManager | undefined;

export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  await initOriginalDst();
  // The mTLS front hands connections back to the inbound capture's dispatch (built below).
  const inboundRef: { capture?: CaptureServer } = {};
  let security: ProxySecurity | undefined;
  // Policies are enforced with or without a certificate (plaintext callers have no principal).
  const authz = new InboundAuthz(o.log);
  if (o.certs !== undefined) {
    security = new ProxySecurity({
      certs: o.certs,
      authz,
      trustDomain: o.trustDomain ?? DEFAULT_TRUST_DOMAIN,
      handshakeTimeoutMs: o.headersTimeoutMs,
      log: o.log,
      onMtls: (tls) => {
        markMtls(tls);
        inboundRef.capture!.dispatch(tls);
      },
      onPlaintext: (socket) => inboundRef.capture!.dispatch(socket),
      onRefused: (reason, port) => o.log.debug({ code: REFUSAL_CODES[reason], port }, `inbound connection refused: ${reason}`),
    });
    await security.start();
    certSource = o.certs;
  }
  const reg = proxyTelemetry.metrics.mesh.registry;
  if (!registered.has(reg)) {
    registered.add(reg);
    authzMetrics = registerAuthzMetrics(reg);
    h2Guard = registerH2GuardMetrics(reg);
    registerProxyCertExpiryGauge(reg, () => certSource?.current());
  }
  const sec = security;
  const onDecision = (d: AuthzDecision): void => authzMetrics?.(d);
  // MESHLET_PROXY_HTTP1=node: node:http downstream and undici upstream (the codec's fallback, and its A/B baseline).
  const nodeHttp1 = process.env.MESHLET_PROXY_HTTP1 === 'node';
  const pools = new PoolRegistry({ ...(o.upstreamCaFile === undefined ? {} : { caFile: o.upstreamCaFile }), mtls: () => sec?.client, undiciHttp1: nodeHttp1 });
  const state: ProxyState = { current: undefined, random: o.random, onError: (err) => o.log.debug({ err }, 'request handler error'), onLocalReply: localReplyRecorder(proxyTelemetry) };
  const store = new ConfigStore(state, {
    pools, random: o.random, appHost: o.appHost, inboundSource: o.inboundSource,
    ...(o.locality === undefined ? {} : { locality: o.locality }),
    ...(o.features === undefined ? {} : { features: o.features }),
    security: (s) => inboundSecurityFeature(sec?.applySnapshot(s) ?? authz.apply(s), { localIdentity: s.proxy.spiffeId, onDecision, mtls: sec !== undefined, jwt: compileJwt(s.security.requestAuthentication) }),
  });
  store.onApplied(() => proxyTelemetry.apply(state.current!.snapshot));
  const httpOpts = { state, headersTimeoutMs: o.headersTimeoutMs, keepAliveTimeoutMs: o.keepAliveTimeoutMs };
  const http1 = createHttp1Acceptor(httpOpts, nodeHttp1 ? 'node' : 'meshlet');
  const h2c = createH2cServer(httpOpts, h2Guard?.(o.log) ?? {});
  const sessions = new Set<ServerHttp2Session>();
  h2c.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const capture = (direction: 'outbound' | 'inbound') =>
    createCaptureServer({ direction, state, http1, h2c, sniffTimeoutMs: o.sniffTimeoutMs, firstByteTimeoutMs: o.firstByteTimeoutMs, appHost: o.appHost, inboundSource: o.inboundSource, security: sec, authz, onAuthzDecision: onDecision });
  const outbound = capture('outbound').server;
  inboundRef.capture = capture('inbound');
  const inbound = inboundRef.capture.server;
  let listenersUp = false;
  let closing: Promise<void> | undefined;
  const ready = (): boolean => listenersUp && state.current !== undefined && closing === undefined;
  const running: RunningProxy = { store, security: sec, state, ports: { ...o.ports }, ready, close: (ms) => close(ms) };
  const appMetrics = appMetricsFromEnv();
  const deps = {
    store,
    isReady: ready,
    quit: () => {
      void close(5_000).then(() => o.onQuit?.());
    },
    metrics: statsHandler(proxyTelemetry.metrics, { ...(appMetrics === undefined ? {} : { appMetrics }), appHost: o.appHost }),
    secrets: () => sec?.secrets() ?? [],
  };
  const admin = createAdminServer(deps);
  const readiness = createPathServer(deps, ['/healthz/ready']);
  const stats = createPathServer(deps, ['/stats/prometheus']);
  const servers: [NetServer | Server, keyof ProxyPorts, string][] = [
    [outbound, 'outbound', o.bind],
    [inbound, 'inbound', o.bind],
    [admin, 'admin', o.adminAddress],
    [readiness, 'ready', o.bind],
    [stats, 'stats', o.bind],
  ];
  for (const [server, name, host] of servers) running.ports[name] = await listen(server, o.ports[name], host);
  listenersUp = true;

  async function close(drainMs = 5_000): Promise<void> {
    closing ??= (async () => {
      // Stop accepting, let in-flight requests finish (bounded), then drop the rest.
      for (const [server] of servers) server.close();
      const open = (): Promise<number> => Promise.all([outbound, inbound].map((s) => new Promise<number>((r) => s.getConnections((_e, n) => r(n ?? 0))))).then((a) => a[0]! + a[1]!);
      const until = Date.now() + drainMs;
      // GOAWAY: HTTP/2 clients finish their streams and open no new ones.
      for (const session of sessions) session.close();
      for (;;) {
        http1.closeIdle();
        if ((await open()) === 0 || Date.now() >= until) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      http1.closeAll();
      for (const session of sessions) session.destroy();
      sec?.stop();
      await proxyTelemetry.flush();
      await pools.closeAll();
    })();
    return closing;
  }
  return running;
}
