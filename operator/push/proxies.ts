/**
 * Every proxy that asked for config: who it is, the snapshot it should have, what was
 * sent, acked or NACKed, and the long-poll requests waiting for a change.
 */
import type { ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import type { World } from '../world/types.ts';
import { resolveProxy, type ProxyClaim } from '../translate/index.ts';
import { snapshotFor, type SharedPiece } from './snapshot-cache.ts';

export type SyncStatus = 'SYNCED' | 'STALE' | 'NACK';

export interface ProxyState {
  id: string;
  claim: ProxyClaim;
  identity: ProxyIdentity;
  snapshot: ProxySnapshot;
  /** Serialized snapshot: a per-proxy head and pieces shared with other proxies. */
  head: string;
  pieces: SharedPiece[];
  worldHash: string;
  sentVersion?: string;
  ackedVersion?: string;
  nack?: { version: string; error: string };
  lastSeen: number;
  /** Time of the first World change not yet acked by this proxy (for convergence time). */
  pendingSince?: number;
  waiters: Set<() => void>;
}

export interface ProxyStatusRow {
  id: string;
  namespace: string;
  workload: string;
  /** Version the operator wants the proxy on. */
  version: string;
  sent?: string;
  acked?: string;
  status: SyncStatus;
  error?: string;
  connected: boolean;
  lastSeenMs: number;
}

export class ProxyRegistry {
  readonly states = new Map<string, ProxyState>();

  /** Registers or refreshes a proxy and brings its snapshot up to the World. */
  touch(claim: ProxyClaim, world: World, now: number): ProxyState {
    const id = `${claim.name}.${claim.namespace}`;
    let s = this.states.get(id);
    if (s === undefined) {
      const identity = resolveProxy(world, claim);
      const { snapshot, head, pieces } = snapshotFor(world, identity);
      s = { id, claim, identity, snapshot, head, pieces, worldHash: world.hash, lastSeen: now, waiters: new Set() };
      this.states.set(id, s);
    } else {
      s.claim = claim;
      s.lastSeen = now;
      this.refresh(s, world, undefined);
    }
    return s;
  }

  /** Recomputes one proxy's snapshot for `world`; true when its version changed. */
  refresh(s: ProxyState, world: World, changeAt: number | undefined): boolean {
    if (s.worldHash === world.hash) return false;
    const identity = resolveProxy(world, s.claim);
    const { snapshot, head, pieces } = snapshotFor(world, identity);
    s.worldHash = world.hash;
    s.identity = identity;
    if (snapshot.version === s.snapshot.version) return false;
    s.snapshot = snapshot;
    s.head = head;
    s.pieces = pieces;
    if (changeAt !== undefined) s.pendingSince ??= changeAt;
    for (const wake of [...s.waiters]) wake();
    return true;
  }

  /** A new World: every proxy's snapshot recomputed; waiting requests of changed ones answered. */
  onWorld(world: World, changeAt: number): string[] {
    const changed: string[] = [];
    for (const s of this.states.values()) if (this.refresh(s, world, changeAt)) changed.push(s.id);
    return changed;
  }

  /** Forgets proxies silent for longer than `idleMs` with no request open. */
  prune(now: number, idleMs: number): void {
    for (const [id, s] of this.states) if (s.waiters.size === 0 && now - s.lastSeen > idleMs) this.states.delete(id);
  }

  connectedCount(now: number, windowMs: number): number {
    let n = 0;
    for (const s of this.states.values()) if (s.waiters.size > 0 || now - s.lastSeen <= windowMs) n++;
    return n;
  }

  rows(now: number, windowMs: number): ProxyStatusRow[] {
    return [...this.states.values()]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((s) => {
        const version = s.snapshot.version;
        const nacked = s.nack !== undefined && s.nack.version === version;
        const status: SyncStatus = nacked ? 'NACK' : s.ackedVersion === version ? 'SYNCED' : 'STALE';
        const row: ProxyStatusRow = { id: s.id, namespace: s.identity.namespace, workload: s.identity.workload, version, status, connected: s.waiters.size > 0 || now - s.lastSeen <= windowMs, lastSeenMs: s.lastSeen };
        if (s.sentVersion !== undefined) row.sent = s.sentVersion;
        if (s.ackedVersion !== undefined) row.acked = s.ackedVersion;
        if (nacked && s.nack !== undefined) row.error = s.nack.error;
        return row;
      });
  }
}
