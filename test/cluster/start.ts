// For poking at the control plane by hand:
//   node test/cluster/start.ts [crd-file-or-dir ...]
// prints the admin kubeconfig path and the pinned kubectl/helm, runs until Ctrl-C.
import { HarnessError, startCluster } from './cluster.ts';

try {
  const crds = process.argv.slice(2);
  const cluster = await startCluster({ crds });
  process.stdout.write(
    `export KUBECONFIG=${cluster.kubeconfigPath}\n` +
      `alias kubectl=${cluster.binaries.kubectl} helm=${cluster.binaries.helm}\n` +
      `# apiserver ${cluster.server}; logs in ${cluster.dir}; Ctrl-C stops and cleans up\n`,
  );
  const stop = (): void => {
    void cluster.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  setInterval(() => {}, 60_000);
} catch (err) {
  process.stderr.write(`[meshlet k8s] error: ${err instanceof HarnessError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
