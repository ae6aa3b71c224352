/**
 * The one error catalog. Each area keeps its entries in `common/errors/<area>.ts` (so parts
 * can add codes without touching each other); this file merges them and is the only import
 * the rest of the code uses. The same code appears in CRD status, webhook replies, proxy
 * local replies (`x-meshlet-error`), NACKs and logs.
 */
import type { ErrorEntry } from './errors/types.ts';
import { coreErrors } from './errors/core.ts';
import { crdErrors } from './errors/crd.ts';
import { operatorErrors } from './errors/operator.ts';
import { proxyErrors } from './errors/proxy.ts';
import { webhookErrors } from './errors/webhook.ts';
import { securityErrors } from './errors/security.ts';
import { telemetryErrors } from './errors/telemetry.ts';
import { cliErrors } from './errors/cli.ts';
import { composeErrors } from './errors/compose.ts';

export type { ErrorEntry } from './errors/types.ts';

const allEntries = [...coreErrors, ...crdErrors, ...operatorErrors, ...proxyErrors, ...securityErrors, ...webhookErrors, ...telemetryErrors, ...cliErrors, ...composeErrors] as const;

/** Every catalog code: a typo or an uncatalogued code is a type error where it is written. */
export type ErrorCode = (typeof allEntries)[number]['code'];

/** Whether `s` is a catalog code (for codes read from outside: NACKs, headers, JSON). */
export function isErrorCode(s: string): s is ErrorCode {
  return byCode.has(s);
}

const byCode = new Map<string, ErrorEntry>();
for (const entry of allEntries) byCode.set(entry.code, entry);

/** Every catalog entry, in declaration order. */
export function catalog(): readonly ErrorEntry[] {
  return allEntries;
}

/** Looks a code up; throws on an unknown code so a typo fails the first test that hits it. */
export function errorEntry(code: ErrorCode): ErrorEntry {
  const entry = byCode.get(code);
  if (entry === undefined) throw new Error(`unknown error code ${code}: add it to common/errors/`);
  return entry;
}

/** An Error that carries a catalog code, for throwing across layers. */
export class MeshletError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  /** The HTTP status of an answer carrying this error (the catalog entry's). */
  readonly status: number;
  readonly path?: string;
  constructor(code: ErrorCode, detail?: string, path?: string) {
    const entry = errorEntry(code);
    super(detail === undefined ? entry.message : `${entry.message}: ${detail}`);
    this.name = 'MeshletError';
    this.code = code;
    this.hint = entry.hint;
    this.status = entry.status;
    if (path !== undefined) this.path = path;
  }
}

/** `<message> [CODE]` plus the hint on a second line: how the CLI prints errors. */
export function formatError(code: ErrorCode, detail?: string): string {
  const entry = errorEntry(code);
  const head = detail === undefined ? entry.message : `${entry.message}: ${detail}`;
  return `${head} [${code}]\n  hint: ${entry.hint}`;
}
