/**
 * One pod CREATE review in, one AdmissionReview out: decide, render, diff. The only I/O is the
 * namespace lookup passed in (cached by the caller); template values and cluster capability
 * come in as getters so a ConfigMap change or a version read applies to the next pod.
 */
import { MeshletError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { decide } from './decide.ts';
import type { InjectionMetrics } from './metrics.ts';
import { applyOverrides } from './overrides.ts';
import { diff } from './patch.ts';
import type { NamespaceInfo, Pod } from './pod-types.ts';
import { renderInjected, renderSkipped } from './render.ts';
import { allowWithPatch, checkPod, deny, parseReview, reviewOut, type AdmissionReviewOut } from './review.ts';
import { templateVersion, type SidecarValues } from './values.ts';

export interface AdmissionDeps {
  namespace: (name: string) => Promise<NamespaceInfo>;
  values: () => SidecarValues;
  /** True when the apiserver supports native sidecars (≥ 1.29). */
  native: () => boolean;
  metrics: InjectionMetrics;
  log: Logger;
}

/** The wanted pod and its patch for a pod in a known namespace. Exported for golden tests and the bench. */
export function injectPod(pod: Pod, ns: NamespaceInfo, values: SidecarValues, native: boolean): { wanted: Pod; decision: ReturnType<typeof decide> } {
  const decision = decide(pod, ns);
  if (!decision.inject) {
    // Already injected: nothing at all changes, so re-running on our own output is a no-op.
    return { wanted: decision.reason === 'already-injected' ? pod : renderSkipped(pod, decision), decision };
  }
  const settings = applyOverrides(values, pod.metadata?.annotations);
  return { wanted: renderInjected(pod, { settings, native, templateVersion: templateVersion(values), decision }), decision };
}

/** Throws MESHLET_WEBHOOK_REVIEW_MALFORMED for a malformed review; every other outcome is a review. */
export async function handleReview(body: unknown, deps: AdmissionDeps): Promise<AdmissionReviewOut> {
  const req = parseReview(body);
  const isPodCreate = req.kind.kind === 'Pod' && (req.kind.group ?? '') === '' && req.operation === 'CREATE';
  if (!isPodCreate) return reviewOut({ uid: req.uid, allowed: true });
  const pod = checkPod(req.object);
  const nsName = req.namespace ?? pod.metadata?.namespace ?? 'default';
  let ns: NamespaceInfo;
  try {
    ns = await deps.namespace(nsName);
  } catch (err) {
    deps.metrics.count('error', 'namespace-lookup');
    const e = new MeshletError('MESHLET_WEBHOOK_NAMESPACE_LOOKUP', `${nsName}: ${(err as Error).message}`);
    deps.log.error({ code: e.code, namespace: nsName, err: (err as Error).message }, e.message);
    return reviewOut(deny(req.uid, 500, e));
  }
  try {
    const { wanted, decision } = injectPod(pod, ns, deps.values(), deps.native());
    deps.metrics.count(decision.inject ? 'injected' : 'skipped', decision.reason);
    deps.log.debug({ namespace: nsName, pod: pod.metadata?.name ?? pod.metadata?.generateName, ...decision }, 'injection decision');
    return reviewOut(allowWithPatch(req.uid, diff(pod, wanted)));
  } catch (err) {
    if (err instanceof MeshletError && err.code === 'MESHLET_WEBHOOK_BAD_OVERRIDE') {
      deps.metrics.count('denied', 'bad-override');
      return reviewOut(deny(req.uid, 400, err));
    }
    throw err;
  }
}
