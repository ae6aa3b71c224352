import type { ErrorEntry } from './types.ts';

/** Codes of the composed operator process (operator/compose/): CA, webhook, UI and mesh settings wired into `meshlet operator`. */
export const composeErrors = [
  { code: 'MESHLET_COMPOSE_ROOT_PUBLISH', status: 500, message: 'the mesh root could not be published to an injected namespace', hint: 'The operator needs get/create/update on configmaps in injected namespaces (ConfigMap meshlet-ca-root); check its RBAC.' },
  { code: 'MESHLET_COMPOSE_MESH_CONFIG', status: 500, message: 'the mesh settings file could not be read', hint: 'Check --mesh-config / MESHLET_MESH_CONFIG points at a YAML file (the chart mounts ConfigMap meshlet-mesh at /etc/meshlet/mesh/mesh.yaml).' },
  { code: 'MESHLET_COMPOSE_PART_FAILED', status: 500, message: 'a part of the operator process could not start', hint: 'The message names the part (CA, webhook); fix its cause or disable it with its flag (e.g. --webhook=false).' },
] as const satisfies readonly ErrorEntry[];
