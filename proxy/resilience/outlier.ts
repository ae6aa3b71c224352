/**
 * Outlier detection (Envoy's passive health checking) as a pure state machine over an
 * injected clock: consecutive 5xx / gateway errors / local-origin failures eject a host for
 * baseEjectionTime × times ejected (capped at max(base, 300 s) as Envoy's max_ejection_time),
 * at most maxEjectionPercent of hosts at once; intervals (evaluated lazily on the next event,
 * no timers to leak) bring ejected hosts back and decay the ejection multiplier.
 */
import type { OutlierDetection } from '../../common/snapshot.ts';
import type { Clock } from '../../common/clock.ts';
import type { ClusterStats } from './stats.ts';

/** Envoy's default max_ejection_time. */
export const MAX_EJECTION_MS = 300_000;

/** What happened to one upstream request, as the detector sees it. */
export type Outcome = { kind: 'status'; status: number } | { kind: 'local'; what: 'connect' | 'reset' | 'timeout' } | { kind: 'connected' };

export interface HostState {
  ejected: boolean;
  ejectedAt: number;
  /** Ejection multiplier (Envoy's num_ejections / eject time backoff). */
  ejections: number;
  lastUnejectedAt: number | undefined;
  c5xx: number;
  cGateway: number;
  cLocal: number;
}

export type EjectReason = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';

export class OutlierDetector<H> {
  private readonly cfg: OutlierDetection;
  private readonly clock: Clock;
  private readonly hosts: readonly H[];
  private readonly state = new Map<H, HostState>();
  private readonly stats: ClusterStats | undefined;
  /** Called whenever the set of ejected hosts changes. */
  onChange: () => void = () => undefined;
  private nextTick: number;
  private active = 0;
  /** Split mode: local-origin failures are counted apart from 5xx (consecutiveLocalOriginFailures > 0). */
  private readonly split: boolean;

  constructor(cfg: OutlierDetection, hosts: readonly H[], clock: Clock, stats?: ClusterStats) {
    this.cfg = cfg;
    this.clock = clock;
    this.hosts = hosts;
    this.stats = stats;
    this.split = cfg.consecutiveLocalOriginFailures > 0;
    for (const h of hosts) this.state.set(h, { ejected: false, ejectedAt: 0, ejections: 0, lastUnejectedAt: undefined, c5xx: 0, cGateway: 0, cLocal: 0 });
    this.nextTick = clock.now() + Math.max(1, cfg.intervalMs);
  }

  hostState(h: H): HostState | undefined {
    return this.state.get(h);
  }

  isEjected(h: H): boolean {
    return this.state.get(h)?.ejected === true;
  }

  get ejectedCount(): number {
    return this.active;
  }

  /** Hosts to balance over: the non-ejected ones, or all of them in panic mode. */
  available(): { hosts: H[]; panic: boolean } {
    const healthy = this.hosts.filter((h) => !this.isEjected(h));
    const total = this.hosts.length;
    const panic = total > 0 && this.cfg.minHealthPercent > 0 && (100 * healthy.length) / total < this.cfg.minHealthPercent;
    return { hosts: panic ? [...this.hosts] : healthy, panic };
  }

  /** Records the outcome of one request to `h`. */
  report(h: H, o: Outcome): void {
    this.tick();
    const s = this.state.get(h);
    if (s === undefined) return;
    let status: number | undefined;
    if (o.kind === 'connected') {
      if (this.split) s.cLocal = 0;
      return;
    }
    if (o.kind === 'local') {
      if (this.split) {
        s.cLocal++;
        if (this.cfg.consecutiveLocalOriginFailures > 0 && s.cLocal >= this.cfg.consecutiveLocalOriginFailures) this.eject(h, s, 'consecutive_local_origin_failure');
        return;
      }
      // Without split mode Envoy maps local failures to 503 (connect/reset) or 504 (timeout).
      status = o.what === 'timeout' ? 504 : 503;
    } else {
      status = o.status;
      // A response means the connection worked (Envoy's LOCAL_ORIGIN_CONNECT_SUCCESS).
      if (this.split) s.cLocal = 0;
    }
    if (status >= 500) {
      s.c5xx++;
      if (status === 502 || status === 503 || status === 504) s.cGateway++;
      else s.cGateway = 0;
      if (this.cfg.consecutiveGatewayErrors > 0 && s.cGateway >= this.cfg.consecutiveGatewayErrors) this.eject(h, s, 'consecutive_gateway_failure');
      else if (this.cfg.consecutive5xxErrors > 0 && s.c5xx >= this.cfg.consecutive5xxErrors) this.eject(h, s, 'consecutive_5xx');
    } else {
      s.c5xx = 0;
      s.cGateway = 0;
    }
  }

