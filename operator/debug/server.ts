/**
 * The monitoring port (15014, plain HTTP): `/metrics` (Prometheus), `/debug/proxies`
 * (what `meshlet proxy-status` shows), `/debug/world` and `/debug/config_dump?proxy=<id>`.
 * The last two show config and answer loopback clients only (loopback.ts); config_dump
 * answers 503 until every watched kind was listed (ready-only.ts).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { OperatorCore } from '../core.ts';
import { translate, resolveProxy, parseProxyId } from '../translate/index.ts';
import { loopbackOnly } from './loopback.ts';
import { readyOnly } from './ready-only.ts';

export function buildDebugApp(core: OperatorCore): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => {
    core.updateConnected();
    return reply.header('content-type', core.metrics.registry.contentType).send(await core.metrics.registry.metrics());
  });
  app.get('/debug/proxies', async () => ({ world: core.world.hash, proxies: core.proxyStatus() }));
  app.get('/debug/world', { onRequest: loopbackOnly }, async () => {
    const w = core.world;
    return {
      hash: w.hash,
      services: w.services.length,
      endpoints: Object.values(w.endpoints).reduce((n, l) => n + l.length, 0),
      virtualServices: w.virtualServices.length,
      destinationRules: w.destinationRules.length,
      peerAuthentications: w.peerAuthentications.length,
      authorizationPolicies: w.authorizationPolicies.length,
      invalid: core.store.invalid().map((e) => ({ key: e.key, messages: e.messages })),
    };
  });
  app.get('/debug/config_dump', { onRequest: [loopbackOnly, readyOnly(core)] }, async (req, reply) => {
    const id = (req.query as Record<string, string | undefined>).proxy;
    const parsed = id === undefined ? undefined : parseProxyId(id);
    if (parsed === undefined) return reply.code(400).header('x-meshlet-error', 'MESHLET_OPERATOR_BAD_REQUEST').send({ code: 'MESHLET_OPERATOR_BAD_REQUEST', message: 'need ?proxy=<pod>.<namespace>' });
    const known = core.proxies.states.get(id as string);
    return known?.snapshot ?? translate(core.world, resolveProxy(core.world, parsed));
  });
  // 503 until every watched kind was listed once; the body names what is pending or not served.
  app.get('/ready', async (_req, reply) => {
    const r = core.readinessReport();
    return reply.code(r.ready ? 200 : 503).send({ ...r, world: core.world.hash });
  });
  return app;
}
