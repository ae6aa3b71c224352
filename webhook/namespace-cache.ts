/**
 * Namespace labels and annotations for the decision, read from the apiserver with a short TTL
 * cache: pods of one namespace come in bursts (a Deployment scaling up), and a label change
 * shows after at most `ttlMs`. Concurrent lookups of one namespace share a single request.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { NamespaceInfo } from './pod-types.ts';

export type NamespaceFetcher = (name: string) => Promise<NamespaceInfo>;

export interface NamespaceCacheOptions {
  fetch: NamespaceFetcher;
  /** Default 2 s. */
  ttlMs?: number;
  now?: () => number;
  /** Entries kept at most; the oldest is dropped first. Default 1000. */
  maxEntries?: number;
  /** A lookup slower than this fails (the pod is refused with a clear code) well inside the apiserver's webhook timeout. Default 3 s. */
  timeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the apiserver in ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function namespaceFetcher(kc: KubeConfig): NamespaceFetcher {
  const api = kc.makeApiClient(CoreV1Api);
  return async (name) => {
    const ns = await api.readNamespace({ name });
    return { name, labels: ns.metadata?.labels ?? {}, annotations: ns.metadata?.annotations ?? {} };
  };
}

export class NamespaceCache {
  private readonly opts: NamespaceCacheOptions;
  private readonly entries = new Map<string, { at: number; value: Promise<NamespaceInfo> }>();

  constructor(opts: NamespaceCacheOptions) {
    this.opts = opts;
  }

  get(name: string): Promise<NamespaceInfo> {
    const now = (this.opts.now ?? Date.now)();
    const hit = this.entries.get(name);
    if (hit !== undefined && now - hit.at < (this.opts.ttlMs ?? 2000)) return hit.value;
    const value = withTimeout(this.opts.fetch(name), this.opts.timeoutMs ?? 3000);
    this.entries.delete(name);
    this.entries.set(name, { at: now, value });
    // A failed lookup is not cached: the next pod asks again.
    value.catch(() => {
      if (this.entries.get(name)?.value === value) this.entries.delete(name);
    });
    if (this.entries.size > (this.opts.maxEntries ?? 1000)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return value;
  }
}
