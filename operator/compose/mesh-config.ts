/**
 * Mesh-wide settings from the chart's `mesh.yaml` (ConfigMap meshlet-mesh, mounted at
 * /etc/meshlet/mesh/mesh.yaml; `--mesh-config` / MESHLET_MESH_CONFIG). Read once at start:
 * the chart rolls the Deployment when it changes. The telemetry part goes into the World.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MeshletError } from '../../common/errors.ts';
import type { MeshTelemetryConfig } from '../translate/telemetry-settings.ts';

/** The telemetry keys of a parsed mesh.yaml (pure); unknown keys are ignored. */
export function meshTelemetryFrom(doc: unknown): MeshTelemetryConfig {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return {};
  const d = doc as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['accessLog', 'tracing', 'metrics', 'accessLogFile', 'enableTracing', 'defaultConfig', 'meshlet'] as const) {
    if (d[k] !== undefined && d[k] !== null) out[k] = d[k];
  }
  return out as MeshTelemetryConfig;
}

export interface MeshSettings {
  telemetry: MeshTelemetryConfig;
  trustDomain?: string;
  /** `webhooks.validating` of mesh.yaml: [] when the chart turned validation off. */
  validatingConfigurations?: string[];
  mutatingConfigurations?: string[];
}

function names(v: unknown): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  return v === '' ? [] : [v];
}

/** Everything the operator process takes from mesh.yaml (pure). */
export function meshSettingsFrom(doc: unknown): MeshSettings {
  const out: MeshSettings = { telemetry: meshTelemetryFrom(doc) };
  if (typeof doc !== 'object' || doc === null) return out;
  const d = doc as { trustDomain?: unknown; webhooks?: { validating?: unknown; mutating?: unknown } };
  if (typeof d.trustDomain === 'string' && d.trustDomain !== '') out.trustDomain = d.trustDomain;
  const v = names(d.webhooks?.validating);
  const m = names(d.webhooks?.mutating);
  if (v !== undefined) out.validatingConfigurations = v;
  if (m !== undefined && m.length > 0) out.mutatingConfigurations = m;
  return out;
}

/** Reads the file (none given: defaults); an unreadable or unparsable file throws. */
export function loadMeshSettings(path: string | undefined): MeshSettings {
  if (path === undefined || path === '') return { telemetry: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MeshletError('MESHLET_COMPOSE_MESH_CONFIG', `${path}: ${(err as Error).message}`);
  }
  try {
    return meshSettingsFrom(parse(text));
  } catch (err) {
    throw new MeshletError('MESHLET_COMPOSE_MESH_CONFIG', `${path}: ${(err as Error).message}`);
  }
}
