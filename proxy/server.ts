/** Starts a whole sidecar: capture listeners, HTTP servers, admin/readiness/stats, config store. */
import type { Server } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Logger } from '../common/log.ts';
import type { Locality } from '../common/snapshot.ts';
import { createAdminServer, createPathServer } from './admin/admin.ts';
import { ConfigStore } from './config/store.ts';
import type { ProxyState } from './http/handle-request.ts';
import { createCaptureServer } from './listeners/capture.ts';
import { createH2cServer, createHttp1Server } from './listeners/http-servers.ts';
import { initOriginalDst } from './listeners/original-dst.ts';
import { PoolRegistry } from './upstream/pools.ts';
import { MeshletError } from '../common/errors.ts';
import type { Feature } from './chain/types.ts';

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
}

export interface RunningProxy {
  store: ConfigStore;
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

export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  await initOriginalDst();
  const pools = new PoolRegistry(o.upstreamCaFile === undefined ? {} : { caFile: o.upstreamCaFile });
  const state: ProxyState = { current: undefined, random: o.random, onError: (err) => o.log.debug({ err }, 'request handler error') };
  const store = new ConfigStore(state, { pools, random: o.random, appHost: o.appHost, inboundSource: o.inboundSource, ...(o.locality === undefined ? {} : { locality: o.locality }), ...(o.features === undefined ? {} : { features: o.features }) });
  const httpOpts = { state, headersTimeoutMs: o.headersTimeoutMs, keepAliveTimeoutMs: o.keepAliveTimeoutMs };
  const http1 = createHttp1Server(httpOpts);
  const h2c = createH2cServer(httpOpts);
  const sessions = new Set<ServerHttp2Session>();
  h2c.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const capture = (direction: 'outbound' | 'inbound') =>
    createCaptureServer({ direction, state, http1, h2c, sniffTimeoutMs: o.sniffTimeoutMs, firstByteTimeoutMs: o.firstByteTimeoutMs, appHost: o.appHost, inboundSource: o.inboundSource });
  const outbound = capture('outbound');
  const inbound = capture('inbound');
  let listenersUp = false;
  let closing: Promise<void> | undefined;
  const ready = (): boolean => listenersUp && state.current !== undefined && closing === undefined;
  const running: RunningProxy = { store, state, ports: { ...o.ports }, ready, close: (ms) => close(ms) };
  const deps = {
    store,
    isReady: ready,
    quit: () => {
      void close(5_000).then(() => o.onQuit?.());
    },
    metrics: async () => '',
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
        http1.closeIdleConnections();
        if ((await open()) === 0 || Date.now() >= until) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      http1.closeAllConnections();
      for (const session of sessions) session.destroy();
      await pools.closeAll();
    })();
    return closing;
  }
  return running;
}
