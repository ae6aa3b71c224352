/**
 * Renders the wanted pod: the original plus the sidecar, from the effective settings. Pure;
 * the admission handler sends the JSON-Patch difference between the original and this.
 */
import { ANN, INIT_CONTAINER } from './constants.ts';
import type { Decision } from './decide.ts';
import type { SidecarSettings } from './overrides.ts';
import type { Pod } from './pod-types.ts';
import { mergeScrapeAnnotations, rewriteProbes } from './probes.ts';
import { initContainer, proxyContainer, sidecarVolumes } from './sidecar-containers.ts';

/** Label the operator reads to know an endpoint has a sidecar (auto-mTLS). */
export const TLS_MODE_LABEL = { key: 'security.meshlet.io/tlsMode', value: 'meshlet' } as const;

export interface RenderOptions {
  settings: SidecarSettings;
  /** Native sidecar (apiserver ≥ 1.29) or a regular container with a start hold. */
  native: boolean;
  templateVersion: string;
  decision: Decision;
}

/** The status annotation value: which way it went, why, and with what template. */
export function statusValue(d: Decision, templateVersion?: string, mode?: 'native' | 'container'): string {
  const s: Record<string, string> = { result: d.inject ? 'injected' : 'skipped', reason: d.reason };
  if (templateVersion !== undefined) s.template = templateVersion;
  if (mode !== undefined) s.mode = mode;
  return JSON.stringify(s);
}

/** The pod with only the skip status annotation added. */
export function renderSkipped(pod: Pod, d: Decision): Pod {
  const wanted = structuredClone(pod);
  wanted.metadata = { ...wanted.metadata, annotations: { ...wanted.metadata?.annotations, [ANN.status]: statusValue(d) } };
  return wanted;
}

export function renderInjected(pod: Pod, o: RenderOptions): Pod {
  const wanted = structuredClone(pod);
  const spec = wanted.spec ?? { containers: [] };
  const meta = wanted.metadata ?? {};
  const annotations = { ...meta.annotations };
  const v = o.settings.values;

  const rewrite = annotations['sidecar.istio.io/rewriteAppHTTPProbers'] === 'false' || annotations['sidecar.meshlet.io/rewriteAppHTTPProbers'] === 'false'
    ? { containers: spec.containers, probes: {} }
    : rewriteProbes(spec.containers, v.ports.health);
  const scrape = mergeScrapeAnnotations(annotations, spec.containers, v.ports.prometheus);
  const proxy = proxyContainer({
    settings: o.settings,
    native: o.native,
    appContainers: spec.containers.map((c) => c.name),
    appProbes: rewrite.probes,
    appMetrics: scrape.appMetrics,
  });

  if (o.native) {
    // meshlet-init, then the proxy, then the app's own init containers (which then have a working network).
    spec.initContainers = [initContainer(o.settings), proxy, ...(spec.initContainers ?? [])];
    spec.containers = rewrite.containers;
  } else {
    // Without native sidecars the proxy is not up during init: capture starts after the app's init containers.
    spec.initContainers = [...(spec.initContainers ?? []).filter((c) => c.name !== INIT_CONTAINER), initContainer(o.settings)];
    spec.containers = [proxy, ...rewrite.containers];
  }
  spec.volumes = [...(spec.volumes ?? []), ...sidecarVolumes()];
  // A projected token needs a service account; the ServiceAccount admission plugin would set this same default.
  if (spec.serviceAccountName === undefined && typeof spec.serviceAccount !== 'string') spec.serviceAccountName = 'default';

  if (Object.keys(rewrite.probes).length > 0) annotations[ANN.appProbes] = JSON.stringify(rewrite.probes);
  if (scrape.appMetrics !== null) annotations[ANN.appMetrics] = JSON.stringify(scrape.appMetrics);
  if (scrape.annotations !== null) Object.assign(annotations, scrape.annotations);
  const firstApp = pod.spec?.containers[0]?.name;
  if (annotations[ANN.defaultContainer] === undefined && firstApp !== undefined) annotations[ANN.defaultContainer] = firstApp;
  annotations[ANN.status] = statusValue(o.decision, o.templateVersion, o.native ? 'native' : 'container');

  wanted.metadata = { ...meta, annotations, labels: { ...meta.labels, [TLS_MODE_LABEL.key]: TLS_MODE_LABEL.value } };
  wanted.spec = spec;
  return wanted;
}
