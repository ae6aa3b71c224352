/** The service graph (`/ui`) on the operator's 15014 app: Prometheus when given, else the proxies' own stats. */
import type { FastifyInstance } from 'fastify';
import type { OperatorCore } from '../core.ts';
import { serviceGraphPlugin } from '../ui/plugin.ts';
import { operatorGraphOptions } from '../ui/wiring.ts';

export async function registerUi(app: FastifyInstance, core: OperatorCore, prometheusUrl?: string): Promise<void> {
  await app.register(serviceGraphPlugin, operatorGraphOptions(core, prometheusUrl));
}
