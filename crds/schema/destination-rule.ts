/** networking.istio.io DestinationRule: Istio's field names and semantics. */
import { arr, bool, duration, int32, labels, map, num, obj, str, strings, uint32, uint64 } from './dsl.ts';
import type { KindDef } from './dsl.ts';
import { portSelector, workloadSelector } from './common.ts';

const dur = (doc: string) => duration(doc, { maxLength: 64 });

const consistentHash = obj('ConsistentHashLB', 'Consistent Hash-based load balancing can be used to provide soft session affinity based on HTTP headers, cookies or other properties.', {
  httpHeaderName: str('Hash based on a specific HTTP header.'),
  httpCookie: obj('HTTPCookie', 'Describes a HTTP cookie that will be used as the hash key for the Consistent Hash load balancer.', {
    name: str('Name of the cookie.'),
    path: str('Path to set for the cookie.'),
    ttl: dur('Lifetime of the cookie.'),
    attributes: arr('Additional attributes for the cookie.', obj('CookieAttribute', 'A cookie attribute.', { name: str('Name of the attribute.'), value: str('Value of the attribute.') }, { required: ['name'] }), { unenforced: 'the affinity cookie carries name, path and ttl only' }),
  }, { required: ['name'] }),
  useSourceIp: bool('Hash based on the source IP address.'),
  httpQueryParameterName: str('Hash based on a specific HTTP query parameter.'),
  ringHash: obj('RingHash', 'The ring/modulo hash load balancer.', { minimumRingSize: uint64('The minimum number of virtual nodes to use for the hash ring.') }),
  maglev: obj('MagLev', 'The Maglev load balancer.', { tableSize: uint64('The table size for Maglev hashing; must be prime.') }),
  minimumRingSize: uint64('Deprecated: use ringHash instead.', { deprecated: true }),
}, { oneOf: [['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'], ['ringHash', 'maglev', 'minimumRingSize']] });

const localityLb = obj('LocalityLoadBalancerSetting', 'Locality-weighted load balancing allows administrators to control the distribution of traffic to endpoints based on the localities.', {
  distribute: arr('Explicitly specify loadbalancing weight across different zones and geographical locations.', obj('Distribute', 'Describes how traffic originating in the from zone or sub-zone is distributed over a set of to zones.', {
    from: str('Originating locality, "/" separated, e.g. "region/zone/sub_zone".'),
    to: map('Map of upstream localities to traffic distribution weights (1-100, summing to 100).', uint32('', { max: 4294967295 })),
  })),
  failover: arr('Explicitly specify the region traffic will land on when endpoints in local region becomes unhealthy.', obj('Failover', 'Specify the traffic failover policy across regions.', {
    from: str('Originating region.'),
    to: str('Destination region the traffic will fail over to.'),
  })),
  failoverPriority: strings('failoverPriority is an ordered list of labels used to sort endpoints to do priority based load balancing.'),
  enabled: bool('enable locality load balancing, this is DestinationRule-level and will override mesh wide settings in entirety.'),
}, { unenforced: 'meshlet does not balance by locality yet' });

