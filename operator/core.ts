/**
 * The operator's core, independent of where objects come from and how proxies connect:
 * store changes are debounced into one new immutable World, every known proxy's snapshot
 * is recomputed, and long-poll requests of proxies whose snapshot changed are answered.
 */
import type { MeshTelemetryConfig } from './translate/telemetry-settings.ts';
import type { Logger } from '../common/log.ts';
import { Store, type StoreChange } from './store/store.ts';
import { Debouncer } from './store/debounce.ts';
import { systemClock, type Clock } from '../common/clock.ts';
import { buildWorld } from './world/build.ts';
import type { World } from './world/types.ts';
import { ProxyRegistry, type ProxyStatusRow } from './push/proxies.ts';
import type { SharedPiece } from './push/snapshot-cache.ts';
import type { ProxyClaim } from './translate/index.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';
import { StaleReporter } from './store/stale-log.ts';
import type { ReadinessReport } from './kube/readiness.ts';
import { waitForWake } from './push/wake.ts';
import { JwksResolver } from './jwks/resolver.ts';

export interface CoreOptions {
  log: Logger;
  store?: Store;
  timers?: Clock;
  metrics?: OperatorMetrics;
  rootNamespace?: string;
  /** Longest a config request is held before 304 (30 s). */
  holdMs?: number;
  debounceQuietMs?: number;
  debounceMaxMs?: number;
  /** Mesh-wide telemetry settings carried into every World. */
  meshTelemetry?: MeshTelemetryConfig;
  /** `meshlet local`: meshed endpoints are their sidecar's inbound port (carried in every World). */
  localMode?: { inboundPort: number };
  /** SPIFFE trust domain carried into every World (translation's identities and policies). */
  trustDomain?: string;
  /** How often jwksUri keys are fetched again (20 min); `fetch` is injectable for tests. */
  jwks?: { refreshMs?: number; fetch?: typeof fetch };
}

export interface ConfigParams {
  version?: string;
  ack?: string;
  nack?: string;
  error?: string;
}

export type ConfigAnswer = { status: 200; version: string; head: string; pieces: SharedPiece[] } | { status: 304 };

export class OperatorCore {
  readonly store: Store;
  readonly metrics: OperatorMetrics;
  readonly proxies = new ProxyRegistry();
  readonly log: Logger;
  private readonly timers: Clock;
  private readonly debouncer: Debouncer;
  private readonly holdMs: number;
  private readonly rootNamespace: string | undefined;
  private readonly meshTelemetry: MeshTelemetryConfig | undefined;
  private readonly localMode: { inboundPort: number } | undefined;
  private readonly trustDomain: string | undefined;
  private readonly worldListeners: ((w: World) => void)[] = [];
  /** The RequestAuthentications' fetched keys; a change rebuilds the World. */
  readonly jwks: JwksResolver;
  private current: World;
  private closed = false;
  /** While gated no World is built and no config is served: the sources' view is partial. */
  private gated = false;
  private readiness: () => ReadinessReport = () => ({ ready: true, pending: [], missing: [] });
  private readonly readyWaiters = new Set<() => void>();
  /** World changes not yet ACKed by every proxy they changed (for apply → last ACK). */
  private rounds: { at: number; waiting: Set<string> }[] = [];

  constructor(opts: CoreOptions) {
    this.log = opts.log;
    this.store = opts.store ?? new Store();
    this.timers = opts.timers ?? systemClock;
    this.metrics = opts.metrics ?? createOperatorMetrics();
    this.holdMs = opts.holdMs ?? 30_000;
    this.rootNamespace = opts.rootNamespace;
    this.meshTelemetry = opts.meshTelemetry;
    this.localMode = opts.localMode;
    this.trustDomain = opts.trustDomain;
    this.jwks = new JwksResolver({ log: this.log, timers: this.timers, onChange: () => this.debouncer.trigger(), ...(opts.jwks?.refreshMs === undefined ? {} : { refreshMs: opts.jwks.refreshMs }), ...(opts.jwks?.fetch === undefined ? {} : { fetch: opts.jwks.fetch }) });
    this.current = this.build();
    this.debouncer = new Debouncer((first) => this.rebuild(first), { timers: this.timers, quietMs: opts.debounceQuietMs ?? 100, maxMs: opts.debounceMaxMs ?? 1000 });
    const stale = new StaleReporter(this.store, this.log);
    this.store.onChange((c) => {
      stale.observe([...c.content, ...c.status]);
      this.onStoreChange(c);
    });
  }

  get world(): World {
    return this.current;
  }

  onWorld(fn: (w: World) => void): void {
    this.worldListeners.push(fn);
  }

  private build(): World {
    return buildWorld(this.store.acceptedObjects(), { fingerprint: this.store.fingerprint(), jwks: this.jwks.entries(), ...(this.rootNamespace === undefined ? {} : { rootNamespace: this.rootNamespace }), ...(this.meshTelemetry === undefined ? {} : { meshTelemetry: this.meshTelemetry }), ...(this.localMode === undefined ? {} : { localMode: this.localMode }), ...(this.trustDomain === undefined ? {} : { trustDomain: this.trustDomain }) });
  }

  private onStoreChange(c: StoreChange): void {
    if (c.content.length > 0) this.debouncer.trigger();
    const byKind = new Map<string, number>();
    for (const e of this.store.invalid()) byKind.set(e.object.kind, (byKind.get(e.object.kind) ?? 0) + 1);
    this.metrics.invalidObjects.reset();
    for (const [kind, n] of byKind) this.metrics.invalidObjects.set({ kind }, n);
  }

