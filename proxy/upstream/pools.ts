/**
 * One undici Pool per endpoint (and per protocol), kept across snapshot swaps so a new
 * config does not drop warm connections; pools no longer referenced are closed gracefully.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Pool, buildConnector, type Connector, type ConnectorOptions } from '../../common/undici-lite.ts';
import type { Cluster } from '../../common/snapshot.ts';
import type { EndpointState } from '../balancer/index.ts';
import { poolLimitOptions } from '../resilience/circuit-breaker.ts';
import { upstreamTransport } from '../security/auto-mtls.ts';
import { mtlsConnector } from '../security/connector.ts';
import type { MtlsClient } from '../security/tls-contexts.ts';
import { H1Pool } from '../h1/client-pool.ts';

/** An endpoint's pool: meshlet's HTTP/1.1 client, or undici's Pool (HTTP/2, SIMPLE TLS). */
export type UpstreamPool = Pool | H1Pool;

/** What a pool is built for: a cluster, its protocol and the source address to bind. */
export interface PoolTarget {
  cluster: Cluster;
  h2: boolean;
  localAddress?: string | undefined;
}

export interface PoolOptions {
  /** Extra CA bundle (PEM file) trusted for `SIMPLE` TLS upstreams. */
  caFile?: string;
  /** Mesh mTLS client (workload cert); undefined = no mTLS, meshed endpoints get plaintext. */
  mtls?: () => MtlsClient | undefined;
  /** HTTP/1.1 upstreams through undici instead of meshlet's client (the node:http fallback). */
  undiciHttp1?: boolean;
  /** Upper bound of the idle time of upstream connections (default MAX_UPSTREAM_IDLE_MS). */
  maxIdleMs?: number;
}

/**
 * Idle upstream connections are closed after at most 60 s, whatever the DestinationRule says
 * (Istio's default idleTimeout is 1 h). A burst, legitimate or an attack, can open hundreds of
 * connections that would otherwise hold descriptors and memory in the proxy and the app for
 * the hour; reopening one costs a TCP (and mTLS) handshake of a few ms on a node-local or
 * in-cluster path, and common app servers close idle keep-alives sooner anyway (Node 5 s,
 * nginx 75 s).
 */
export const MAX_UPSTREAM_IDLE_MS = 60_000;

export class PoolRegistry {
  private readonly pools = new Map<string, UpstreamPool>();
  private readonly undiciHttp1: boolean;
  private readonly ca: string | undefined;
  private readonly mtls: () => MtlsClient | undefined;
  private readonly maxIdleMs: number;

  constructor(opts: PoolOptions = {}) {
    this.ca = opts.caFile === undefined ? undefined : readFileSync(opts.caFile, 'utf8');
    this.mtls = opts.mtls ?? (() => undefined);
    this.undiciHttp1 = opts.undiciHttp1 === true;
    this.maxIdleMs = opts.maxIdleMs ?? MAX_UPSTREAM_IDLE_MS;
  }

  /** The idle time of a pool's connections: the DestinationRule idleTimeout, at most `maxIdleMs`. */
  private idleMs(idleTimeoutMs: number): number {
    return idleTimeoutMs > 0 ? Math.min(idleTimeoutMs, this.maxIdleMs) : this.maxIdleMs;
  }

  /** The same for undici, as the default and against a server's longer Keep-Alive hint. */
  private idle(idleTimeoutMs: number): { keepAliveTimeout: number; keepAliveMaxTimeout: number } {
    const ms = this.idleMs(idleTimeoutMs);
    return { keepAliveTimeout: ms, keepAliveMaxTimeout: ms };
  }

