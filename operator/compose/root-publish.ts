/**
 * Publishes the mesh root (ConfigMap `meshlet-ca-root`) when a namespace becomes injected,
 * driven by the World's namespaces (the operator already watches them).
 */
import type { Logger } from '../../common/log.ts';
import type { World } from '../world/types.ts';

/** DESIGN.md §2 injection-on labels (the annotation form is caught by the start-up publish). */
export function injectedNamespaces(world: Pick<World, 'namespaces'>): Set<string> {
  const out = new Set<string>();
  for (const [name, ns] of Object.entries(world.namespaces)) {
    if (ns.labels['sidecar.inject'] === 'true' || ns.labels['istio-injection'] === 'enabled') out.add(name);
  }
  return out;
}

/** Names in `next` not in `prev` (pure). */
export function newlyInjected(prev: ReadonlySet<string>, next: ReadonlySet<string>): string[] {
  return [...next].filter((n) => !prev.has(n)).sort();
}

/** Returns the World listener; it calls `publish` once per batch of newly injected namespaces. */
export function rootPublisher(publish: () => Promise<string[]>, log: Logger, initial: ReadonlySet<string> = new Set()): (w: World) => void {
  let known: ReadonlySet<string> = initial;
  return (world) => {
    const next = injectedNamespaces(world);
    const added = newlyInjected(known, next);
    known = next;
    if (added.length === 0) return;
    publish().then(
      (written) => log.info({ namespaces: added, written }, 'mesh root published to newly injected namespaces'),
      (err: unknown) => log.error({ code: 'MESHLET_COMPOSE_ROOT_PUBLISH', namespaces: added, err: (err as Error).message }, 'could not publish the mesh root'),
    );
  };
}
