/**
 * Content-addressed memo of service fragments. A fragment depends on the proxy and the
 * World only through what its signature captures: the service and its endpoints (and those
 * of every route destination), whether the proxy shares its namespace, which
 * VirtualServices and DestinationRules apply (names and spec digests), and the proxy's
 * namespace and relevant labels when a route matches on the source. So proxies of different
 * namespaces share fragments, and after a change only the fragments it touched are rebuilt.
 * Being keyed by content, the cache never serves stale output; it only bounds its size.
 */
import { createHash } from 'node:crypto';
import type { MeshConfig, World, WorldService } from '../world/types.ts';
import { stableStringify } from '../world/hash.ts';
import type { Ctx } from './context.ts';
import { destinationRuleFor } from './context.ts';
import { resolveHost } from './hosts.ts';
import { virtualServicesFor } from './virtual-services.ts';
import { buildFragment, type Fragment } from './outbound.ts';

const specDigests = new WeakMap<object, string>();

function digest(spec: object): string {
  let d = specDigests.get(spec);
  if (d === undefined) {
    d = createHash('sha1').update(stableStringify(spec)).digest('base64');
    specDigests.set(spec, d);
  }
  return d;
}

function configKey(c: MeshConfig<object>): string {
  return `${c.meta.namespace}/${c.meta.name}@${digest(c.spec)}`;
}

function drKey(ctx: Ctx, svc: WorldService): string | null {
  const dr = destinationRuleFor(ctx, svc);
  return dr === undefined ? null : dr.ids.map((id) => `${id}@${digest(dr.sources[dr.ids.indexOf(id)] ?? {})}`).join(',');
}

/**
 * What a service contributes to clusters and endpoint sets: the service with its endpoints,
 * and its DestinationRule. (Clusters a route creates for another service are that
 * service's own clusters, which it contributes anyway.)
 */
export function clusterSignature(ctx: Ctx, svc: WorldService): string {
  return `${svc.contentKey}|${drKey(ctx, svc) ?? ''}`;
}

export function fragmentSignature(ctx: Ctx, svc: WorldService, outboundKey: string): string {
  const vss = virtualServicesFor(ctx, svc);
  const dests = new Set<string>();
  let sourceDependent = false;
  for (const vs of vss) {
    for (const r of [...(vs.spec.http ?? []), ...(vs.spec.tcp ?? []), ...(vs.spec.tls ?? [])]) {
      for (const d of r.route ?? []) dests.add(resolveHost(d.destination.host, vs.meta.namespace));
      const http = r as { mirror?: { host: string }; mirrors?: { destination: { host: string } }[] };
      if (http.mirror !== undefined) dests.add(resolveHost(http.mirror.host, vs.meta.namespace));
      for (const m of http.mirrors ?? []) dests.add(resolveHost(m.destination.host, vs.meta.namespace));
      for (const m of r.match ?? []) if (m.sourceLabels !== undefined || m.sourceNamespace !== undefined) sourceDependent = true;
    }
  }
  const destInfo = [...dests].sort().map((h) => {
    const t = ctx.byHost.get(h);
    return t === undefined ? [h] : [h, t.contentKey, drKey(ctx, t)];
  });
  return JSON.stringify([svc.contentKey, svc.meta.namespace === ctx.proxy.namespace, vss.map(configKey), drKey(ctx, svc), destInfo, sourceDependent ? outboundKey : null]);
}

const MAX_ENTRIES = 50_000;
const cache = new Map<string, { frag: Fragment; gen: number }>();
const seenWorlds = new WeakSet<World>();
let generation = 0;

function noteWorld(world: World): void {
  if (seenWorlds.has(world)) return;
  seenWorlds.add(world);
  generation++;
  // Keep what the last two Worlds used; drop older entries once the cache is large.
  if (cache.size > MAX_ENTRIES / 2) for (const [k, v] of cache) if (v.gen < generation - 2) cache.delete(k);
}

/** The fragment of `svc` for this proxy view, and its signature (which determines it). */
export function cachedFragment(ctx: Ctx, svc: WorldService, outboundKey: string): { frag: Fragment; sig: string } {
  noteWorld(ctx.world);
  const sig = fragmentSignature(ctx, svc, outboundKey);
  const hit = cache.get(sig);
  if (hit !== undefined) {
    hit.gen = generation;
    return { frag: hit.frag, sig };
  }
  const frag = buildFragment(ctx, svc);
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(sig, { frag, gen: generation });
  return { frag, sig };
}

/** Empties the memo (tests compare cached and uncached translations). */
export function clearFragmentCache(): void {
  cache.clear();
}
