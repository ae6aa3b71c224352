/**
 * Debug views that translate the World wait for it to be whole: until every watched kind was
 * listed once the World is partial (a DENY policy not listed yet is simply absent), and a
 * config shown from it would be one no proxy is ever served. 503 with the pending kinds.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperatorCore } from '../core.ts';

/** Fastify onRequest hook: 503 `MESHLET_OPERATOR_NOT_READY` while the core is gated. */
export function readyOnly(core: Pick<OperatorCore, 'readinessReport'>): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (_req, reply) => {
    const r = core.readinessReport();
    if (r.ready) return;
    await reply.code(503).header('x-meshlet-error', 'MESHLET_OPERATOR_NOT_READY')
      .send({ code: 'MESHLET_OPERATOR_NOT_READY', message: 'operator has not listed every watched kind yet; config is held', pending: r.pending, missing: r.missing });
  };
}
