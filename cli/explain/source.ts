/**
 * Where the CLI reads proxy snapshots from: a local directory (`--local <dir>`: the World is
 * built and translated in-process, the same pure translate the operator runs), or the
 * operator's debug API (`--operator`, $MESHLET_OPERATOR, default http://127.0.0.1:15014).
 */
import { MeshletError } from '../../common/errors.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';

export interface SnapshotSource {
  /** Where it looked, for error messages. */
  where: string;
  /** Known proxy ids. */
  list(): Promise<string[]>;
  get(id: string): Promise<ProxySnapshot>;
}

export const DEFAULT_OPERATOR = 'http://127.0.0.1:15014';

export function operatorUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { url: string; from: string } {
  if (flag !== undefined) return { url: flag.replace(/\/$/, ''), from: '--operator' };
  if (env.MESHLET_OPERATOR !== undefined && env.MESHLET_OPERATOR !== '') return { url: env.MESHLET_OPERATOR.replace(/\/$/, ''), from: '$MESHLET_OPERATOR' };
  return { url: DEFAULT_OPERATOR, from: 'the default' };
}

async function getJson(url: string, where: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new MeshletError('MESHLET_CLI_OPERATOR_UNREACHABLE', `looked at ${where}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  if (!res.ok) throw new MeshletError('MESHLET_CLI_OPERATOR_UNREACHABLE', `${url} answered ${res.status}`);
  return res.json();
}

export function operatorSource(flag: string | undefined): SnapshotSource {
  const { url, from } = operatorUrl(flag);
  const where = `${url} (${from})`;
  return {
    where,
    async list() {
      const d = (await getJson(`${url}/debug/proxies`, where)) as { proxies: { id: string; connected?: boolean }[] };
      return d.proxies.filter((p) => p.connected !== false).map((p) => p.id).sort();
    },
    async get(id) {
      return (await getJson(`${url}/debug/config_dump?proxy=${encodeURIComponent(id)}`, where)) as ProxySnapshot;
    },
  };
}

export async function localSource(dir: string): Promise<SnapshotSource> {
  const { loadLocalWorld } = await import('../../operator/sources/local-dir.ts');
  const { translate, resolveProxy, parseProxyId } = await import('../../operator/translate/index.ts');
  const { LOCAL_INBOUND_PORT } = await import('../local/plan.ts');
  // A directory is explained as `meshlet local` runs it: meshed endpoints are their sidecar's inbound port.
  const { world } = loadLocalWorld(dir, { localMode: { inboundPort: LOCAL_INBOUND_PORT } });
  return {
    where: `directory ${dir} (--local)`,
    async list() {
      return world.workloads.filter((w) => w.hasSidecar).map((w) => `${w.name}.${w.namespace}`).sort();
    },
    async get(id) {
      const claim = parseProxyId(id);
      if (claim === undefined) throw new MeshletError('MESHLET_CLI_UNKNOWN_PROXY', id);
      return translate(world, resolveProxy(world, claim));
    },
  };
}

/** The snapshot of a known proxy, or an error listing the known ones. */
export async function snapshotOf(src: SnapshotSource, id: string): Promise<ProxySnapshot> {
  const known = await src.list();
  if (!known.includes(id)) {
    throw new MeshletError('MESHLET_CLI_UNKNOWN_PROXY', `"${id}" is not a proxy known to ${src.where}; known proxies: ${known.length === 0 ? '(none)' : known.join(', ')}`);
  }
  return src.get(id);
}

/** Lazily loads every known proxy's snapshot to find the one behind an endpoint address. */
export async function destinationIndex(src: SnapshotSource): Promise<Map<string, ProxySnapshot>> {
  const out = new Map<string, ProxySnapshot>();
  for (const id of await src.list()) {
    const s = await src.get(id);
    if (s.proxy.ip !== '') out.set(s.proxy.ip, s);
  }
  return out;
}

export async function sourceFrom(values: Record<string, unknown>): Promise<SnapshotSource> {
  return typeof values.local === 'string' ? localSource(values.local) : operatorSource(values.operator as string | undefined);
}
