/**
 * Envoy response flags of a request (`ctx.flags`, comma-separated, empty for none): every
 * feature that sets one goes through `addFlag`, so the access log, the `response_flags`
 * metric label, the trace and `x-meshlet-flags` all read one well-formed list.
 */
import type { RequestContext } from './types.ts';

export function addFlag(ctx: Pick<RequestContext, 'flags'>, flag: string): void {
  ctx.flags = ctx.flags === '' ? flag : `${ctx.flags},${flag}`;
}
