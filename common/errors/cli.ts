import type { ErrorEntry } from './types.ts';

/** Codes of the `meshlet` CLI: usage, reaching the operator/proxies, and `meshlet analyze` findings. */
export const cliErrors = [
  { code: 'MESHLET_CLI_USAGE', status: 400, message: 'wrong command-line usage', hint: 'Run the command with --help for its arguments and examples.' },
  { code: 'MESHLET_CLI_OPERATOR_UNREACHABLE', status: 503, message: 'cannot reach the meshlet operator', hint: 'Start it (meshlet local <dir>, or the chart in a cluster) or point elsewhere with --operator <url> or MESHLET_OPERATOR=<url>; in a cluster: kubectl -n meshlet-system port-forward svc/meshlet 15014.' },
  { code: 'MESHLET_CLI_CLUSTER_UNREACHABLE', status: 503, message: 'cannot read objects from the cluster', hint: 'Check the kubeconfig (--kubeconfig or $KUBECONFIG), that the apiserver is up, and that you may list the mesh kinds, Services, Pods and Namespaces.' },
  { code: 'MESHLET_CLI_UNKNOWN_PROXY', status: 404, message: 'no such proxy', hint: 'Use one of the proxy ids listed (<pod>.<namespace>), as shown by meshlet proxy-status.' },
  { code: 'MESHLET_CLI_BAD_URL', status: 400, message: 'not an http(s) URL', hint: 'Give a URL such as http://reviews:9080/path, as the app would request it.' },
  { code: 'MESHLET_ANALYZE_UNKNOWN_SUBSET', status: 400, message: 'route points to a subset no DestinationRule defines', hint: 'Add the subset to the DestinationRule of that host, or fix the subset name in the VirtualService; traffic to it gets 503 NR.' },
  { code: 'MESHLET_ANALYZE_DR_NO_SERVICE', status: 400, message: 'DestinationRule host matches no service', hint: 'Fix the host (short names resolve in the rule\'s own namespace) or create the Service.' },
  { code: 'MESHLET_ANALYZE_SELECTS_NOTHING', status: 400, message: 'selector matches no workload', hint: 'Fix the labels in selector/workloadSelector; the object has no effect as written.' },
  { code: 'MESHLET_ANALYZE_STRICT_NO_SIDECAR', status: 400, message: 'STRICT mTLS applies to a workload without a sidecar', hint: 'That workload cannot terminate mesh mTLS: inject the sidecar, or set PERMISSIVE for it.' },
  { code: 'MESHLET_ANALYZE_VS_CONFLICT', status: 400, message: 'several VirtualServices for one host', hint: 'Merge them into one VirtualService: only the oldest one\'s routes apply for overlapping matches.' },
  { code: 'MESHLET_ANALYZE_INJECTION_MISSING', status: 400, message: 'pod in an injection-enabled namespace has no sidecar', hint: 'Restart the pod (kubectl rollout restart) so the webhook injects it, or check the webhook; see the pod annotation sidecar.meshlet.io/status.' },
] as const satisfies readonly ErrorEntry[];
