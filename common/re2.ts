/**
 * RE2JS on first use: a proxy whose config has no regex never loads it (~2 MB). Loaded
 * synchronously because regexes compile while a snapshot is validated and compiled, never
 * per request.
 */
import { createRequire } from 'node:module';
import type * as Re2 from 're2js';

let loaded: typeof Re2.RE2JS | undefined;

export function re2(): typeof Re2.RE2JS {
  loaded ??= (createRequire(import.meta.url)('re2js') as typeof Re2).RE2JS;
  return loaded;
}
