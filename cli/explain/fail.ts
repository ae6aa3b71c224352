/** How the CLI commands of this area report a catalog error: message, code, hint; exit code by kind. */
import { MeshletError } from '../../common/errors.ts';

const USAGE = new Set(['MESHLET_CLI_UNKNOWN_PROXY', 'MESHLET_CLI_BAD_URL', 'MESHLET_CLI_USAGE']);

/** Prints the error; returns 2 for what the user typed wrong, 3 for runtime failures. Rethrows non-catalog errors. */
export function reportError(command: string, err: unknown): number {
  if (!(err instanceof MeshletError)) throw err;
  process.stderr.write(`meshlet ${command}: ${err.message} [${err.code}]\n  hint: ${err.hint}\n`);
  return USAGE.has(err.code) ? 2 : 3;
}
