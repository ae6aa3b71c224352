/**
 * The webhook's HTTPS server: fastify, POST /inject for pod CREATE reviews, GET /healthz, plus
 * any route plugins the caller registers (the operator adds /validate from webhook/validate.ts).
 * Bad input is a 400 with a catalog code, never a crash; the certificate can be swapped live.
 */
import { fastify, LogController, type FastifyInstance, type FastifyPluginAsync, type FastifyPluginCallback } from 'fastify';
import { MeshletError, errorEntry, type ErrorCode } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { handleReview, type AdmissionDeps } from './admission.ts';

export interface TlsMaterial {
  key: string;
  cert: string;
}

export type RoutePlugin = FastifyPluginAsync | FastifyPluginCallback;

export interface WebhookServerOptions {
  tls: TlsMaterial;
  deps: AdmissionDeps;
  log: Logger;
  /** Extra route plugins, registered after /inject (e.g. the CRD validation webhook). */
  plugins?: readonly RoutePlugin[];
  /** Largest accepted request body; the apiserver caps objects at 3 MiB, pods are far below. Default 4 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

function errorBody(code: ErrorCode, detail?: string): { code: string; message: string; hint: string } {
  const entry = errorEntry(code);
  return { code, message: detail === undefined ? entry.message : `${entry.message}: ${detail}`, hint: entry.hint };
}

/** Maps fastify's own content errors to our 400s; anything else unexpected is a logged 500. */
function classify(err: Error & { code?: string; statusCode?: number }): { status: number; body: ReturnType<typeof errorBody> } {
  if (err instanceof MeshletError && err.code === 'MESHLET_WEBHOOK_REVIEW_MALFORMED') return { status: 400, body: errorBody(err.code, err.message.split(': ').slice(1).join(': ') || undefined) };
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 400, body: errorBody('MESHLET_WEBHOOK_REVIEW_TOO_LARGE') };
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 400, body: errorBody('MESHLET_WEBHOOK_REVIEW_MALFORMED', 'content-type must be application/json') };
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
    return { status: 400, body: errorBody('MESHLET_WEBHOOK_REVIEW_MALFORMED', 'body is not JSON') };
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return { status: 400, body: errorBody('MESHLET_WEBHOOK_REVIEW_MALFORMED', err.message) };
  return { status: 500, body: errorBody('MESHLET_CORE_INTERNAL') };
}

// Return type inferred: fastify over node:https with the pino logger (exported as WebhookApp).
export async function createWebhookServer(opts: WebhookServerOptions) {
  const app = fastify({
    https: { key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.2' },
    bodyLimit: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    loggerInstance: opts.log,
    // No per-request logging at info (project convention); errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = classify(err as Error & { code?: string; statusCode?: number });
    if (status === 500) req.log.error({ code: body.code, err }, 'webhook request failed');
    else req.log.debug({ code: body.code, detail: body.message }, 'rejected webhook request');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ code: 'MESHLET_WEBHOOK_REVIEW_MALFORMED', message: 'no such webhook path (use /inject)', hint: errorEntry('MESHLET_WEBHOOK_REVIEW_MALFORMED').hint });
  });
  app.get('/healthz', async () => 'ok');
  app.post('/inject', async (req) => handleReview(req.body, opts.deps));
  for (const plugin of opts.plugins ?? []) await app.register(plugin);
  return app;
}

/** The server createWebhookServer returns (fastify over node:https with the pino logger). */
export type WebhookApp = Awaited<ReturnType<typeof createWebhookServer>>;

/** Swaps the serving certificate for new connections (rotation), keeping open ones. */
export function setServingCertificate(app: Pick<FastifyInstance, 'server'> | WebhookApp, tls: TlsMaterial): void {
  (app.server as unknown as { setSecureContext: (o: TlsMaterial) => void }).setSecureContext(tls);
}
