/**
 * The push server (15012, HTTPS): `GET /v1/config?proxy=<pod>.<ns>&version=<hash>`
 * [&ack=<hash> | &nack=<hash>&error=<code: text>] per DESIGN.md §3. Who the proxy is comes
 * from a pluggable `authenticate` hook; the default trusts the request's own claims
 * (query/headers), to be replaced by token/certificate checks (operator/ca/).
 */
import { Readable } from 'node:stream';
import { gzipStored } from './gzip-stored.ts';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { MeshletError } from '../../common/errors.ts';
import type { OperatorCore, ConfigParams } from '../core.ts';
import { parseProxyId, type ProxyClaim } from '../translate/index.ts';
import { findWorkload } from '../translate/identity.ts';
import { assertClaimMatchesPod } from '../ca/authenticate.ts';

/** Returns the proven claim for the proxy asked about, or throws a MeshletError (→ 401/403). */
export type ProxyAuthenticator = (request: FastifyRequest, requested: { name: string; namespace: string }) => Promise<ProxyClaim> | ProxyClaim;

function one(v: unknown): string | undefined {
  if (Array.isArray(v)) return one(v[0]);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `a=b,c=d` → {a: 'b', c: 'd'}. */
export function parseLabels(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Default hook: the claim as the proxy states it (query `sa`, `labels`, `ip`, `workload`, or x-meshlet-* headers). */
export const claimFromRequest = (request: FastifyRequest, requested: { name: string; namespace: string }): ProxyClaim => {
  const q = request.query as Record<string, unknown>;
  const h = request.headers;
  const claim: ProxyClaim = { name: requested.name, namespace: requested.namespace };
  const sa = one(q.sa) ?? one(h['x-meshlet-service-account']);
  const labels = parseLabels(one(q.labels) ?? one(h['x-meshlet-pod-labels']));
  const ip = one(q.ip) ?? one(h['x-meshlet-pod-ip']);
  const workload = one(q.workload) ?? one(h['x-meshlet-workload']);
  if (sa !== undefined) claim.serviceAccount = sa;
  if (labels !== undefined) claim.labels = labels;
  if (ip !== undefined) claim.ip = ip;
  if (workload !== undefined) claim.workload = workload;
  return claim;
};

export interface PushServerOptions {
  tls: { key: string; cert: string; ca?: string; requestCert?: boolean };
  /** Proves the caller; when set, config is served only for workloads the World knows. */
  authenticate?: ProxyAuthenticator;
}

/** Builds (does not start) the HTTPS app; callers may register more routes (e.g. /v1/certificates). */
export function buildPushApp(core: OperatorCore, opts: PushServerOptions): FastifyInstance {
  const authenticate = opts.authenticate ?? claimFromRequest;
  const https: Record<string, unknown> = { key: opts.tls.key, cert: opts.tls.cert, allowHTTP1: true };
  if (opts.tls.ca !== undefined) https.ca = opts.tls.ca;
  if (opts.tls.requestCert === true) {
    https.requestCert = true;
    https.rejectUnauthorized = false; // a token is enough; a cert is checked by the hook
  }
  const app = Fastify({ https, logger: false, requestTimeout: 0, keepAliveTimeout: 65_000 } as never) as unknown as FastifyInstance;
  app.get('/v1/config', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const id = one(q.proxy) ?? (one(request.headers['x-meshlet-pod-name']) !== undefined ? `${one(request.headers['x-meshlet-pod-name'])}.${one(request.headers['x-meshlet-pod-namespace']) ?? 'default'}` : undefined);
    const requested = id === undefined ? undefined : parseProxyId(id);
    try {
      if (requested === undefined) throw new MeshletError('MESHLET_OPERATOR_BAD_REQUEST', 'missing or malformed proxy id');
      const claim = await authenticate(request, requested);
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableEnded) abort.abort();
      });
      // Until every watched kind was listed the World is partial (no pod to check the claim
      // against, maybe no policies): hold, then 304, so the proxy keeps its current config.
      if (!(await core.whenReady(abort.signal))) return reply.code(304).send();
      const known = findWorkload(core.world, claim.name, claim.namespace);
      // With proven callers, only a known workload of the caller's own identity gets config: a
      // made-up pod with another workload's labels would otherwise be handed its listeners and policies.
      if (opts.authenticate !== undefined && known === undefined) {
        throw new MeshletError('MESHLET_SECURITY_FORBIDDEN', `no workload ${claim.name}.${claim.namespace} is known (pod or WorkloadEntry)`);
      }
      // A known pod's service account must be the proven (or stated) one.
      assertClaimMatchesPod(claim, known?.serviceAccount);
      const params: ConfigParams = {};
      for (const k of ['version', 'ack', 'nack', 'error'] as const) {
        const v = one(q[k]);
        if (v !== undefined) params[k] = v;
      }
      const answer = await core.config(claim, params, abort.signal);
      if (answer.status === 304) return reply.code(304).send();
      reply.code(200).header('content-type', 'application/json').header('x-meshlet-version', answer.version);
      // The tail is shared by every proxy of the same outbound key: sent as-is, never re-encoded.
      const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      const parts = gzip ? [gzipStored(Buffer.from(answer.head, 'utf8')), ...(await Promise.all(answer.pieces.map((p) => p.gzip())))] : [Buffer.from(answer.head, 'utf8'), ...answer.pieces.map((p) => p.buffer)];
      if (gzip) reply.header('content-encoding', 'gzip');
      reply.header('content-length', parts.reduce((n, b) => n + b.length, 0));
      return reply.send(Readable.from(parts, { objectMode: false }));
    } catch (err) {
      const e = err instanceof MeshletError ? err : new MeshletError('MESHLET_CORE_INTERNAL', (err as Error).message);
      return reply.code(e.status).header('x-meshlet-error', e.code).send({ code: e.code, message: e.message, hint: e.hint });
    }
  });
  return app;
}
