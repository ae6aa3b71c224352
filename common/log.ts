/**
 * Logging setup shared by every part: pino JSON to stdout. The level comes from the
 * `--log-level` flag when a command passes it, else MESHLET_LOG_LEVEL, else `info`.
 * Error logs carry the catalog code in the `code` field so they can be grepped and counted.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export type { Logger } from 'pino';

/** Resolves the effective level; throws on a level name pino does not know. */
export function resolveLevel(flag?: string, env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const level = flag ?? env.MESHLET_LOG_LEVEL ?? 'info';
  if (!LEVELS.has(level)) throw new Error(`unknown log level "${level}" (use one of ${[...LEVELS].join(', ')})`);
  return level as LevelWithSilent;
}

export interface LogOptions {
  /** Component name, e.g. `operator`, `proxy`, `webhook`. */
  component: string;
  /** Explicit level (from a flag); falls back to the environment. */
  level?: string;
  /** Destination; stdout by default. Tests pass a stream to read lines back. */
  destination?: NodeJS.WritableStream;
}

/** Creates the root logger of a process. */
export function createLogger(opts: LogOptions): Logger {
  const options = { level: resolveLevel(opts.level), base: { component: opts.component }, timestamp: pino.stdTimeFunctions.isoTime };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination as pino.DestinationStream);
}
