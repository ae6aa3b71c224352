/**
 * The World: one immutable, hashed, normalized view of everything translation reads.
 * Built from raw objects by build.ts; identical inputs (in any order) give the same hash.
 */
import type { Protocol } from '../../common/snapshot.ts';
import type { MeshTelemetryConfig } from '../translate/telemetry-settings.ts';
import type { AuthorizationPolicySpec, DestinationRuleSpec, PeerAuthenticationSpec, RequestAuthenticationSpec, VirtualServiceSpec } from '../translate/istio-types.ts';

export interface WorldMeta {
  name: string;
  namespace: string;
  /** RFC 3339; orders merging (oldest first). Empty sorts first. */
  creationTimestamp: string;
  generation: number;
  labels: Record<string, string>;
}

export interface MeshConfig<S> {
  kind: string;
  meta: WorldMeta;
  spec: S;
}

export interface ServicePort {
  name: string;
  port: number;
  /** Number, or a container port name resolved per endpoint. */
  targetPort: number | string;
  protocol: Protocol;
}

export interface WorldService {
  meta: WorldMeta;
  /** `<name>.<ns>.svc.cluster.local`. */
  hostname: string;
  ports: ServicePort[];
  /** Absent: the service selects nothing by labels (endpoints come from slices only). */
  selector?: Record<string, string>;
  /** From the `networking.istio.io/exportTo` annotation; `*` by default. */
  exportTo: string[];
  /** A real cluster IP, when the Service has one. */
  clusterIP?: string;
  /** Digest of this service and its endpoints (content-addressed caching of translation). */
  contentKey: string;
}

/** A workload instance: a Pod or a WorkloadEntry. */
export interface WorldWorkload {
  kind: 'Pod' | 'WorkloadEntry';
  name: string;
  namespace: string;
  /** Owning workload (Deployment etc.), else the object name. */
  workloadName: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** Empty when not yet known. */
  ip: string;
  /** Named ports (container ports, or a WorkloadEntry's `ports`). */
  namedPorts: Record<string, number>;
  /** Runs a meshlet sidecar (so it has a SPIFFE identity and takes mTLS). */
  hasSidecar: boolean;
  /** The pod's telemetry annotations (proxy.istio.io/config, telemetry.meshlet.io/*), when any. */
  telemetryAnnotations?: Record<string, string>;
}

/** One address behind a service, with the target port per service port name. */
export interface WorldEndpoint {
  address: string;
  /** Service port name → target port on this address. */
  ports: Record<string, number>;
  ready: boolean;
  zone?: string;
  /** The Pod or WorkloadEntry behind the address, when known. */
  workload?: WorldWorkload;
  /** Provenance of the endpoint source (EndpointSlice or WorkloadEntry). */
  source: { kind: string; namespace: string; name: string };
}

/** One fetched JSON Web Key Set, or why there is none. */
export interface JwksEntry {
  keys?: { keys: Record<string, unknown>[] };
  error?: string;
}

export interface World {
  /** Content hash of everything below. */
  hash: string;
  rootNamespace: string;
  namespaces: Record<string, { labels: Record<string, string> }>;
  /** Sorted by namespace, name. */
  services: WorldService[];
  /** `ns/name` of the service → its endpoints, sorted by address. */
  endpoints: Record<string, WorldEndpoint[]>;
  /** Pods and WorkloadEntries, sorted by namespace, name. */
  workloads: WorldWorkload[];
  /** Each list sorted oldest first (creationTimestamp, then namespace, name). */
  virtualServices: MeshConfig<VirtualServiceSpec>[];
  destinationRules: MeshConfig<DestinationRuleSpec>[];
  peerAuthentications: MeshConfig<PeerAuthenticationSpec>[];
  authorizationPolicies: MeshConfig<AuthorizationPolicySpec>[];
  requestAuthentications: MeshConfig<RequestAuthenticationSpec>[];
  /**
   * The public keys of every `jwksUri` the RequestAuthentications name, as the operator last
   * fetched them (operator/jwks/); a URI missing here or with `error` has no keys yet.
   */
  jwks: Record<string, JwksEntry>;
  /** Mesh-wide telemetry settings (the chart's mesh.yaml), passed in by the operator. */
  meshTelemetry?: MeshTelemetryConfig;
  /**
   * `meshlet local` (no capture): every sidecar listens on its workload's own address, and
   * a meshed endpoint is reached at that address on this inbound port (not the app port).
   */
  localMode?: { inboundPort: number };
  /**
   * SPIFFE trust domain of the mesh (the chart's `trustDomain`, the operator's --trust-domain):
   * the identities translation expects of peers and writes into policies. Absent: cluster.local.
   */
  trustDomain?: string;
}
