import type { ErrorEntry } from './types.ts';

/** Codes of the operator: sources, validation/status, translation and the push server. */
export const operatorErrors = [
  { code: 'MESHLET_OPERATOR_YAML_PARSE', status: 400, message: 'file is not valid YAML', hint: 'Fix the YAML at the file:line shown; the other files keep being served.' },
  { code: 'MESHLET_OPERATOR_OBJECT_INVALID', status: 400, message: 'object failed validation and is not applied', hint: 'Fix the field at the path shown; proxies keep the last accepted version of the object.' },
  { code: 'MESHLET_OPERATOR_OBJECT_SHAPE', status: 400, message: 'document is not a Kubernetes object', hint: 'Every YAML document needs apiVersion, kind and metadata.name.' },
  { code: 'MESHLET_OPERATOR_UNKNOWN_HOST', status: 503, message: 'route destination host is not a service visible to this proxy', hint: 'Check the destination host, the service namespace and its exportTo; the route answers 503 until it resolves.' },
  { code: 'MESHLET_OPERATOR_UNKNOWN_SUBSET', status: 503, message: 'route destination subset is not defined by any DestinationRule visible to this proxy', hint: 'Add the subset to the DestinationRule of the host (workload, service or root namespace).' },
  { code: 'MESHLET_OPERATOR_JWKS_FETCH', status: 502, message: 'a RequestAuthentication\'s JSON Web Key Set could not be fetched', hint: 'The operator fetches jwksUri (or the issuer\'s /.well-known/openid-configuration) itself; check the URL is reachable from the operator. Until a first success, tokens of that issuer get 401; after one, the last good keys are kept.' },
  { code: 'MESHLET_OPERATOR_CUSTOM_UNSUPPORTED', status: 400, message: 'AuthorizationPolicy action CUSTOM is not supported', hint: 'Use ALLOW, DENY or AUDIT; the policy is ignored.' },
  { code: 'MESHLET_OPERATOR_INFORMER', status: 500, message: 'watch of a Kubernetes resource failed; restarting with backoff', hint: 'Check the apiserver and RBAC; the operator keeps serving the last known state.' },
  { code: 'MESHLET_OPERATOR_STATUS_WRITE', status: 500, message: 'could not write the status of a mesh object', hint: 'Check RBAC for the status subresource; the write is retried on the next change.' },
  { code: 'MESHLET_OPERATOR_UNAUTHENTICATED', status: 401, message: 'proxy request could not be authenticated', hint: 'The proxy must present its identity (token or workload certificate).' },
  { code: 'MESHLET_OPERATOR_BAD_REQUEST', status: 400, message: 'bad config request', hint: 'GET /v1/config needs ?proxy=<pod>.<namespace>&version=<hash>.' },
  { code: 'MESHLET_OPERATOR_OBJECT_STALE', status: 500, message: 'object\'s latest version is unparsable or invalid; proxies keep its last good version', hint: 'Fix the file or object named; until then the previous version keeps being enforced (delete the file or object to remove it).' },
  { code: 'MESHLET_OPERATOR_FAIL_CLOSED', status: 500, message: 'security object has no valid version; the workloads it may select fail closed', hint: 'An AuthorizationPolicy becomes deny-all and a PeerAuthentication STRICT for the workloads it selects until a valid version is applied.' },
  { code: 'MESHLET_OPERATOR_NOT_READY', status: 503, message: 'operator has not listed every watched kind yet; config is held', hint: 'See /ready on 15014 for the pending kinds (RBAC, apiserver reachability); proxies keep their current config meanwhile.' },
  { code: 'MESHLET_OPERATOR_DEBUG_LOOPBACK_ONLY', status: 403, message: 'this debug view shows proxy config and answers loopback clients only', hint: 'Run the CLI on the operator host, or `kubectl -n meshlet-system port-forward svc/meshlet 15014` and use http://127.0.0.1:15014.' },
  { code: 'MESHLET_OPERATOR_PROXY_NACK', status: 500, message: 'proxy rejected its config', hint: 'See the error the proxy sent; it keeps its last good config. `meshlet proxy-status` shows it.' },
] as const satisfies readonly ErrorEntry[];
