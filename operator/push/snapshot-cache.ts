/**
 * Snapshots for many proxies of one World: the outbound part (nearly all of a snapshot)
 * is translated and serialized once per outbound key; each proxy's body is a small head
 * (version, identity, security, inbound listeners) followed by that shared tail, kept as
 * one shared Buffer (and one shared gzip member, since concatenated gzip members are one
 * valid gzip stream). The body is byte-identical to JSON.stringify(translate(world, proxy)).
 */
import { gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import type { ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import type { World } from '../world/types.ts';
import { assemble, outboundKey, translateOutbound, type OutboundPart } from '../translate/index.ts';

export interface SharedTail {
  part: OutboundPart;
  buffer: Buffer;
  /** gzip member of `buffer`, made once on first use, off the main thread (libuv pool). */
  gzip(): Promise<Buffer>;
}

export interface BuiltSnapshot {
  snapshot: ProxySnapshot;
  head: string;
  tail: SharedTail;
}

const byWorld = new WeakMap<World, Map<string, SharedTail>>();
const gzipAsync = promisify(gzipCb);

function sharedTail(world: World, proxy: ProxyIdentity): SharedTail {
  let m = byWorld.get(world);
  if (m === undefined) {
    m = new Map();
    byWorld.set(world, m);
  }
  const key = outboundKey(world, proxy);
  let t = m.get(key);
  if (t === undefined) {
    const part = translateOutbound(world, proxy);
    const buffer = Buffer.from(part.tail, 'utf8');
    let gz: Promise<Buffer> | undefined;
    t = { part, buffer, gzip: () => (gz ??= gzipAsync(buffer, { level: 1 })) };
    m.set(key, t);
  }
  return t;
}

export function snapshotFor(world: World, proxy: ProxyIdentity): BuiltSnapshot {
  const tail = sharedTail(world, proxy);
  const snapshot = assemble(world, proxy, tail.part);
  const inbound = JSON.stringify(snapshot.listeners.slice(0, snapshot.listeners.length - tail.part.listeners.length)).slice(1, -1);
  const comma = inbound !== '' && tail.part.listeners.length > 0 ? ',' : '';
  const head = `{"version":${JSON.stringify(snapshot.version)},"proxy":${JSON.stringify(snapshot.proxy)},"security":${JSON.stringify(snapshot.security)},"telemetry":${JSON.stringify(snapshot.telemetry)},"listeners":[${inbound}${comma}`;
  return { snapshot, head, tail };
}

/** The whole body as text (tests, debug). */
export function bodyText(b: { head: string; tail: SharedTail }): string {
  return b.head + b.tail.part.tail;
}
