import type { ErrorEntry } from './types.ts';

/** Codes of the sidecar proxy: local replies (`x-meshlet-error`), NACKs and logs. */
export const proxyErrors = [
  { code: 'MESHLET_PROXY_NO_ROUTE', status: 404, message: 'no route matched the request', hint: 'Check the VirtualService hosts and matches for this host and port (meshlet explain shows why nothing matched).' },
  { code: 'MESHLET_PROXY_NO_HEALTHY_UPSTREAM', status: 503, message: 'no healthy endpoint in the destination cluster', hint: 'The service has no ready endpoints (or the subset selects none): check the pods and the DestinationRule subsets.' },
  { code: 'MESHLET_PROXY_UPSTREAM_CONNECT', status: 503, message: 'could not connect to the upstream endpoint', hint: 'The endpoint refused or timed out the connection: check that the app listens on the target port.' },
  { code: 'MESHLET_PROXY_UPSTREAM_RESET', status: 503, message: 'the upstream closed the connection before a full response', hint: 'The app crashed or closed the connection mid-request; see its logs.' },
  { code: 'MESHLET_PROXY_BAD_REQUEST', status: 400, message: 'malformed request', hint: 'The client sent a request the proxy cannot parse (request line, headers, chunked body or Content-Length with Transfer-Encoding).' },
  { code: 'MESHLET_PROXY_UPGRADE_EARLY_DATA', status: 400, message: 'bytes sent after an upgrade request before the upgrade was accepted', hint: 'A WebSocket client must wait for the 101 before sending (RFC 6455 4.1); a request pipelined behind an upgrade is refused so it cannot reach the app unchecked.' },
  { code: 'MESHLET_PROXY_H2_RESET_FLOOD', status: 429, message: 'an HTTP/2 client reset too many streams on one connection', hint: 'The client opened and reset more than 100 streams, over half of all its streams (rapid reset): the proxy sent GOAWAY ENHANCE_YOUR_CALM and closed the connection. A client that cancels most of its requests should open fewer.' },
  { code: 'MESHLET_PROXY_HEADERS_TOO_LARGE', status: 431, message: 'request headers exceed 60 KiB', hint: 'Send smaller headers (cookies are the usual culprit); the limit is Envoy\'s 60 KiB.' },
  { code: 'MESHLET_PROXY_REQUEST_TIMEOUT', status: 408, message: 'the client did not send the request headers in time', hint: 'The client is too slow or idle; the proxy closes such connections (headers timeout).' },
  { code: 'MESHLET_PROXY_CONFIG_COMPILE', status: 500, message: 'snapshot could not be compiled', hint: 'A snapshot passed validation but the proxy could not build it; the proxy keeps its last good config. Report it with this message.' },
  { code: 'MESHLET_PROXY_CONFIG_FETCH', status: 503, message: 'could not fetch config from the operator', hint: 'The operator is unreachable or answered an error; the proxy keeps serving its last good config and retries with backoff.' },
  { code: 'MESHLET_PROXY_NOT_READY', status: 503, message: 'the proxy has no config yet', hint: 'Wait for the first snapshot from the operator (or pass --config-file).' },
  { code: 'MESHLET_PROXY_BIND', status: 500, message: 'could not bind a proxy port', hint: 'Another process holds the port, or the bind address is not on this host; use the port flags or --bind.' },
  { code: 'MESHLET_PROXY_IDENTITY', status: 500, message: 'proxy identity is incomplete', hint: 'Set POD_NAME and POD_NAMESPACE (downward API) or pass --pod and --namespace.' },
  // Resiliency: circuit breaking, timeouts, fault injection.
  { code: 'MESHLET_PROXY_UPSTREAM_OVERFLOW', status: 503, message: 'upstream connection pool limit reached (circuit breaker open)', hint: 'The DestinationRule connectionPool limits (maxConnections, http1MaxPendingRequests, http2MaxRequests) are exhausted: raise them or add capacity; /stats on the admin port shows upstream_cx_overflow and upstream_rq_pending_overflow.' },
  { code: 'MESHLET_PROXY_UPSTREAM_TIMEOUT', status: 504, message: 'upstream request timeout', hint: 'The upstream did not answer within the VirtualService timeout (or retries.perTryTimeout on every attempt): raise the timeout or find out why the app is slow.' },
  { code: 'MESHLET_PROXY_FAULT_ABORT', status: 503, message: 'fault filter abort', hint: 'The VirtualService fault.abort injected this error on purpose (response flag FI).' },
] as const satisfies readonly ErrorEntry[];
