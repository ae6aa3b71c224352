/**
 * Raw JSON requests to the apiserver with the kubeconfig's TLS and credentials (as
 * client-node's own Watch does). Raw, so objects look the same from list and watch
 * (the typed clients turn timestamps into Dates).
 */
import { fetch } from 'undici';
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';

export interface KubeResponse {
  status: number;
  body: unknown;
}

export class KubeHttpError extends Error {
  readonly statusCode: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, what: string) {
    const msg = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : `HTTP ${status}`;
    super(`${what}: ${msg}`);
    this.statusCode = status;
    this.body = body;
  }
}

const METHODS: Record<string, HttpMethod> = { GET: HttpMethod.GET, POST: HttpMethod.POST, PUT: HttpMethod.PUT, PATCH: HttpMethod.PATCH, DELETE: HttpMethod.DELETE };

export async function kubeRequest(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType = 'application/json', timeoutMs = 15_000): Promise<KubeResponse> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('kubeconfig has no current cluster');
  const ctx = new RequestContext(`${cluster.server}${path}`, METHODS[method] as HttpMethod);
  await kc.applySecurityAuthentication(ctx);
  const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(ctx.getUrl(), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: ctx.getDispatcher() as never,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON (e.g. a proxy error page): keep the text
  }
  return { status: res.status, body: parsed };
}

/** Like kubeRequest, but throws KubeHttpError on a non-2xx answer. */
export async function kubeJson<T>(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType?: string): Promise<T> {
  const res = await kubeRequest(kc, method, path, body, contentType);
  if (res.status < 200 || res.status > 299) throw new KubeHttpError(res.status, res.body, `${method} ${path}`);
  return res.body as T;
}
