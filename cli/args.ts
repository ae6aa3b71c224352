/** Flag parsing shared by every subcommand, on node:util parseArgs (no extra dependency). */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses argv strictly; an unknown flag becomes an Error whose message names it. */
export function parseFlags(argv: string[], options: Options): Parsed {
  const res = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  return { values: res.values as Parsed['values'], positionals: res.positionals };
}
