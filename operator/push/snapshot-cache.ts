/**
 * Snapshots for many proxies of one World. A body is a small per-proxy head (version,
 * identity, security, inbound listeners) followed by two shared pieces: the outbound
 * listeners and routes (one per outbound key) and the clusters and endpoints (one per
 * content, usually the same for every namespace). Each piece is kept as one Buffer and one
 * gzip member (concatenated gzip members are one valid gzip stream), so a push costs a
 * head per proxy. The body is byte-identical to JSON.stringify(translate(world, proxy)).
 */
import { gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import type { ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import type { World } from '../world/types.ts';
import { assemble, outboundKey, translateOutbound, type OutboundPart } from '../translate/index.ts';

export interface SharedPiece {
  text: string;
  buffer: Buffer;
  /** gzip member of `buffer`, made once on first use, off the main thread (libuv pool). */
  gzip(): Promise<Buffer>;
}

export interface BuiltSnapshot {
  snapshot: ProxySnapshot;
  head: string;
  pieces: [SharedPiece, SharedPiece];
}

interface WorldCache {
  parts: Map<string, { part: OutboundPart; routes: SharedPiece }>;
  clusters: Map<string, SharedPiece>;
}

const byWorld = new WeakMap<World, WorldCache>();
const gzipAsync = promisify(gzipCb);

function piece(text: string): SharedPiece {
  const buffer = Buffer.from(text, 'utf8');
  let gz: Promise<Buffer> | undefined;
  return { text, buffer, gzip: () => (gz ??= gzipAsync(buffer, { level: 1 })) };
}

function shared(world: World, proxy: ProxyIdentity): { part: OutboundPart; pieces: [SharedPiece, SharedPiece] } {
  let c = byWorld.get(world);
  if (c === undefined) {
    c = { parts: new Map(), clusters: new Map() };
    byWorld.set(world, c);
  }
  const key = outboundKey(world, proxy);
  let entry = c.parts.get(key);
  if (entry === undefined) {
    const part = translateOutbound(world, proxy);
    entry = { part, routes: piece(part.routesTail) };
    c.parts.set(key, entry);
  }
  let cl = c.clusters.get(entry.part.clustersKey);
  if (cl === undefined) {
    cl = piece(entry.part.clustersTail);
    c.clusters.set(entry.part.clustersKey, cl);
  }
  return { part: entry.part, pieces: [entry.routes, cl] };
}

export function snapshotFor(world: World, proxy: ProxyIdentity): BuiltSnapshot {
  const { part, pieces } = shared(world, proxy);
  const snapshot = assemble(world, proxy, part);
  const inbound = JSON.stringify(snapshot.listeners.slice(0, snapshot.listeners.length - part.listeners.length)).slice(1, -1);
  const comma = inbound !== '' && part.listeners.length > 0 ? ',' : '';
  const head = `{"version":${JSON.stringify(snapshot.version)},"proxy":${JSON.stringify(snapshot.proxy)},"security":${JSON.stringify(snapshot.security)},"telemetry":${JSON.stringify(snapshot.telemetry)},"listeners":[${inbound}${comma}`;
  return { snapshot, head, pieces };
}

/** The whole body as text (tests, debug). */
export function bodyText(b: { head: string; pieces: SharedPiece[] }): string {
  return b.head + b.pieces.map((p) => p.text).join('');
}
