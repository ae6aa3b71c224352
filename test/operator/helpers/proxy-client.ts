/**
 * A scripted proxy speaking the push protocol (DESIGN.md §3) over real HTTPS: long-polls
 * /v1/config, validates each snapshot with the shared validator, ACKs or NACKs it, and
 * records every version it received so tests can wait on what a proxy would see.
 */
import { Agent, request } from 'undici';
import type { ProxySnapshot } from '../../../common/snapshot.ts';
import { validateSnapshot } from '../../../common/snapshot-validate.ts';

export interface ScriptedProxyOptions {
  url: string;
  caPem: string;
  id: string;
  /** Extra query params (sa, labels, ip…). */
  params?: Record<string, string>;
  /** Return an error text to NACK a snapshot. */
  reject?: (s: ProxySnapshot) => string | undefined;
}

export class ScriptedProxy {
  readonly opts: ScriptedProxyOptions;
  readonly received: ProxySnapshot[] = [];
  current: ProxySnapshot | undefined;
  statuses: number[] = [];
  private readonly agent: Agent;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  private pending: { ack?: string; nack?: string; error?: string } = {};

  constructor(opts: ScriptedProxyOptions) {
    this.opts = opts;
    this.agent = new Agent({ connect: { ca: opts.caPem }, bodyTimeout: 0, headersTimeout: 0 });
  }

  start(): this {
    this.loop = this.run();
    return this;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const q = new URLSearchParams({ proxy: this.opts.id, version: this.current?.version ?? '', ...this.opts.params });
      for (const [k, v] of Object.entries(this.pending)) if (v !== undefined) q.set(k, v);
      try {
        const res = await request(`${this.opts.url}/v1/config?${q}`, { dispatcher: this.agent });
        const text = await res.body.text();
        this.statuses.push(res.statusCode);
        failures = 0;
        this.pending = {};
        if (res.statusCode === 200) {
          const v = validateSnapshot(JSON.parse(text));
          const snap = JSON.parse(text) as ProxySnapshot;
          const why = v.ok ? this.opts.reject?.(snap) : `MESHLET_SNAPSHOT_INVALID: ${v.errors[0]?.path}`;
          this.received.push(snap);
          if (why === undefined) {
            this.current = snap;
            this.pending = { ack: snap.version };
          } else this.pending = { nack: snap.version, error: why };
          for (const w of this.waiters.splice(0)) w();
        } else if (res.statusCode !== 304) await new Promise((r) => setTimeout(r, 50));
      } catch {
        if (this.stopped) return;
        // The operator may be restarting: retry, bounded by the test's own timeouts.
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * failures)));
      }
    }
  }

  /** Resolves once a received snapshot satisfies `pred`, or rejects after `timeoutMs`. */
  async waitFor(pred: (s: ProxySnapshot) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<ProxySnapshot> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.current !== undefined && pred(this.current) ? this.current : undefined;
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`proxy ${this.opts.id}: timed out waiting for ${what} (got ${this.received.length} snapshots)`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.agent.destroy().catch(() => undefined);
    await this.loop?.catch(() => undefined);
  }
}

/** Every route (across tables) of a snapshot, with its virtual host name. */
export function routesOf(s: ProxySnapshot): { vhost: string; name: string; clusters: string[]; weights: number[] }[] {
  return s.routes.flatMap((t) =>
    t.virtualHosts.flatMap((vh) =>
      vh.routes.map((r) => ({
        vhost: vh.name,
        name: r.name,
        clusters: r.action.kind === 'forward' ? r.action.destinations.map((d) => d.cluster) : [],
        weights: r.action.kind === 'forward' ? r.action.destinations.map((d) => d.weight) : [],
      })),
    ),
  );
}
