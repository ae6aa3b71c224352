/**
 * What the graph page's side panel shows besides metrics, from the operator's World and its
 * connected proxies: the VirtualServices / DestinationRules / AuthorizationPolicies that
 * apply to a node or an edge (with their YAML), the configured traffic split per subset,
 * `analyze` findings and NACKed proxies (node badges), and for an edge the `explain` of a
 * sample request from a caller's proxy. `analyze` and `explain` live in the CLI layer and are
 * passed in by whoever starts the operator (they are pure functions over the World and a
 * proxy snapshot; explain uses the proxy's own matcher). Read-only.
 */
import { stringify } from 'yaml';
import type { ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import type { MeshConfig, World } from '../world/types.ts';

export interface FindingLike {
  code: string;
  level: string;
  object: { kind: string; namespace: string; name: string };
  path?: string;
  message: string;
}

export interface ExplainLike {
  outcome: string;
  route?: { name: string };
  reply?: string;
  destinations: { cluster: string; subset?: string; percent: number }[];
}

/** Functions the CLI layer provides (see cli/graph/ui-extras.ts). */
export interface UiExtras {
  analyze?: (world: World) => FindingLike[];
  explain?: (snapshot: ProxySnapshot, request: { url: string; method?: string; headers?: Record<string, string> }, lookup: (ip: string) => ProxySnapshot | undefined) => ExplainLike;
  /** Jaeger UI base URL (chart value tracing.url); edges link to their traces there. */
  tracingUrl?: string;
}

export interface InspectCore {
  world: World;
  proxies: { states: Map<string, { identity: ProxyIdentity; snapshot: ProxySnapshot; nack?: { version: string; error: string } }> };
}

export interface ConfigRef {
  kind: string;
  namespace: string;
  name: string;
  yamlUrl: string;
}

export interface ConfiguredSplit {
  host: string;
  route: string;
  /** subset (or host when no subset) → weight percent, and the version label the subset selects. */
  destinations: { subset: string; version?: string; weight: number }[];
}

export interface Details {
  config: ConfigRef[];
  configured: ConfiguredSplit[];
  findings: FindingLike[];
  nacks: { proxy: string; error: string }[];
  explain?: { proxy: string; url: string; result: ExplainLike } | { error: string };
  traces?: string;
}

export interface Badges {
  findings: number;
  nacks: number;
}

/** `app:<ns>/<name>` → its namespace and app name. */
export function parseAppId(id: string): { namespace: string; app: string } | undefined {
  const m = /^app:([^/]+)\/(.+)$/.exec(id);
  return m === null ? undefined : { namespace: m[1]!, app: m[2]! };
}

const fqdn = (host: string, ns: string): string => (host.includes('.') ? host : `${host}.${ns}.svc.cluster.local`);

function hostMatches(pattern: string, ns: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  const p = fqdn(pattern, ns);
  return p === host || (p.endsWith('.svc.cluster.local') === false && `${p}.svc.cluster.local` === host);
}

const selects = (sel: Record<string, string> | undefined, labels: Record<string, string>): boolean => sel === undefined || Object.entries(sel).every(([k, v]) => labels[k] === v);

export class Inspector {
  readonly #core: InspectCore;
  readonly #extras: UiExtras;
  #findings: { hash: string; list: FindingLike[] } | undefined;

  constructor(core: InspectCore, extras: UiExtras = {}) {
    this.#core = core;
    this.#extras = extras;
  }

  get tracingUrl(): string | undefined {
    return this.#extras.tracingUrl;
  }

  /** Labels of the app's workloads (from the World). */
  #appLabels(ns: string, app: string): Record<string, string>[] {
    return this.#core.world.workloads.filter((w) => w.namespace === ns && (w.labels.app === app || w.workloadName === app)).map((w) => w.labels);
  }

  /** Hosts of the services that select the app. */
  #appHosts(ns: string, app: string): string[] {
    const labels = this.#appLabels(ns, app);
    return this.#core.world.services.filter((s) => s.meta.namespace === ns && s.selector !== undefined && labels.some((l) => selects(s.selector, l))).map((s) => s.hostname);
  }

  #configFor(hosts: string[], dst: { namespace: string; app: string } | undefined): MeshConfig<unknown>[] {
    const w = this.#core.world;
    const out: MeshConfig<unknown>[] = [];
    for (const vs of w.virtualServices) if ((vs.spec.hosts ?? []).some((p) => hosts.some((h) => hostMatches(p, vs.meta.namespace, h)))) out.push(vs);
    for (const dr of w.destinationRules) if (dr.spec.host !== undefined && hosts.some((h) => hostMatches(dr.spec.host!, dr.meta.namespace, h))) out.push(dr);
    if (dst !== undefined) {
      const labels = this.#appLabels(dst.namespace, dst.app);
      for (const ap of w.authorizationPolicies) {
        if (ap.meta.namespace !== dst.namespace && ap.meta.namespace !== w.rootNamespace) continue;
        const sel = ap.spec.selector?.matchLabels;
        if (labels.length === 0 ? sel === undefined : labels.some((l) => selects(sel, l))) out.push(ap);
      }
    }
    return out;
  }

  #findingsAll(): FindingLike[] {
    const w = this.#core.world;
    if (this.#extras.analyze === undefined) return [];
    if (this.#findings?.hash !== w.hash) this.#findings = { hash: w.hash, list: this.#extras.analyze(w) };
    return this.#findings.list;
  }

  #nodeFacts(id: string): { config: MeshConfig<unknown>[]; findings: FindingLike[]; nacks: { proxy: string; error: string }[]; hosts: string[] } {
    const a = parseAppId(id);
    if (a === undefined) return { config: [], findings: [], nacks: [], hosts: [] };
    const hosts = this.#appHosts(a.namespace, a.app);
    const config = this.#configFor(hosts, a);
    // Policies aimed at the app by its `app` label count even when the rest of their selector matches nothing (that is often the finding).
    const w = this.#core.world;
    const aimed = [...w.authorizationPolicies, ...w.peerAuthentications].filter((c) => c.meta.namespace === a.namespace && (c.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels?.app === a.app);
    const refs = new Set([...config, ...aimed].map((c) => `${c.kind}/${c.meta.namespace}/${c.meta.name}`));
    const findings = this.#findingsAll().filter((f) => refs.has(`${f.object.kind}/${f.object.namespace}/${f.object.name}`) || (f.object.namespace === a.namespace && f.object.name === a.app));
    const nacks: { proxy: string; error: string }[] = [];
    for (const [pid, s] of this.#core.proxies.states) {
      if (s.nack !== undefined && s.identity.namespace === a.namespace && (s.identity.labels.app === a.app || s.identity.workload === a.app)) nacks.push({ proxy: pid, error: s.nack.error });
    }
    return { config, findings, nacks, hosts };
  }

  badges(nodeIds: readonly string[]): Record<string, Badges> {
    const out: Record<string, Badges> = {};
    for (const id of nodeIds) {
      const f = this.#nodeFacts(id);
      if (f.findings.length > 0 || f.nacks.length > 0) out[id] = { findings: f.findings.length, nacks: f.nacks.length };
    }
    return out;
  }

  node(id: string): Details {
    const f = this.#nodeFacts(id);
    return { config: f.config.map(ref), configured: this.#configured(f.hosts, f.config), findings: f.findings, nacks: f.nacks };
  }

  edge(source: string, target: string, hosts: string[]): Details {
    const dst = parseAppId(target);
    const config = this.#configFor(hosts, dst);
    const facts = this.#nodeFacts(target);
    const d: Details = { config: config.map(ref), configured: this.#configured(hosts, config), findings: facts.findings, nacks: facts.nacks };
    const ex = this.#explain(source, hosts);
    if (ex !== undefined) d.explain = ex;
    if (this.#extras.tracingUrl !== undefined) {
      const src = parseAppId(source);
      const svc = dst?.app ?? target;
      d.traces = `${this.#extras.tracingUrl.replace(/\/$/, '')}/search?service=${encodeURIComponent(src === undefined ? svc : `${src.app}.${src.namespace}`)}&tags=${encodeURIComponent(JSON.stringify({ upstream_cluster: `outbound|${this.#portOf(hosts[0])}||${hosts[0] ?? ''}` }))}`;
    }
    return d;
  }

  #portOf(host: string | undefined): number {
    return this.#core.world.services.find((s) => s.hostname === host)?.ports[0]?.port ?? 80;
  }

  #configured(hosts: string[], config: MeshConfig<unknown>[]): ConfiguredSplit[] {
    const out: ConfiguredSplit[] = [];
    const drs = config.filter((c) => c.kind === 'DestinationRule') as MeshConfig<{ host?: string; subsets?: { name: string; labels?: Record<string, string> }[] }>[];
    for (const vs of config.filter((c) => c.kind === 'VirtualService') as MeshConfig<{ http?: { name?: string; route?: { destination: { host: string; subset?: string }; weight?: number }[] }[] }>[]) {
      (vs.spec.http ?? []).forEach((r, i) => {
        const routes = r.route ?? [];
        const total = routes.reduce((x, d) => x + (d.weight ?? (routes.length === 1 ? 100 : 0)), 0) || 100;
        const destinations = routes.map((d) => {
          const host = fqdn(d.destination.host, vs.meta.namespace);
          const subset = d.destination.subset;
          const version = subset === undefined ? undefined : drs.find((dr) => dr.spec.host !== undefined && fqdn(dr.spec.host, dr.meta.namespace) === host)?.spec.subsets?.find((s) => s.name === subset)?.labels?.version;
          return { subset: subset ?? host, ...(version === undefined ? {} : { version }), weight: Math.round((100 * (d.weight ?? (routes.length === 1 ? 100 : 0))) / total) };
        });
        out.push({ host: hosts[0] ?? '', route: r.name ?? `${vs.meta.name}#${i}`, destinations });
      });
    }
    return out;
  }

  #explain(source: string, hosts: string[]): Details['explain'] {
    const fn = this.#extras.explain;
    const src = parseAppId(source);
    const host = hosts[0];
    if (fn === undefined || src === undefined || host === undefined) return undefined;
    const states = [...this.#core.proxies.states.values()];
    const caller = states.filter((s) => s.identity.namespace === src.namespace && (s.identity.labels.app === src.app || s.identity.workload === src.app)).sort((a, b) => a.identity.id.localeCompare(b.identity.id))[0];
    if (caller === undefined) return { error: `no connected proxy of ${src.app}.${src.namespace} to explain from` };
    const url = `http://${host}:${this.#portOf(host)}/`;
    const byIp = new Map(states.map((s) => [s.identity.ip, s.snapshot]));
    try {
      return { proxy: caller.identity.id, url, result: fn(caller.snapshot, { url }, (ip) => byIp.get(ip)) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  /** The object as YAML, or undefined when the World has no such object. */
  yaml(kind: string, namespace: string, name: string): string | undefined {
    const w = this.#core.world;
    const all: MeshConfig<unknown>[] = [...w.virtualServices, ...w.destinationRules, ...w.authorizationPolicies, ...w.peerAuthentications];
    const c = all.find((x) => x.kind === kind && x.meta.namespace === namespace && x.meta.name === name);
    if (c === undefined) return undefined;
    return stringify({ kind: c.kind, metadata: { name: c.meta.name, namespace: c.meta.namespace, ...(Object.keys(c.meta.labels).length > 0 ? { labels: c.meta.labels } : {}) }, spec: c.spec });
  }
}

function ref(c: MeshConfig<unknown>): ConfigRef {
  return { kind: c.kind, namespace: c.meta.namespace, name: c.meta.name, yamlUrl: `/ui/yaml?kind=${encodeURIComponent(c.kind)}&namespace=${encodeURIComponent(c.meta.namespace)}&name=${encodeURIComponent(c.meta.name)}` };
}
