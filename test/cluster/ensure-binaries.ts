// CI entry point: build or reuse the pinned control-plane binaries before the
// tests run, so no test hook has to wait for a cold build.
//   node test/cluster/ensure-binaries.ts        (prints the cache directory)
import { HarnessError, defaultLog, ensureBinaries, formatDuration } from './binaries.ts';
import { ETCD_VERSION, HELM_VERSION, KUBERNETES_VERSION, cacheDir } from './versions.ts';

const started = Date.now();
try {
  const paths = await ensureBinaries();
  defaultLog(
    `ready in ${formatDuration(Date.now() - started)}: kube-apiserver+kubectl ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}, helm ${HELM_VERSION} in ${paths.dir}`,
  );
} catch (err) {
  const message = err instanceof HarnessError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`[meshlet k8s] error: could not obtain the control-plane binaries for ${cacheDir()}:\n${message}\n`);
  process.exitCode = 1;
}
