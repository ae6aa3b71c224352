/** KindDef → CustomResourceDefinition manifest (one per kind, every version the same schema). */
import type { KindDef } from '../schema/dsl.ts';
import { toOpenApi } from './openapi.ts';
import type { Json } from './openapi.ts';

export function crdManifest(k: KindDef): Record<string, Json> {
  const schema: Json = {
    description: `meshlet ${k.kind} (Istio ${k.group}); fields and semantics follow Istio's API.`,
    properties: {
      spec: toOpenApi(k.spec),
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    required: ['spec'],
    type: 'object',
  };
  const versions: Json[] = k.versions.map((v) => ({
    additionalPrinterColumns: [
      ...k.printerColumns.map((c) => ({ description: c.description, jsonPath: c.jsonPath, name: c.name, type: c.type })),
      { description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date' },
    ],
    name: v,
    schema: { openAPIV3Schema: schema },
    served: true,
    storage: v === k.storageVersion,
    subresources: { status: {} },
  }));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      annotations: { 'meshlet.io/generated-by': 'crds/generate.ts (do not edit)' },
      labels: { 'app.kubernetes.io/part-of': 'meshlet' },
      name: `${k.plural}.${k.group}`,
    },
    spec: {
      // Every version has the same schema, so the apiserver only rewrites apiVersion.
      conversion: { strategy: 'None' },
      group: k.group,
      names: { categories: [...k.categories], kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, shortNames: [...k.shortNames], singular: k.singular },
      scope: 'Namespaced',
      versions,
    },
  };
}
