/**
 * The proxy's telemetry: one object per proxy process holding the metric registry, the
 * tracer and the access log, reconfigured from each snapshot. The proxy core calls
 * `apply(snapshot)` when it swaps a snapshot in, before composing routes, and puts
 * `telemetryFeature(t)` first in its feature list.
 */
import type { Socket } from 'node:net';
import type { Cluster, Endpoint, ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import { AccessLog, type AccessLogOptions } from './access-log.ts';
import { ProxyMetrics, type BoundMetrics } from './metrics.ts';
import type { MeshMetricsOptions } from './metrics-registry.ts';
import { Tracing, type TracingOptions } from './tracing.ts';
import { inboundPeerTls, outboundPeerTls } from './peer-tls.ts';

export interface TelemetryOptions {
  metrics?: MeshMetricsOptions;
  tracing?: TracingOptions;
  accessLog?: AccessLogOptions;
}

export interface AppliedTelemetry {
  identity: ProxyIdentity;
  metrics: BoundMetrics;
}

export class ProxyTelemetry {
  readonly metrics: ProxyMetrics;
  readonly tracing: Tracing;
  readonly accessLog: AccessLog;
  #current: AppliedTelemetry | undefined;
  #generation = 0;

  constructor(opts: TelemetryOptions = {}) {
    this.metrics = new ProxyMetrics(opts.metrics);
    this.tracing = new Tracing(opts.tracing);
    this.accessLog = new AccessLog(opts.accessLog);
  }

  /** The settings of the last applied snapshot (read at compose time). */
  get current(): AppliedTelemetry | undefined {
    return this.#current;
  }

  /** Bumped by every `apply()`; routes re-resolve their telemetry when it changes. */
  get generation(): number {
    return this.#generation;
  }

  /** Reconfigures from a snapshot: metric bindings, sampling/endpoint, access log switch. */
  apply(snap: ProxySnapshot): void {
    this.#current = { identity: snap.proxy, metrics: this.metrics.bind(snap) };
    this.tracing.configure(snap.telemetry.tracing, snap.proxy);
    this.accessLog.configure(snap.telemetry.accessLog);
    this.#generation++;
  }

  /**
   * Counts one proxied TCP connection (call when the downstream socket is accepted, with the
   * cluster it goes to). Bytes are read from the socket counters at close: no per-chunk work.
   * `peer` is the raw metadata when the proxy learned it (e.g. over mTLS), else undefined.
   */
  tcpConnection(downstream: Socket, cluster: Cluster, endpoints: readonly Endpoint[], endpoint?: Endpoint, peer?: string): void {
    const cur = this.#current;
    if (cur === undefined || !cur.metrics.enabled) return;
    const b = cur.metrics.forCluster(cluster, endpoints);
    const tls = cluster.name.startsWith('inbound|') ? inboundPeerTls(downstream) : outboundPeerTls(cluster, endpoint);
    const o: Parameters<typeof b.tcp.open>[0] = { peer, mtls: tls.mtls };
    if (tls.principal !== undefined) o.peerPrincipal = tls.principal;
    const conn = b.tcp.open(o);
    downstream.once('close', () => {
      conn.received(downstream.bytesRead);
      conn.sent(downstream.bytesWritten);
      conn.close();
    });
  }

  /** Flushes spans and log lines (graceful exit, tests). */
  async flush(): Promise<void> {
    await Promise.all([this.tracing.flush(), this.accessLog.flush()]);
  }

  async close(): Promise<void> {
    await this.tracing.shutdown();
    await this.accessLog.close();
  }
}
