/** The objects `meshlet analyze` looks at: a directory of YAML, or a cluster through a kubeconfig. */
import { KubeConfig } from '@kubernetes/client-node';
import { MeshletError } from '../../common/errors.ts';
import { readDirectoryObjects } from '../../operator/sources/local-dir.ts';
import { collectionPath, apiVersionOf, WATCHED } from '../../operator/kube/resources.ts';
import { kubeRequest } from '../../operator/kube/http.ts';
import type { K8sObject } from '../../operator/world/objects.ts';

export interface Loaded {
  objects: K8sObject[];
  /** `kind/ns/name` → `file:line`, for directories. */
  origins: Map<string, string>;
  problems: string[];
}

export const originKey = (o: { kind: string; namespace: string; name: string }): string => `${o.kind}/${o.namespace}/${o.name}`;

export function loadDirectory(dir: string): Loaded {
  const { objects, problems } = readDirectoryObjects(dir);
  const origins = new Map<string, string>();
  for (const o of objects) if (o.origin?.file !== undefined) origins.set(originKey({ kind: o.object.kind, namespace: o.object.metadata.namespace ?? 'default', name: o.object.metadata.name }), `${o.origin.file}:${o.origin.line ?? 0}`);
  return { objects: objects.map((o) => ({ ...o.object, metadata: { ...o.object.metadata, namespace: o.object.metadata.namespace ?? (o.object.kind === 'Namespace' ? undefined : 'default') } }) as K8sObject), origins, problems: problems.map((p) => `${p.file}:${p.line}: ${p.reason}`) };
}

export async function loadCluster(kubeconfig: string | undefined): Promise<Loaded> {
  const kc = new KubeConfig();
  if (kubeconfig !== undefined) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  const server = kc.getCurrentCluster()?.server ?? '(no current cluster)';
  const objects: K8sObject[] = [];
  for (const r of WATCHED) {
    const version = r.versions[0]!;
    let res;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await kubeRequest(kc, 'GET', collectionPath(r, version));
      } catch (err) {
        throw new MeshletError('MESHLET_CLI_CLUSTER_UNREACHABLE', `the apiserver ${server} (kubeconfig ${kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config'}) did not answer: ${(err as Error).message}`);
      }
      // 429: API priority and fairness asks us to come back; a few bounded retries.
      if (res.status !== 429 || attempt >= 5) break;
      await new Promise((done) => setTimeout(done, 200 * (attempt + 1)));
    }
    if (res.status === 404) continue; // that CRD is not installed
    if (res.status < 200 || res.status > 299) throw new MeshletError('MESHLET_CLI_CLUSTER_UNREACHABLE', `GET ${collectionPath(r, version)} on ${server} answered ${res.status}`);
    for (const item of ((res.body as { items?: K8sObject[] }).items ?? [])) objects.push({ ...item, kind: r.kind, apiVersion: apiVersionOf(r, version) });
  }
  return { objects, origins: new Map(), problems: [] };
}
