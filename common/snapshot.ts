/**
 * The ProxySnapshot: everything one sidecar needs, produced by the operator's pure
 * `translate(world, proxy)` and consumed by the proxy. DESIGN.md §3 is the contract.
 * Durations are whole milliseconds (translation converts Istio's "1.5s" strings), so the
 * proxy never parses durations on its hot path.
 */

/** Who the proxy is, from the downward API. */
export interface ProxyIdentity {
  /** Unique proxy id: `<pod>.<namespace>`. */
  id: string;
  /** Pod namespace. */
  namespace: string;
  /** Workload name (owning Deployment etc., else the pod name). */
  workload: string;
  /** Kubernetes service account of the pod. */
  serviceAccount: string;
  /** Pod labels (drive workload selectors and `sourceLabels` matches). */
  labels: Record<string, string>;
  /** Pod IP address (a loopback address in local mode). */
  ip: string;
  /** SPIFFE identity `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`. */
  spiffeId: string;
}

/** One listening socket or one virtual listener under the capture ports. */
export interface Listener {
  /** Unique listener name, e.g. `outbound|9080` or `inbound|8080`. */
  name: string;
  /** `outbound`: the app's calls out (15001); `inbound`: calls to the app (15006). */
  direction: 'outbound' | 'inbound';
  /** Destination address matched against the original destination; `0.0.0.0` matches any. */
  address: string;
  /** Destination port matched against the original destination. */
  port: number;
  /** Declared protocol; `auto` means sniff the first bytes. */
  protocol: Protocol;
  /** Name of the RouteTable for HTTP traffic on this listener. */
  routeTable?: string;
  /** TCP/TLS routes, tried in order, when the traffic is not HTTP. */
  tcpRoutes?: TcpRoute[];
  /** Inbound only: the app port the proxy forwards to (from 127.0.0.6). */
  appPort?: number;
  provenance: Provenance;
}

// The parts of the contract, one file per concern; importers keep using this file.
export type * from './snapshot/base.ts';
export type * from './snapshot/routing.ts';
export type * from './snapshot/upstream.ts';
export type * from './snapshot/security.ts';
import type { Protocol, Provenance } from './snapshot/base.ts';
import type { RouteTable, TcpRoute } from './snapshot/routing.ts';
import type { Cluster, EndpointSet } from './snapshot/upstream.ts';
import type { AuthzPolicy, JwtRule, PeerAuthenticationSettings } from './snapshot/security.ts';

/** Telemetry switches for this proxy. */
export interface Telemetry {
  /** Export Istio-standard metrics on 15090. */
  metrics: boolean;
  /** Write a JSON access log line per request. */
  accessLog: boolean;
  /** Tracing: sampling percent (0–100) and OTLP/HTTP endpoint. */
  tracing: { samplingPercent: number; otlpEndpoint?: string };
}

/** Everything one proxy needs. `version` is the hash of the rest. */
export interface ProxySnapshot {
  /** Content hash; the proxy echoes it in ACK/NACK. */
  version: string;
  /** Whom the snapshot is for. */
  proxy: ProxyIdentity;
  /** Outbound and inbound listeners. */
  listeners: Listener[];
  /** HTTP route tables. */
  routes: RouteTable[];
  /** Upstream clusters. */
  clusters: Cluster[];
  /** Endpoint sets referenced by clusters. */
  endpoints: EndpointSet[];
  /**
   * mTLS and authorization for inbound traffic; `requestAuthentication` (absent when no
   * RequestAuthentication selects the workload) lists the JWT rules verified before authz.
   */
  security: { peerAuthentication: PeerAuthenticationSettings; authorization: AuthzPolicy[]; requestAuthentication?: JwtRule[] };
  /** Metrics, access log and tracing settings. */
  telemetry: Telemetry;
}
