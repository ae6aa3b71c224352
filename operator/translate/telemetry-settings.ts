/**
 * Effective telemetry of one proxy (`ProxySnapshot.telemetry`) from the mesh defaults and the
 * pod's annotations, for the operator's translation. Pure.
 *
 * Mesh level: the chart's `mesh.yaml` (`accessLog.enabled`, `tracing.endpoint`,
 * `tracing.samplingPercent`, `metrics.enabled`), else Istio MeshConfig names: `accessLogFile` non-empty turns the access log on,
 * `enableTracing: false` turns tracing off, `defaultConfig.tracing.sampling` is the percent
 * (Istio's default 1), `meshlet.otlpEndpoint` the OTLP/HTTP collector, `meshlet.metrics`
 * (default true).
 * Pod level: Istio's `proxy.istio.io/config` (JSON or a `tracing: {sampling: N}` YAML
 * subset) and meshlet's `telemetry.meshlet.io/access-log`, `telemetry.meshlet.io/sampling`,
 * `telemetry.meshlet.io/metrics` annotations win over the mesh.
 */
import type { Telemetry } from '../../common/snapshot.ts';

export interface MeshTelemetryConfig {
  /** The chart's `mesh.yaml` shape (charts/meshlet/README.md); wins over Istio's names below. */
  accessLog?: { enabled?: boolean };
  tracing?: { endpoint?: string; samplingPercent?: number };
  metrics?: { enabled?: boolean };
  accessLogFile?: string;
  enableTracing?: boolean;
  defaultConfig?: { tracing?: { sampling?: number } };
  meshlet?: { otlpEndpoint?: string; metrics?: boolean };
}

export const DEFAULT_SAMPLING_PERCENT = 1;

function clampPercent(n: number): number | undefined {
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : undefined;
}

function bool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const l = v.trim().toLowerCase();
  if (l === 'true' || l === 'on' || l === '1') return true;
  if (l === 'false' || l === 'off' || l === '0') return false;
  return undefined;
}

/** `tracing.sampling` from `proxy.istio.io/config` (JSON, or the `sampling: N` line of YAML). */
export function samplingFromProxyConfig(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    const o = JSON.parse(v) as { tracing?: { sampling?: unknown } };
    const s = o.tracing?.sampling;
    return typeof s === 'number' ? clampPercent(s) : undefined;
  } catch {
    const m = /(?:^|\n)\s*tracing:\s*\n(?:\s+.*\n)*?\s+sampling:\s*([0-9.]+)/.exec(`${v}\n`) ?? /tracing:\s*\{[^}]*sampling:\s*([0-9.]+)/.exec(v);
    return m === null ? undefined : clampPercent(Number(m[1]));
  }
}

export function effectiveTelemetry(mesh: MeshTelemetryConfig, annotations: Record<string, string> = {}): Telemetry {
  let sampling = clampPercent(mesh.tracing?.samplingPercent ?? mesh.defaultConfig?.tracing?.sampling ?? DEFAULT_SAMPLING_PERCENT) ?? DEFAULT_SAMPLING_PERCENT;
  const podIstio = samplingFromProxyConfig(annotations['proxy.istio.io/config']);
  const podMeshlet = annotations['telemetry.meshlet.io/sampling'] === undefined ? undefined : clampPercent(Number(annotations['telemetry.meshlet.io/sampling']));
  sampling = podMeshlet ?? podIstio ?? sampling;
  const tracingOn = mesh.enableTracing !== false;
  const t: Telemetry = {
    metrics: bool(annotations['telemetry.meshlet.io/metrics']) ?? mesh.metrics?.enabled ?? mesh.meshlet?.metrics ?? true,
    accessLog: bool(annotations['telemetry.meshlet.io/access-log']) ?? mesh.accessLog?.enabled ?? (mesh.accessLogFile !== undefined && mesh.accessLogFile !== ''),
    tracing: { samplingPercent: tracingOn ? sampling : 0 },
  };
  const endpoint = mesh.tracing?.endpoint ?? mesh.meshlet?.otlpEndpoint;
  if (tracingOn && endpoint !== undefined && endpoint !== '') t.tracing.otlpEndpoint = endpoint;
  return t;
}