const loadBalancer = obj('LoadBalancerSettings', 'Load balancing policies to apply for a specific destination.', {
  simple: str('Standard load balancing algorithms that require no tuning.', { enum: ['UNSPECIFIED', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST', 'LEAST_CONN'] }),
  consistentHash,
  localityLbSetting: localityLb,
  backendUtilization: obj('BackendUtilizationLB', 'Utilization-based load balancing weighting endpoints by the load they report (ORCA metrics).', {
    errorUtilizationPenaltyPercent: uint32('Extra penalty for endpoints that return errors, as a percentage of the utilization.', { max: 4294967295 }),
    metricNamesForComputingUtilization: strings('Custom ORCA metric names used to compute utilization.'),
    weightExpirationPeriod: duration('After this long without reports an endpoint reverts to the default weight.', { maxLength: 64 }),
    weightStabilizationPeriod: duration('How long after its first report an endpoint\'s weight is trusted.', { maxLength: 64 }),
    weightUpdatePeriod: duration('How often weights are recomputed.', { maxLength: 64 }),
  }, { unenforced: 'meshlet endpoints report no load; it balances by the simple or consistentHash policy' }),
  zoneAwareLbSetting: obj('ZoneAwareLoadBalancerSetting', 'Zone-aware load balancing: prefer endpoints in the caller\'s zone, with failover between zones.', {
    enabled: bool('Enables zone-aware load balancing.'),
    failover: arr('Explicit zone failover order.', obj('ZoneAwareFailover', 'Traffic from one zone fails over to another.', {
      from: str('Originating zone.'),
      to: str('Zone the traffic fails over to.'),
    })),
    failoverPriority: strings('Ordered labels sorting endpoints into priority tiers (not the topology labels).'),
    minClusterSize: uint64('Smallest number of endpoints in the local region for zone-aware routing to apply (default 6).'),
  }, { unenforced: 'meshlet does not balance by locality yet' }),
  warmupDurationSecs: dur('Represents the warmup duration of Service (deprecated: use warmup).'),
  warmup: obj('WarmupConfiguration', 'Configuration of the slow start (warmup) mode (use warmupDurationSecs for a linear warmup meshlet enforces).', {
    duration: dur('Duration of warmup mode.'),
    minimumPercent: { t: 'number', doc: 'Minimum percentage of the original weight endpoints start at (0-100).', min: 0, max: 100 },
    aggression: { t: 'number', doc: 'The non-linearity of the weight increase; 1.0 is linear.', min: 1 },
  }, { required: ['duration'], unenforced: 'meshlet enforces warmupDurationSecs only' }),
}, { oneOf: [['simple', 'consistentHash', 'backendUtilization'], ['warmupDurationSecs', 'warmup']] });

const connectionPool = obj('ConnectionPoolSettings', 'Connection pool settings for an upstream host.', {
  tcp: obj('TCPSettings', 'Settings common to both HTTP and TCP upstream connections.', {
    maxConnections: int32('Maximum number of HTTP1 /TCP connections to a destination host.'),
    connectTimeout: dur('TCP connection timeout.'),
    tcpKeepalive: obj('TcpKeepalive', 'TCP keepalive.', {
      probes: uint32('Maximum number of keepalive probes to send without response before deciding the connection is dead.', { max: 4294967295 }),
      time: dur('The time duration a connection needs to be idle before keep-alive probes start being sent.'),
      interval: dur('The time duration between keep-alive probes.'),
    }),
    maxConnectionDuration: duration('The maximum duration of a connection.', { maxLength: 64, unenforced: 'upstream connections are not closed by age' }),
    idleTimeout: duration('The idle timeout for TCP connections; 0s disables it.', { maxLength: 64, zeroOk: true }),
  }),
  http: obj('HTTPSettings', 'Settings applicable to HTTP1.1/HTTP2/GRPC connections.', {
    http1MaxPendingRequests: int32('Maximum number of requests that will be queued while waiting for a ready connection pool connection.'),
    http2MaxRequests: int32('Maximum number of active requests to a destination.'),
    maxRequestsPerConnection: int32('Maximum number of requests per connection to a backend.'),
    maxRetries: int32('Maximum number of retries that can be outstanding to all hosts in a cluster at a given time.'),
    idleTimeout: dur('The idle timeout for upstream connection pool connections.'),
    h2UpgradePolicy: str('Specify if http1.1 connection should be upgraded to http2 for the associated destination.', { enum: ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'], unenforced: 'the upstream protocol follows the service port' }),
    useClientProtocol: bool('If set to true, client protocol will be preserved while initiating connection to backend.', { unenforced: 'the upstream protocol follows the service port' }),
    maxConcurrentStreams: int32('The maximum number of concurrent streams allowed for a peer on one HTTP/2 connection.'),
    http2KeepAlive: obj('ConnectionKeepalive', 'HTTP/2 keep-alive (PING) settings for upstream connections.', {
      interval: dur('The time between keep-alive PINGs.'),
      timeout: dur('How long to wait for a PING response before closing the connection.'),
    }, { unenforced: 'upstream HTTP/2 connections are not probed with PINGs; idle ones are closed after the idle timeout' }),
  }),
});

const outlierDetection = obj('OutlierDetection', 'A Circuit breaker implementation that tracks the status of each individual host in the upstream service.', {
  splitExternalLocalOriginErrors: bool('Determines whether to distinguish local origin failures from external errors.'),
  consecutiveLocalOriginFailures: uint32('The number of consecutive locally originated failures before ejection occurs.', { max: 4294967295 }),
  consecutiveGatewayErrors: uint32('Number of gateway errors before a host is ejected from the connection pool.', { max: 4294967295 }),
  consecutive5xxErrors: uint32('Number of 5xx errors before a host is ejected from the connection pool.', { max: 4294967295 }),
  interval: dur('Time interval between ejection sweep analysis.'),
  baseEjectionTime: dur('Minimum ejection duration.'),
  maxEjectionPercent: int32('Maximum % of hosts in the load balancing pool for the upstream service that can be ejected.'),
  minHealthPercent: int32('Outlier detection will be enabled as long as the associated load balancing pool has at least minHealthPercent hosts in healthy mode.'),
  consecutiveErrors: int32('Deprecated: use consecutiveGatewayErrors or consecutive5xxErrors.', { deprecated: true, unenforced: 'use consecutiveGatewayErrors or consecutive5xxErrors' }),
  outlierDetectionHttpErrorCodes: arr('HTTP status codes (100-599) counted as errors by outlier detection instead of the 5xx default.', uint32('', { min: 100, max: 599 }), { unenforced: 'outlier detection counts 5xx responses (and gateway errors) only' }),
});

const userCerts = 'meshlet originates TLS with mode and sni only (ISTIO_MUTUAL uses the mesh certificates); user-supplied certificates are not loaded yet';
const clientTls = obj('ClientTLSSettings', 'SSL/TLS related settings for upstream connections.', {
  mode: str('Indicates whether connections to this port should be secured using TLS.', { enum: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] }),
  clientCertificate: str('REQUIRED if mode is MUTUAL. The path to the file holding the client-side TLS certificate to use.', { unenforced: userCerts }),
  privateKey: str('REQUIRED if mode is MUTUAL. The path to the file holding the client\'s private key.', { unenforced: userCerts }),
  caCertificates: str('The path to the file containing certificate authority certificates to use in verifying a presented server certificate.', { unenforced: userCerts }),
  credentialName: str('The name of the secret that holds the TLS certs for the client.', { unenforced: userCerts }),
  subjectAltNames: strings('A list of alternate names to verify the subject identity in the certificate.', { unenforced: userCerts }),
  sni: str('SNI string to present to the server during TLS handshake.'),
  insecureSkipVerify: bool('InsecureSkipVerify specifies whether the proxy should skip verifying the CA signature and SAN for the server certificate.', { unenforced: userCerts }),
  caCrl: str('OPTIONAL: The path to the file containing the certificate revocation list (CRL) to use in verifying a presented server certificate.', { unenforced: userCerts }),
});

function policyProps() {
  return { loadBalancer, connectionPool, outlierDetection, tls: clientTls };
}

const trafficPolicy = obj('TrafficPolicy', 'Traffic policies to apply for a specific destination, across all destination ports.', {
  ...policyProps(),
  portLevelSettings: arr('Traffic policies specific to individual ports.', obj('PortTrafficPolicy', 'Traffic policies that apply to specific ports of the service.', {
    port: portSelector,
    ...policyProps(),
  }), { maxItems: 64 }),
  tunnel: obj('TunnelSettings', 'Configuration of tunneling TCP over other transport or application layers.', {
    protocol: str('Specifies which protocol to use for tunneling the downstream connection (CONNECT or POST).'),
    targetHost: str('Specifies a host to which the downstream connection is tunneled.'),
    targetPort: uint32('Specifies a port to which the downstream connection is tunneled.', { max: 4294967295 }),
  }, { required: ['targetHost', 'targetPort'], unenforced: 'meshlet does not tunnel connections' }),
  proxyProtocol: obj('ProxyProtocol', 'The upstream PROXY protocol settings.', {
    version: str('The PROXY protocol version to use.', { enum: ['V1', 'V2'] }),
  }, { unenforced: 'meshlet does not send the PROXY protocol' }),
  retryBudget: obj('RetryBudget', 'Caps concurrent retries to a share of active requests.', {
    percent: num('Percentage of active requests that may be retries (0-100, default 20).', { min: 0, max: 100 }),
    minRetryConcurrency: uint32('Retries always allowed concurrently, whatever the percentage (default 3).', { max: 4294967295 }),
    budgetInterval: duration('How long new requests count towards the budget (default 0ms: only active ones).', { maxLength: 64, zeroOk: true }),
  }, { unenforced: 'retries are capped by connectionPool.http.maxRetries only' }),
});

export const destinationRuleSpec = obj('DestinationRuleSpec', 'DestinationRule defines policies that apply to traffic intended for a service after routing has occurred.', {
  host: str('The name of a service from the service registry.'),
  trafficPolicy,
  subsets: arr('One or more named sets that represent individual versions of a service.', obj('Subset', 'A subset of endpoints of a service.', {
    name: str('Name of the subset (DNS-1123 label).'),
    labels: labels('Labels apply a filter over the endpoints of a service in the service registry.'),
    trafficPolicy,
  }, { required: ['name'] }), { maxItems: 256 }),
  exportTo: strings('A list of namespaces to which this destination rule is exported.'),
  workloadSelector,
}, { required: ['host'] });

export const destinationRule: KindDef = {
  group: 'networking.istio.io',
  kind: 'DestinationRule',
  plural: 'destinationrules',
  singular: 'destinationrule',
  shortNames: ['dr'],
  categories: ['istio-io', 'networking-istio-io'],
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  storageVersion: 'v1',
  spec: destinationRuleSpec,
  printerColumns: [
    { name: 'Host', type: 'string', jsonPath: '.spec.host', description: 'The name of a service from the service registry' },
  ],
};
