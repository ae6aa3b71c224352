/** Composes features around a terminal once per route. */
import type { Feature, Handler, RouteRuntime } from './types.ts';

/**
 * `compose([a, b, c], terminal, route)` runs a → b → c → terminal. A feature that does not
 * apply to a route should return `next` itself, so it costs nothing per request.
 */
export function compose(features: readonly Feature[], terminal: Handler, route: RouteRuntime): Handler {
  let h = terminal;
  for (let i = features.length - 1; i >= 0; i--) h = features[i]!(h, route);
  return h;
}
