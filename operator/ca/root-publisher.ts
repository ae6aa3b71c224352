/**
 * Publishes the public root in ConfigMap `meshlet-ca-root` (key `root-cert.pem`) in each
 * injected namespace, so sidecars can verify the operator and their peers from day one.
 */
import type { CoreV1Api, V1Namespace } from '@kubernetes/client-node';

export const ROOT_CONFIGMAP = 'meshlet-ca-root';
export const ROOT_CONFIGMAP_KEY = 'root-cert.pem';

/** Injection-on rules of DESIGN.md §2 for a namespace. */
export function isInjectedNamespace(ns: V1Namespace): boolean {
  const labels = ns.metadata?.labels ?? {};
  const annotations = ns.metadata?.annotations ?? {};
  return labels['sidecar.inject'] === 'true' || annotations['sidecar.inject'] === 'true' || labels['istio-injection'] === 'enabled';
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Creates or updates the ConfigMap in one namespace; returns whether it wrote anything. */
export async function publishRoot(core: CoreV1Api, namespace: string, rootCertPem: string): Promise<boolean> {
  const body = {
    metadata: { name: ROOT_CONFIGMAP, namespace, labels: { 'app.kubernetes.io/managed-by': 'meshlet' } },
    data: { [ROOT_CONFIGMAP_KEY]: rootCertPem },
  };
  try {
    const cur = await core.readNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace });
    if (cur.data?.[ROOT_CONFIGMAP_KEY] === rootCertPem) return false;
    await core.replaceNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata?.resourceVersion } } });
    return true;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  try {
    await core.createNamespacedConfigMap({ namespace, body });
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
  return true;
}

/** Publishes into every injected namespace; returns the namespaces written. */
export async function publishRootToInjectedNamespaces(core: CoreV1Api, rootCertPem: string): Promise<string[]> {
  const list = await core.listNamespace();
  const written: string[] = [];
  for (const ns of list.items) {
    const name = ns.metadata?.name;
    if (name === undefined || !isInjectedNamespace(ns)) continue;
    if (await publishRoot(core, name, rootCertPem)) written.push(name);
  }
  return written;
}
