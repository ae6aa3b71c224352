/** The real transport of the config client: undici over TLS with the mesh CA (or plain http in tests). */
import { readFileSync } from 'node:fs';
import { Agent } from '../../common/undici-lite.ts';
import type { FetchResult } from './client.ts';

export interface TransportOptions {
  /** PEM file of the CA that signed the operator's serving certificate. */
  caFile?: string;
  /** Skip server certificate checks (tests only). */
  insecure?: boolean;
  /** File holding the projected service-account token (audience `meshlet`), re-read per request. */
  tokenFile?: string;
  /** Longer than the operator's 30 s hold. */
  timeoutMs?: number;
}

export function createTransport(o: TransportOptions): { fetch: (url: string, signal: AbortSignal) => Promise<FetchResult>; close: () => Promise<void> } {
  const ca = o.caFile === undefined ? undefined : readFileSync(o.caFile, 'utf8');
  const timeout = o.timeoutMs ?? 45_000;
  const agent = new Agent({ connect: { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: o.insecure !== true }, headersTimeout: timeout, bodyTimeout: timeout });
  return {
    async fetch(url, signal) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (o.tokenFile !== undefined) {
        try {
          headers.authorization = `Bearer ${readFileSync(o.tokenFile, 'utf8').trim()}`;
        } catch {
          // No token (local mode): the operator decides whether that is acceptable.
        }
      }
      const u = new URL(url);
      const res = await agent.request({ origin: u.origin, path: `${u.pathname}${u.search}`, method: 'GET', headers, signal });
      const body = await res.body.text();
      return { status: res.statusCode, body };
    },
    close: () => agent.close(),
  };
}
