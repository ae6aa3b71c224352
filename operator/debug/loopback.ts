/**
 * Debug views that show proxy config answer loopback clients only. The monitor port also
 * serves Prometheus from the pod network, so the listener cannot bind loopback alone; a
 * `kubectl port-forward` connection arrives from 127.0.0.1 inside the pod, so the CLI keeps
 * working through it while other pods are refused.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** Fastify onRequest hook: 403 with a catalog code for any other peer. */
export async function loopbackOnly(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (isLoopback(req.socket.remoteAddress)) return;
  await reply.code(403).header('x-meshlet-error', 'MESHLET_OPERATOR_DEBUG_LOOPBACK_ONLY')
    .send({ code: 'MESHLET_OPERATOR_DEBUG_LOOPBACK_ONLY', message: 'this debug view shows proxy config and answers loopback clients only' });
}
