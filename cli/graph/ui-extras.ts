/**
 * What the operator's graph page borrows from the CLI layer: `meshlet analyze`'s rules (node
 * badges and findings) and `meshlet explain` (an edge's sample request, run through the
 * proxy's own route matcher), plus the tracing UI URL. Passed to the operator when the CLI
 * starts it (`meshlet operator`, `meshlet local`), so the operator does not import the CLI.
 */
import type { UiExtras } from '../../operator/ui/inspect.ts';
import { analyze } from '../analyze/rules.ts';
import { explain } from '../explain/explain.ts';

export function uiExtras(tracingUrl?: string): UiExtras {
  return {
    analyze: (world) => analyze(world),
    explain: (snapshot, request, lookup) => explain(snapshot, request, (e) => lookup(e.address)),
    ...(tracingUrl === undefined || tracingUrl === '' ? {} : { tracingUrl }),
  };
}
