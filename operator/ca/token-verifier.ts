/**
 * Who is calling: a projected service-account token (audience `meshlet`) checked by a real
 * TokenReview in a cluster, or against a token file per workload in local mode
 * (`<dir>/<namespace>/<serviceAccount>.token`). Results are cached briefly so a proxy's
 * long-poll does not cost one TokenReview per request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthenticationV1Api } from '@kubernetes/client-node';

export const TOKEN_AUDIENCE = 'meshlet';

export interface TokenSubject {
  namespace: string;
  serviceAccount: string;
  /** Pod bound to the token, when the apiserver says (bound tokens). */
  podName?: string;
}

export interface TokenVerifier {
  /** The token's subject, or undefined when it is not valid for audience `meshlet`. */
  verify(token: string): Promise<TokenSubject | undefined>;
}

/** `system:serviceaccount:<ns>:<sa>` → subject. */
export function subjectFromUsername(username: string | undefined): TokenSubject | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username ?? '');
  return m === null ? undefined : { namespace: m[1] as string, serviceAccount: m[2] as string };
}

export class TokenReviewVerifier implements TokenVerifier {
  readonly #api: AuthenticationV1Api;
  readonly #cache = new Map<string, { subject: TokenSubject | undefined; until: number }>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  constructor(api: AuthenticationV1Api, opts: { now?: () => number; cacheTtlMs?: number } = {}) {
    this.#api = api;
    this.#now = opts.now ?? Date.now;
    this.#ttlMs = opts.cacheTtlMs ?? 60_000;
  }

  async verify(token: string): Promise<TokenSubject | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.until > this.#now()) return hit.subject;
    const review = await this.#api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [TOKEN_AUDIENCE] } } });
    const st = review.status;
    let subject: TokenSubject | undefined;
    // The apiserver echoes the audiences the token is valid for; require ours explicitly.
    if (st?.authenticated === true && (st.audiences ?? []).includes(TOKEN_AUDIENCE)) {
      subject = subjectFromUsername(st.user?.username);
      const pod = st.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0];
      if (subject !== undefined && pod !== undefined) subject.podName = pod;
    }
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { subject, until: this.#now() + this.#ttlMs });
    return subject;
  }
}

/** Local mode: the token of workload (ns, sa) is the content of `<dir>/<ns>/<sa>.token`. */
export class FileTokenVerifier implements TokenVerifier {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }

  async verify(token: string): Promise<TokenSubject | undefined> {
    const given = createHash('sha256').update(token.trim()).digest();
    let namespaces: string[];
    try {
      namespaces = await readdir(this.#dir);
    } catch {
      return undefined;
    }
    for (const namespace of namespaces) {
      let files: string[];
      try {
        files = await readdir(join(this.#dir, namespace));
      } catch {
        continue;
      }
      for (const f of files) {
        if (!f.endsWith('.token')) continue;
        const want = createHash('sha256').update((await readFile(join(this.#dir, namespace, f), 'utf8')).trim()).digest();
        if (timingSafeEqual(given, want)) return { namespace, serviceAccount: f.slice(0, -'.token'.length) };
      }
    }
    return undefined;
  }
}
