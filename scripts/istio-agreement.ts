/**
 * How far `meshlet validate`'s verdicts agree with Istio's on Istio's own test material:
 *   node scripts/istio-agreement.ts <istio/istio checkout> [-v]
 * Reads every YAML document of a kind meshlet serves from
 *   pkg/config/validation/testdata/crds/*.yaml   (CRD tests: a document with `_err` is invalid)
 *   pkg/test/datasets/validation/dataset/*.yaml  (the webhook's integration dataset: valid)
 *   samples/ and tests/integration/ (*.yaml without templates: valid)
 * runs each through `validateObject` (what `meshlet validate`, the webhook and the operator
 * run) and prints "accepted X of Y valid, rejected X of Y invalid", per kind and in total;
 * `-v` lists every disagreement with meshlet's first error (or why it passed).
 * Identical documents count once. Istio's Go unit tests (objects written as Go values) are not read.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateObject } from '../crds/validate.ts';
import { ISTIO_KINDS, KIND_GROUPS } from '../crds/generated/types.ts';

const root = process.argv[2];
const verbose = process.argv.includes('-v');
if (root === undefined) {
  process.stderr.write('usage: node scripts/istio-agreement.ts <istio/istio checkout> [-v]\n');
  process.exit(2);
}

function walk(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith('.yaml') || n.endsWith('.yml')) out.push(p);
  }
  return out;
}

interface Case { file: string; valid: boolean; obj: Record<string, unknown> }
const cases: Case[] = [];
const seen = new Set<string>();
const isMeshlet = (o: Record<string, unknown>): boolean => {
  const kind = o.kind as string;
  const group = typeof o.apiVersion === 'string' ? o.apiVersion.split('/')[0] : '';
  return (ISTIO_KINDS as readonly string[]).includes(kind) && KIND_GROUPS[kind as keyof typeof KIND_GROUPS] === group;
};

function add(file: string, obj: unknown, crdTest: boolean): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return;
  const o = { ...(obj as Record<string, unknown>) };
  if (o.kind === 'List' && Array.isArray(o.items)) {
    for (const it of o.items) add(file, it, crdTest);
    return;
  }
  if (!isMeshlet(o)) return;
  const valid = !(crdTest && '_err' in o) && !KNOWN_INVALID.has(relative(root!, file));
  delete o._err;
  const key = JSON.stringify(o);
  if (seen.has(key)) return;
  seen.add(key);
  cases.push({ file: relative(root!, file), valid, obj: o });
}

/** Integration-test files Istio itself uses as invalid input (their comments say so). */
const KNOWN_INVALID = new Set(['tests/integration/pilot/testdata/some-dir/missing-gateway.yaml']);

const sources: [string, boolean][] = [
  ['pkg/config/validation/testdata/crds', true],
  ['pkg/test/datasets/validation/dataset', false],
  ['samples', false],
  ['tests/integration', false],
];
for (const [dir, crdTest] of sources) {
  for (const f of walk(join(root, dir))) {
    const text = readFileSync(f, 'utf8');
    if (text.includes('{{')) continue; // Go templates: not YAML until rendered
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) continue;
      add(f, doc.toJS(), crdTest);
    }
  }
}

const byKind = new Map<string, { valid: number; accepted: number; invalid: number; rejected: number }>();
const disagreements: string[] = [];
for (const c of cases) {
  const kind = c.obj.kind as string;
  const k = byKind.get(kind) ?? { valid: 0, accepted: 0, invalid: 0, rejected: 0 };
  byKind.set(kind, k);
  const errors = validateObject(c.obj).filter((m) => m.level === 'error');
  const name = (c.obj.metadata as { name?: string } | undefined)?.name ?? '?';
  if (c.valid) {
    k.valid += 1;
    if (errors.length === 0) k.accepted += 1;
    else disagreements.push(`REFUSED valid   ${c.file} ${kind}/${name}: ${errors[0]!.path}: ${errors[0]!.message} [${errors[0]!.code}]`);
  } else {
    k.invalid += 1;
    if (errors.length > 0) k.rejected += 1;
    else disagreements.push(`ACCEPTED invalid ${c.file} ${kind}/${name}`);
  }
}
const line = (label: string, k: { valid: number; accepted: number; invalid: number; rejected: number }): string => `${label.padEnd(22)} accepted ${k.accepted} of ${k.valid} valid, rejected ${k.rejected} of ${k.invalid} invalid\n`;
const total = { valid: 0, accepted: 0, invalid: 0, rejected: 0 };
const four = { valid: 0, accepted: 0, invalid: 0, rejected: 0 };
for (const [kind, k] of [...byKind].sort()) {
  process.stdout.write(line(kind, k));
  for (const t of kind === 'RequestAuthentication' ? [total] : [total, four]) {
    t.valid += k.valid; t.accepted += k.accepted; t.invalid += k.invalid; t.rejected += k.rejected;
  }
}
process.stdout.write(line('four kinds (VS/DR/PA/AP)', four));
process.stdout.write(line('all kinds', total));
if (verbose) for (const d of disagreements) process.stdout.write(`${d}\n`);
