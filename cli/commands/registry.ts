/**
 * The subcommands of `meshlet`. Each lives in its own module, loaded only when run, so
 * `meshlet --help` stays fast and one command's dependencies never slow another.
 */
export interface CommandInfo {
  /** One line for `meshlet --help`. */
  summary: string;
  /** Loads the module; its `run(argv)` returns the exit code. */
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

export const commands: Record<string, CommandInfo> = {
  'init-iptables': { summary: 'Install the pod traffic-capture nat rules (the meshlet-init container)', load: () => import('./init-iptables.ts') },
  webhook: { summary: 'Run the sidecar injector webhook alone (normally served by the operator)', load: () => import('./webhook.ts') },
  proxy: { summary: 'Run the sidecar proxy (listeners, routing, load balancing)', load: () => import('./proxy.ts') },
  operator: { summary: 'Run the control plane: watch mesh objects, write status, push config to proxies', load: () => import('./operator.ts') },
  'proxy-status': { summary: 'List connected proxies and whether they run the latest config (SYNCED/STALE/NACK)', load: () => import('./proxy-status.ts') },
  validate: { summary: 'Validate Istio YAML offline (file:line kind/namespace/name path: reason [CODE])', load: () => import('./validate.ts') },
  graph: { summary: 'Print the service graph (calls, req/s, success rate, p99, mTLS) and the UI URL', load: () => import('./graph.ts') },
  local: { summary: 'Run a directory of Istio YAML as a mesh on this machine (operator, proxies, apps), no cluster', load: () => import('./local.ts') },
  analyze: { summary: 'Find cross-object problems (unknown subsets, selectors matching nothing, STRICT without sidecar…)', load: () => import('./analyze.ts') },
  'proxy-config': { summary: 'Show a proxy\'s listeners, routes, clusters, endpoints or secrets', load: () => import('./proxy-config.ts') },
  explain: { summary: 'Explain where a request from a proxy goes and why (route, subset, retries, mTLS, authz)', load: () => import('./explain.ts') },
  version: { summary: 'Print the client version (and the operator and proxies\' when reachable)', load: () => import('./version.ts') },
};