  private eject(h: H, s: HostState, reason: EjectReason): void {
    if (s.ejected) return;
    s.c5xx = 0;
    s.cGateway = 0;
    s.cLocal = 0;
    // Envoy: eject only while (ejected + 1) / hosts stays within maxEjectionPercent.
    if ((100 * (this.active + 1)) / this.hosts.length > this.cfg.maxEjectionPercent) {
      if (this.stats !== undefined) this.stats.outlier_detection_ejections_overflow++;
      return;
    }
    s.ejected = true;
    s.ejectedAt = this.clock.now();
    s.ejections++;
    this.active++;
    if (this.stats !== undefined) {
      this.stats.outlier_detection_ejections_enforced_total++;
      this.stats[`outlier_detection_ejections_enforced_${reason}`]++;
      this.stats.outlier_detection_ejections_active = this.active;
    }
    this.onChange();
  }

  /**
   * Carries host states over from the detector of the previous snapshot (same cluster, same
   * settings), so a config push does not forgive ejected hosts. `key` names a host stably.
   */
  adopt(prev: OutlierDetector<H>, key: (h: H) => string): void {
    const old = new Map<string, HostState>();
    for (const [h, st] of prev.state) old.set(key(h), st);
    for (const h of this.hosts) {
      const st = old.get(key(h));
      if (st === undefined) continue;
      this.state.set(h, { ...st });
      if (st.ejected) this.active++;
    }
    this.nextTick = prev.nextTick;
    if (this.stats !== undefined) this.stats.outlier_detection_ejections_active = this.active;
  }

  /** Whether two configs are the same (state carries over only then). */
  sameConfig(cfg: OutlierDetection): boolean {
    const a = this.cfg;
    return a.consecutive5xxErrors === cfg.consecutive5xxErrors && a.consecutiveGatewayErrors === cfg.consecutiveGatewayErrors && a.consecutiveLocalOriginFailures === cfg.consecutiveLocalOriginFailures
      && a.intervalMs === cfg.intervalMs && a.baseEjectionTimeMs === cfg.baseEjectionTimeMs && a.maxEjectionPercent === cfg.maxEjectionPercent && a.minHealthPercent === cfg.minHealthPercent;
  }

  /** How long a host ejected `n` times stays out. */
  ejectionMs(n: number): number {
    const base = this.cfg.baseEjectionTimeMs;
    return Math.min(base * n, Math.max(base, MAX_EJECTION_MS));
  }

  /** Runs every interval boundary that has passed (cheap when none has). */
  tick(): void {
    const now = this.clock.now();
    if (now < this.nextTick) return;
    const interval = Math.max(1, this.cfg.intervalMs);
    // One evaluation covers all missed boundaries (Envoy's timer would have run each; the outcome is the same for ejections).
    this.nextTick = now - ((now - this.nextTick) % interval) + interval;
    let changed = false;
    for (const s of this.state.values()) {
      if (s.ejected) {
        if (now - s.ejectedAt >= this.ejectionMs(s.ejections)) {
          s.ejected = false;
          s.lastUnejectedAt = now;
          this.active--;
          changed = true;
        }
      } else if (s.ejections > 0 && s.lastUnejectedAt !== undefined && now - s.lastUnejectedAt >= this.ejectionMs(s.ejections)) {
        // Healthy for a whole ejection period since it came back: the multiplier decays.
        s.ejections--;
        s.lastUnejectedAt = now;
      }
    }
    if (changed) {
      if (this.stats !== undefined) this.stats.outlier_detection_ejections_active = this.active;
      this.onChange();
    }
  }
}
