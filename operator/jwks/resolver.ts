/**
 * The operator's copy of every JSON Web Key Set the RequestAuthentications point to
 * (`jwksUri`, or the issuer's OpenID discovery document when neither jwks nor jwksUri is
 * given). Fetched here, not by the proxies, so sidecars need no egress to the issuer: each
 * World carries the keys and every proxy gets them in its snapshot. A URL is fetched when it
 * first appears, then every `refreshMs` (default 20 min, as istiod); a failed refresh keeps
 * the last good keys (logged, MESHLET_OPERATOR_JWKS_FETCH), a URL never fetched successfully
 * carries its error so proxies refuse tokens of that issuer with 401. `onChange` fires when
 * some URL's keys changed, so the core rebuilds the World (and pushes) only then.
 */
import type { Logger } from '../../common/log.ts';
import type { Clock as Timers } from '../../common/clock.ts';
import type { JwksEntry, World } from '../world/types.ts';
import { jwksSourceOf } from '../translate/request-authn.ts';
import { parseDurationMs } from '../translate/duration.ts';

export const DEFAULT_JWKS_REFRESH_MS = 20 * 60_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** A JWKS larger than this is refused (a key set is a few KiB). */
const MAX_BYTES = 1 << 20;

export interface JwksResolverOptions {
  log: Logger;
  timers: Timers;
  onChange: () => void;
  refreshMs?: number;
  /** Injected for tests; global fetch by default. */
  fetch?: typeof fetch;
}

interface State {
  entry: JwksEntry;
  timeoutMs: number;
  inFlight: boolean;
}

async function getJson(f: typeof fetch, url: string, timeoutMs: number): Promise<unknown> {
  const res = await f(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'follow' });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_BYTES) throw new Error(`GET ${url}: body larger than ${MAX_BYTES} bytes`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`GET ${url}: body is not JSON`);
  }
}

async function fetchKeys(f: typeof fetch, source: string, timeoutMs: number): Promise<{ keys: Record<string, unknown>[] }> {
  let url = source;
  if (source.endsWith('/.well-known/openid-configuration')) {
    const doc = (await getJson(f, source, timeoutMs)) as { jwks_uri?: unknown };
    if (typeof doc.jwks_uri !== 'string') throw new Error(`${source} names no jwks_uri`);
    url = doc.jwks_uri;
  }
  const set = (await getJson(f, url, timeoutMs)) as { keys?: unknown };
  if (!Array.isArray(set.keys) || !set.keys.every((k) => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string')) {
    throw new Error(`${url} is not a JSON Web Key Set`);
  }
  // Only public members travel to the proxies: a published private key must go no further.
  const keys = (set.keys as Record<string, unknown>[]).filter((k) => k.kty !== 'oct').map((k) => {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = k;
    return pub;
  });
  return { keys };
}

export class JwksResolver {
  readonly #o: JwksResolverOptions;
  readonly #refreshMs: number;
  readonly #fetch: typeof fetch;
  readonly #states = new Map<string, State>();
  #timer: unknown;
  #closed = false;

  constructor(o: JwksResolverOptions) {
    this.#o = o;
    this.#refreshMs = o.refreshMs ?? DEFAULT_JWKS_REFRESH_MS;
    this.#fetch = o.fetch ?? fetch;
  }

  /** What the next World carries. */
  entries(): Record<string, JwksEntry> {
    const out: Record<string, JwksEntry> = {};
    for (const [url, s] of this.#states) out[url] = s.entry;
    return out;
  }

  /** Follows the RequestAuthentications of a new World: fetches new sources, forgets unused ones. */
  observe(world: World): void {
    const wanted = new Map<string, number>();
    for (const ra of world.requestAuthentications) {
      for (const r of ra.spec.jwtRules ?? []) {
        const src = jwksSourceOf(r);
        if (src === undefined) continue;
        const t = r.timeout === undefined ? undefined : parseDurationMs(r.timeout);
        wanted.set(src, Math.max(wanted.get(src) ?? 0, t ?? DEFAULT_TIMEOUT_MS));
      }
    }
    let dropped = false;
    for (const url of [...this.#states.keys()]) {
      if (!wanted.has(url)) {
        this.#states.delete(url);
        dropped = true;
      }
    }
    for (const [url, timeoutMs] of wanted) {
      const s = this.#states.get(url);
      if (s !== undefined) {
        s.timeoutMs = timeoutMs;
        continue;
      }
      this.#states.set(url, { entry: { error: `keys of ${url} not fetched yet` }, timeoutMs, inFlight: false });
      void this.#refresh(url);
    }
    if (dropped) this.#o.onChange();
    if (this.#states.size > 0 && this.#timer === undefined) this.#schedule();
  }

  /** Fetches every source now (tests; also what the timer does). Resolves when all are done. */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.#states.keys()].map((u) => this.#refresh(u)));
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined;
      if (this.#states.size === 0) return;
      void this.refreshAll().finally(() => this.#schedule());
    }, this.#refreshMs);
  }

  async #refresh(url: string): Promise<void> {
    const s = this.#states.get(url);
    if (s === undefined || s.inFlight || this.#closed) return;
    s.inFlight = true;
    let next: JwksEntry;
    try {
      next = { keys: await fetchKeys(this.#fetch, url, s.timeoutMs) };
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `GET ${url} timed out after ${s.timeoutMs} ms` : (err as Error).message;
      this.#o.log.warn({ code: 'MESHLET_OPERATOR_JWKS_FETCH', url, err: reason }, `cannot fetch JWKS ${url}: ${reason}${s.entry.keys !== undefined ? ' (keeping the last good keys)' : ''}`);
      // The last good keys stay: an issuer's outage must not lock every user out.
      next = s.entry.keys !== undefined ? s.entry : { error: reason };
    } finally {
      s.inFlight = false;
    }
    if (this.#closed || this.#states.get(url) !== s) return;
    if (JSON.stringify(next) === JSON.stringify(s.entry)) return;
    s.entry = next;
    if (next.keys !== undefined) this.#o.log.info({ url, keys: next.keys.keys.length }, `JWKS ${url} fetched: ${next.keys.keys.length} key(s)`);
    this.#o.onChange();
  }
}
