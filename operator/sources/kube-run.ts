/** Placeholder until the Kubernetes sources land: fails clearly. */
import type { OperatorCore } from '../core.ts';
import type { RunOptions } from '../run.ts';

export async function startKubeSources(_core: OperatorCore, _opts: RunOptions): Promise<() => Promise<void>> {
  throw new Error('Kubernetes mode is not built yet; use --local <dir>');
}