  /** Holds every config request until open(): `report` says what the sources still wait for. */
  gate(report: () => ReadinessReport): void {
    this.gated = true;
    this.readiness = report;
  }

  /** The sources hold a whole view: build the World now and answer the requests held meanwhile. */
  open(): void {
    if (!this.gated) return;
    this.gated = false;
    this.rebuild(this.timers.now());
    for (const w of [...this.readyWaiters]) w();
  }

  readinessReport(): ReadinessReport {
    return { ...this.readiness(), ready: !this.gated };
  }

  /**
   * Resolves true once config may be served; false when the hold time passed (or the caller
   * left) first, in which case the caller answers 304 and the proxy keeps its current config.
   */
  async whenReady(signal?: AbortSignal): Promise<boolean> {
    if (!this.gated) return true;
    await waitForWake(this.readyWaiters, this.holdMs, signal, this.timers);
    return !this.gated && signal?.aborted !== true;
  }

  /** Builds the World now if changes are pending (tests, shutdown). */
  flush(): void {
    this.debouncer.flush();
  }

  private rebuild(firstChangeAt: number): void {
    if (this.closed || this.gated) return;
    const world = this.build();
    if (world.hash === this.current.hash) return;
    this.current = world;
    this.jwks.observe(world);
    this.metrics.services.set(world.services.length);
    this.metrics.virtualServices.set(world.virtualServices.length);
    const t0 = performance.now();
    const changed = this.proxies.onWorld(world, firstChangeAt);
    this.metrics.pushTime.observe((performance.now() - t0) / 1000);
    if (changed.length > 0) {
      this.rounds.push({ at: firstChangeAt, waiting: new Set(changed) });
      // Proxies that never come back must not hold rounds forever.
      if (this.rounds.length > 100) this.rounds.shift();
    }
    this.log.debug({ world: world.hash, proxiesChanged: changed.length }, 'world rebuilt');
    this.proxies.prune(this.timers.now(), 10 * 60_000);
    for (const l of this.worldListeners) l(world);
  }

  /** One config request of the push protocol (DESIGN.md §3), after authentication. */
  async config(claim: ProxyClaim, p: ConfigParams, signal?: AbortSignal): Promise<ConfigAnswer> {
    if (!(await this.whenReady(signal))) return { status: 304 };
    const now = this.timers.now();
    const s = this.proxies.touch(claim, this.current, now);
    // A proxy reconnecting on the version it runs (after an operator restart) sends no ack and
    // gets 304: the version it reports is its ack, or it would show STALE forever.
    const ack = p.ack ?? (p.version !== undefined && p.version === s.snapshot.version && s.ackedVersion !== p.version && s.nack?.version !== p.version ? p.version : undefined);
    if (ack !== undefined) {
      s.ackedVersion = ack;
      if (s.nack !== undefined && s.nack.version !== ack) s.nack = undefined;
      if (ack === s.snapshot.version && s.pendingSince !== undefined) {
        this.metrics.convergence.observe(Math.max(0, now - s.pendingSince) / 1000);
        s.pendingSince = undefined;
      }
      if (ack === s.snapshot.version) this.ackedAll(s.id, now);
    }
    if (p.nack !== undefined) {
      const error = p.error ?? 'unknown error';
      if (s.nack?.version !== p.nack) {
        this.metrics.rejects.inc({ type: 'snapshot' });
        this.log.warn({ code: 'MESHLET_OPERATOR_PROXY_NACK', proxy: s.id, version: p.nack, error }, `proxy ${s.id} rejected config ${p.nack}: ${error}`);
      }
      s.nack = { version: p.nack, error };
    }
    // A NACKed version is not sent again: the proxy waits for the next change (as istiod does).
    const wants = (): boolean => s.snapshot.version !== p.version && s.nack?.version !== s.snapshot.version;
    if (!wants()) {
      const woken = waitForWake(s.waiters, this.holdMs, signal, this.timers);
      this.updateConnected();
      await woken;
      s.lastSeen = this.timers.now();
      this.updateConnected();
      if (!wants() || signal?.aborted === true) return { status: 304 };
    }
    s.sentVersion = s.snapshot.version;
    this.metrics.pushes.inc({ type: 'snapshot' });
    return { status: 200, version: s.snapshot.version, head: s.head, pieces: s.pieces };
  }

  private ackedAll(id: string, now: number): void {
    for (const r of this.rounds) {
      if (r.waiting.delete(id) && r.waiting.size === 0) this.metrics.allAcked.observe(Math.max(0, now - r.at) / 1000);
    }
    this.rounds = this.rounds.filter((r) => r.waiting.size > 0);
  }

  private connectedWindowMs(): number {
    return this.holdMs + 5000;
  }

  updateConnected(): void {
    this.metrics.connected.set(this.proxies.connectedCount(this.timers.now(), this.connectedWindowMs()));
  }

  proxyStatus(): ProxyStatusRow[] {
    return this.proxies.rows(this.timers.now(), this.connectedWindowMs());
  }

  close(): void {
    this.closed = true;
    this.jwks.close();
    this.debouncer.cancel();
    for (const w of [...this.readyWaiters]) w();
    for (const s of this.proxies.states.values()) for (const w of [...s.waiters]) w();
  }
}
