// Helpers for the chart tests: the pinned helm (from the test-cluster binary cache) run
// hermetically, rendered documents parsed, and the golden-file normal form.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries, run } from '../cluster/binaries.ts';
import type { RunResult } from '../cluster/binaries.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'charts', 'meshlet');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'chart');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Runs the pinned helm with its state in a throwaway HOME (no user repos or plugins leak in). */
export async function helm(args: string[], input?: string): Promise<RunResult> {
  const bins = await ensureBinaries();
  const home = mkdtempSync(join(tmpdir(), 'meshlet-helm-'));
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
    return await run(bins.helm, args, { env, input, timeoutMs: 120_000 });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** `helm template` of the chart; values given as a YAML file path or --set pairs. */
export async function template(opts: { valuesFile?: string; set?: string[]; namespace?: string } = {}): Promise<RunResult> {
  const args = ['template', 'meshlet', CHART, '--namespace', opts.namespace ?? 'meshlet-system'];
  if (opts.valuesFile !== undefined) args.push('--values', opts.valuesFile);
  for (const s of opts.set ?? []) args.push('--set', s);
  return helm(args);
}

export async function render(opts: Parameters<typeof template>[0] = {}): Promise<K8sObject[]> {
  const r = await template(opts);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}): ${r.stderr}`);
  return parseDocs(r.stdout);
}

export function parseDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`invalid YAML in helm output: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((d): d is K8sObject => d !== null && typeof d === 'object');
}

export function find(docs: K8sObject[], kind: string, name: string): K8sObject {
  const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
  if (d === undefined) throw new Error(`${kind} ${name} not rendered; have: ${docs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return d;
}

/**
 * Golden normal form: helm's output as text, except that each CRD's (large, generated) body is
 * replaced by a one-line pointer; crds-sync.test.ts checks those bodies against crds/generated.
 */
export function goldenForm(helmOutput: string): string {
  return helmOutput
    .split(/^---\s*$/m)
    .map((doc) => {
      if (!/^kind: CustomResourceDefinition$/m.test(doc)) return doc;
      const obj = parseDocs(doc)[0];
      if (obj === undefined) return doc;
      const meta = { name: obj.metadata.name, annotations: obj.metadata.annotations, labels: obj.metadata.labels };
      return `\n# ${obj.metadata.name}: spec from files/crds/ (checked by crds-sync.test.ts)\napiVersion: ${obj.apiVersion}\nkind: CustomResourceDefinition\nmetadata: ${JSON.stringify(meta)}\n`;
    })
    .join('---');
}

/** Compares with the golden file, or rewrites it when UPDATE_GOLDEN=1. Returns the expected text. */
export function golden(name: string, actual: string): string {
  const path = join(FIXTURES, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  return readFileSync(path, 'utf8');
}
