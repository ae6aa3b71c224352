/**
 * A minimal real inbound sidecar built only from the security modules (until the proxy core
 * wires them): a TCP listener → InboundMtls (ClientHello sniffing, STRICT/PERMISSIVE) →
 * node:http → authz feature → forward to the app from 127.0.0.6 with XFCC set. Plus an app
 * that echoes what it received, and an undici Agent that dials with MtlsClient.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent } from 'undici';
import type { AuthzPolicy, MtlsMode } from '../../common/snapshot.ts';
import { plainAttrs } from '../../proxy/routing/attrs.ts';
import type { RequestContext, RouteRuntime } from '../../proxy/chain/types.ts';
import { compileAuthz, type CompiledAuthz } from '../../proxy/security/authz.ts';
import { authzFeature } from '../../proxy/security/authz-feature.ts';
import { InboundMtls } from '../../proxy/security/inbound-mtls.ts';
import { peerInfo } from '../../proxy/security/peer.ts';
import type { MtlsClient } from '../../proxy/security/tls-contexts.ts';
import { mtlsConnector } from '../../proxy/security/connector.ts';
import { applyXfcc } from '../../proxy/security/xfcc.ts';
import type { WorkloadCert } from '../../proxy/security/workload-cert.ts';

export interface App {
  port: number;
  received: { method: string; url: string; xfcc: string | undefined; from: string }[];
  close(): Promise<void>;
}

export async function startApp(host = '127.0.0.1'): Promise<App> {
  const received: App['received'] = [];
  const server = createHttpServer((req, res) => {
    const xfcc = req.headers['x-forwarded-client-cert'];
    received.push({ method: req.method ?? '', url: req.url ?? '', xfcc: Array.isArray(xfcc) ? xfcc.join(',') : xfcc, from: req.socket.remoteAddress ?? '' });
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ xfcc: xfcc ?? null })));
  });
  server.listen(0, host);
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, received, close: () => closeServer(server) };
}

async function closeServer(server: { close(cb: () => void): void; closeAllConnections?: () => void }): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((r) => server.close(() => r()));
}

export interface Sidecar {
  port: number;
  inbound: InboundMtls;
  refused: string[];
  /** Connections accepted (TCP), to tell reuse from reconnects. */
  connections: number;
  close(): Promise<void>;
}

/** node:http server that runs the authz feature then forwards to the app from 127.0.0.6 with XFCC. */
export function inboundHttp(localIdentity: string, appPort: number, getAuthz: () => CompiledAuthz): Server {
  const forward = (ctx: RequestContext): void => {
    const req = ctx.req as IncomingMessage;
    const res = ctx.res as unknown as ServerResponse;
    const headers = applyXfcc({ ...req.headers } as Record<string, string | string[]>, peerInfo(req.socket, localIdentity).xfcc);
    const up = httpRequest({ host: '127.0.0.1', port: appPort, localAddress: '127.0.0.6', method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  // Composed once per compiled policy set, as the proxy does per snapshot.
  let composed: { authz: CompiledAuthz; handler: (ctx: RequestContext) => void } | undefined;
  const http: Server = createHttpServer((req, res) => {
    const authz = getAuthz();
    if (composed?.authz !== authz) composed = { authz, handler: authzFeature(authz, { localIdentity })(forward, {} as RouteRuntime) };
    const attrs = plainAttrs({ method: req.method ?? 'GET', url: req.url ?? '/', authority: req.headers.host ?? '', port: appPort, headers: req.headers as Record<string, string> });
    const ctx = { req, res, attrs, direction: 'inbound', remoteAddress: req.socket.remoteAddress ?? '', flags: '', headers: {} } as unknown as RequestContext;
    composed.handler(ctx);
  });
  // No idle timeout: tests check that a kept-alive connection outlives rotations.
  http.keepAliveTimeout = 0;
  return http;
}

export async function startSidecar(opts: { cert: WorkloadCert; mode: MtlsMode | ((port: number) => MtlsMode); appPort: number; policies?: AuthzPolicy[]; host?: string }): Promise<Sidecar> {
  const authz = compileAuthz(opts.policies ?? []);
  const http = inboundHttp(opts.cert.identity, opts.appPort, () => authz);
  const modeFor = typeof opts.mode === 'function' ? opts.mode : (() => opts.mode) as (p: number) => MtlsMode;
  const refused: string[] = [];
  const inbound = new InboundMtls({
    cert: opts.cert, modeFor,
    onMtls: (s: TLSSocket) => http.emit('connection', s),
    onPlaintext: (s: Socket) => http.emit('connection', s),
    onRefused: (reason) => refused.push(reason),
  });
  const sidecar: Sidecar = { port: 0, inbound, refused, connections: 0, close: async () => undefined };
  const listener = await listenWith((s) => {
    sidecar.connections += 1;
    inbound.handle(s, opts.appPort);
  }, opts.host);
  sidecar.port = listener.port;
  sidecar.close = async () => {
    http.closeAllConnections();
    await listener.close();
  };
  return sidecar;
}

/** A TCP listener on 127.0.0.1 handing each connection to `onConn`; close() destroys live sockets. */
export async function listenWith(onConn: (s: Socket) => void, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const tcp = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    onConn(s);
  });
  tcp.listen(0, host);
  await once(tcp, 'listening');
  return {
    port: (tcp.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

/** An undici Agent whose connections are mesh mTLS to `identity` through `client`. */
export function mtlsAgent(client: MtlsClient, identity: string | undefined, agentOpts: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  return new Agent({ ...agentOpts, connect: mtlsConnector(client, identity) });
}
