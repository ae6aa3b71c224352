/**
 * Snapshots for many proxies of one World: the outbound part is translated and serialized
 * once per outbound key, and each proxy's JSON body is spliced from those strings, so 200
 * proxies of a namespace cost one translation. The body is byte-identical to
 * JSON.stringify(translate(world, proxy)).
 */
import type { ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import type { World } from '../world/types.ts';
import { assemble, outboundKey, translateOutbound, type OutboundPart } from '../translate/index.ts';

interface Cached {
  part: OutboundPart;
  listeners: string;
  routes: string;
  clusters: string;
  endpoints: string;
}

const byWorld = new WeakMap<World, Map<string, Cached>>();

function cachedPart(world: World, proxy: ProxyIdentity): Cached {
  let m = byWorld.get(world);
  if (m === undefined) {
    m = new Map();
    byWorld.set(world, m);
  }
  const key = outboundKey(world, proxy);
  let c = m.get(key);
  if (c === undefined) {
    const part = translateOutbound(world, proxy);
    c = { part, listeners: JSON.stringify(part.listeners).slice(1, -1), routes: JSON.stringify(part.routes), clusters: JSON.stringify(part.clusters), endpoints: JSON.stringify(part.endpoints) };
    m.set(key, c);
  }
  return c;
}

export function snapshotFor(world: World, proxy: ProxyIdentity): { snapshot: ProxySnapshot; body: string } {
  const c = cachedPart(world, proxy);
  const snapshot = assemble(world, proxy, c.part);
  const inbound = snapshot.listeners.slice(c.part.listeners.length);
  const inboundJson = JSON.stringify(inbound).slice(1, -1);
  const listeners = `[${c.listeners}${c.listeners !== '' && inboundJson !== '' ? ',' : ''}${inboundJson}]`;
  const body = `{"version":${JSON.stringify(snapshot.version)},"proxy":${JSON.stringify(snapshot.proxy)},"listeners":${listeners},"routes":${c.routes},"clusters":${c.clusters},"endpoints":${c.endpoints},"security":${JSON.stringify(snapshot.security)},"telemetry":${JSON.stringify(snapshot.telemetry)}}`;
  return { snapshot, body };
}
