/** The service graph (`/ui`) on the operator's 15014 app: Prometheus when given, else the proxies' own stats. */
import type { FastifyInstance } from 'fastify';
import type { OperatorCore } from '../core.ts';
import type { UiExtras } from '../ui/inspect.ts';
import { serviceGraphPlugin } from '../ui/plugin.ts';
import { operatorGraphOptions } from '../ui/wiring.ts';

/** `extras`: analyze/explain from the CLI layer and the tracing UI URL, for the side panel. */
export async function registerUi(app: FastifyInstance, core: OperatorCore, prometheusUrl?: string, extras?: UiExtras): Promise<void> {
  await app.register(serviceGraphPlugin, operatorGraphOptions(core, prometheusUrl, 15090, extras));
}