  /** The pool of an endpoint of a cluster; the key is cached on the endpoint state. */
  get(cl: PoolTarget, ep: EndpointState): UpstreamPool {
    const key = (ep.poolKey ??= PoolRegistry.keyOf(cl, ep));
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = this.create(ep, cl.cluster, cl.h2, cl.localAddress);
      this.pools.set(key, pool);
    }
    return pool;
  }

  static keyOf(cl: PoolTarget, ep: EndpointState): string {
    const c = cl.cluster;
    // Auto mTLS: the expected identity is part of the key (a pool never serves two identities).
    const t = upstreamTransport(c.tls, ep.endpoint);
    const sec = c.tls.mode === 'SIMPLE' ? `tls:${c.tls.sni ?? ''}` : t.kind === 'mtls' ? `mtls:${t.identity ?? '*'}` : 'plain';
    return `${cl.h2 ? 'h2' : 'h1'}|${sec}|${ep.key}|${c.connectionPool.connectTimeoutMs}|${cl.localAddress ?? ''}|${c.connectionPool.maxConnections}|${c.connectionPool.maxRequestsPerConnection}|${c.connectionPool.idleTimeoutMs}`;
  }

  private create(ep: EndpointState, cluster: Cluster, h2: boolean, localAddress: string | undefined): UpstreamPool {
    const tls = cluster.tls.mode === 'SIMPLE';
    const host = ep.endpoint.address.includes(':') ? `[${ep.endpoint.address}]` : ep.endpoint.address;
    const cp = cluster.connectionPool;
    const t = upstreamTransport(cluster.tls, ep.endpoint);
    const client = t.kind === 'mtls' ? this.mtls() : undefined;
    if (!h2 && !tls && !this.undiciHttp1) {
      const mesh = t.kind === 'mtls' && client !== undefined;
      return new H1Pool({
        address: ep.endpoint.address,
        port: ep.endpoint.port,
        localAddress: mesh ? undefined : localAddress,
        connectTimeoutMs: cp.connectTimeoutMs,
        idleTimeoutMs: this.idleMs(cp.idleTimeoutMs),
        maxRequestsPerConnection: cp.maxRequestsPerConnection,
        tcpKeepAliveMs: cp.tcpKeepalive?.timeMs,
        connector: mesh ? mtlsConnector(client, t.identity, { alpn: ['http/1.1'], ...(localAddress === undefined ? {} : { localAddress }) }) : undefined,
      });
    }
    if (t.kind === 'mtls' && client !== undefined) {
      // The TLS is the mesh's, not the app's: the origin stays http://.
      const la = localAddress === undefined ? {} : { localAddress };
      return new Pool(`http://${host}:${ep.endpoint.port}`, {
        headersTimeout: 0,
        bodyTimeout: 0,
        connectTimeout: cp.connectTimeoutMs > 0 ? cp.connectTimeoutMs : 10_000,
        ...(cp.maxRequestsPerConnection > 0 ? { maxRequestsPerClient: cp.maxRequestsPerConnection } : {}),
        allowH2: h2,
        ...poolLimitOptions(cp, h2, true),
        ...this.idle(cp.idleTimeoutMs),
        connect: mtlsConnector(client, t.identity, { alpn: h2 ? ['h2'] : ['http/1.1'], ...la }),
      });
    }
    return new Pool(`${tls ? 'https' : 'http'}://${host}:${ep.endpoint.port}`, {
      // Timeouts of requests belong to the route (timeout/retry features), not the pool.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: cp.connectTimeoutMs > 0 ? cp.connectTimeoutMs : 10_000,
      ...(cp.maxRequestsPerConnection > 0 ? { maxRequestsPerClient: cp.maxRequestsPerConnection } : {}),
      allowH2: h2,
      // Resiliency seam: connectionPool limits undici enforces (connections, h2 streams, keepalive).
      ...poolLimitOptions(cp, h2, tls),
      ...this.idle(cp.idleTimeoutMs),
      ...(localAddress === undefined ? {} : { localAddress }),
      ...(h2 && !tls ? { useH2c: true } : {}),
      ...(tls ? { connect: this.tlsConnector(cluster.tls.sni ?? ep.endpoint.address, h2) } : {}),
    });
  }

  /**
   * undici derives the TLS server name from each request's Host; the cluster's SNI must win
   * (the Host is the mesh service name, the certificate names the upstream).
   */
  private tlsConnector(servername: string, h2: boolean): Connector {
    const inner = buildConnector({ ...(this.ca === undefined ? {} : { ca: this.ca }), allowH2: h2, ALPNProtocols: h2 ? ['h2', 'http/1.1'] : ['http/1.1'] } as ConnectorOptions);
    return (opts, cb) => inner({ ...opts, servername }, cb);
  }

  /**
   * A raw connection to an endpoint for upgrades (WebSocket splicing): mesh mTLS when the
   * cluster's transport says so (the ready event is then `secureConnect`), else plain TCP.
   */
  dial(cluster: Cluster, ep: EndpointState, localAddress: string | undefined): { socket: Socket; ready: 'connect' | 'secureConnect' } {
    const e = ep.endpoint;
    const t = upstreamTransport(cluster.tls, e);
    const client = t.kind === 'mtls' ? this.mtls() : undefined;
    if (t.kind === 'mtls' && client !== undefined) {
      return { socket: client.connect({ host: e.address, port: e.port, identity: t.identity, ...(localAddress === undefined ? {} : { localAddress }) }), ready: 'secureConnect' };
    }
    return { socket: connect({ host: e.address, port: e.port, ...(localAddress === undefined ? {} : { localAddress }) }), ready: 'connect' };
  }

  /** Closes pools whose keys are not in `keep` (in-flight requests finish first). */
  retain(keep: Set<string>): void {
    for (const [key, pool] of this.pools) {
      if (keep.has(key)) continue;
      this.pools.delete(key);
      pool.close().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.close()));
  }
}
