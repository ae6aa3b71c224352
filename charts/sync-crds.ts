/**
 * Copies the generated CRD manifests (crds/generated/, made by `npm run generate`) into the
 * chart at charts/meshlet/files/crds/, byte for byte, so the chart never carries a second copy
 * written by hand. templates/crds.yaml renders them (guarded by crds.install, annotated by
 * crds.keep). `--check` changes nothing and exits 1 when the chart is out of date.
 *
 *   node charts/sync-crds.ts            # sync
 *   node charts/sync-crds.ts --check    # verify (CI)
 *   node charts/sync-crds.ts --from DIR # sync from another copy of crds/generated
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const GENERATED_DIR = join(ROOT, 'crds', 'generated');
export const CHART_CRDS_DIR = join(ROOT, 'charts', 'meshlet', 'files', 'crds');

/** Files whose every YAML document is a CustomResourceDefinition, found recursively. */
export function findCrdFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findCrdFiles(path));
    else if (/\.ya?ml$/.test(entry.name) && crdNames(readFileSync(path, 'utf8')) !== undefined) out.push(path);
  }
  return out.sort();
}

/** The CRD names in a YAML file, or undefined when it holds anything but CRDs. */
export function crdNames(text: string): string[] | undefined {
  const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown).filter((d) => d !== null && d !== undefined);
  const crds = docs as Array<{ kind?: unknown; metadata?: { name?: unknown } }>;
  if (docs.length === 0 || !crds.every((d) => d.kind === 'CustomResourceDefinition')) return undefined;
  return crds.map((d) => String(d.metadata?.name));
}

/**
 * What the chart folder should hold: file name → content. One file per CRD is preferred; a
 * bundle (crds/generated/all.yaml) whose CRDs all have their own file is skipped, so no CRD
 * is rendered twice. Names are flattened; a clash is an error.
 */
export function wantedFiles(generatedDir = GENERATED_DIR): Map<string, string> {
  const files = findCrdFiles(generatedDir).map((path) => {
    const text = readFileSync(path, 'utf8');
    return { path, text, names: crdNames(text) ?? [] };
  });
  const single = new Set(files.filter((f) => f.names.length === 1).flatMap((f) => f.names));
  const wanted = new Map<string, string>();
  for (const f of files) {
    if (f.names.length > 1) {
      const covered = f.names.filter((n) => single.has(n));
      if (covered.length === f.names.length) continue;
      if (covered.length > 0) throw new Error(`${relative(generatedDir, f.path)} repeats CRDs that have their own file: ${covered.join(', ')}`);
    }
    // The chart template globs *.yaml, so .yml is renamed on the way in.
    const name = basename(f.path).replace(/\.yml$/, '.yaml');
    if (wanted.has(name)) throw new Error(`two generated CRD files are both named ${name} (${relative(generatedDir, f.path)})`);
    wanted.set(name, f.text);
  }
  return wanted;
}

export interface SyncDiff {
  missing: string[];
  changed: string[];
  extra: string[];
}

export function diffCrds(generatedDir = GENERATED_DIR, chartDir = CHART_CRDS_DIR): SyncDiff {
  const wanted = wantedFiles(generatedDir);
  const have = existsSync(chartDir) ? readdirSync(chartDir).filter((f) => f.endsWith('.yaml')) : [];
  const diff: SyncDiff = { missing: [], changed: [], extra: [] };
  for (const [name, text] of wanted) {
    if (!have.includes(name)) diff.missing.push(name);
    else if (readFileSync(join(chartDir, name), 'utf8') !== text) diff.changed.push(name);
  }
  diff.extra = have.filter((f) => !wanted.has(f));
  return diff;
}

export function syncCrds(generatedDir = GENERATED_DIR, chartDir = CHART_CRDS_DIR): SyncDiff {
  const diff = diffCrds(generatedDir, chartDir);
  const wanted = wantedFiles(generatedDir);
  mkdirSync(chartDir, { recursive: true });
  for (const name of [...diff.missing, ...diff.changed]) writeFileSync(join(chartDir, name), wanted.get(name) as string);
  for (const name of diff.extra) rmSync(join(chartDir, name));
  return diff;
}

function describe(d: SyncDiff): string {
  const parts: Array<[string, string[]]> = [['missing', d.missing], ['changed', d.changed], ['not generated', d.extra]];
  return parts
    .filter(([, list]) => list.length > 0)
    .map(([what, list]) => `${what}: ${list.join(', ')}`)
    .join('; ');
}

function main(argv: string[]): number {
  if (argv.includes('--help')) {
    process.stdout.write('usage: node charts/sync-crds.ts [--check] [--from DIR]\n  Copies crds/generated/*.yaml (or DIR) into charts/meshlet/files/crds/; --check only reports differences (exit 1).\n');
    return 0;
  }
  const fromAt = argv.indexOf('--from');
  const from = fromAt >= 0 ? argv[fromAt + 1] : undefined;
  if (fromAt >= 0 && from === undefined) {
    process.stderr.write('--from needs a directory\n');
    return 2;
  }
  const source = from ?? GENERATED_DIR;
  if (wantedFiles(source).size === 0) {
    process.stderr.write(`no CRD manifests under ${source}; run \`npm run generate\` first\n`);
    return 1;
  }
  if (argv.includes('--check')) {
    const text = describe(diffCrds(source));
    if (text === '') return 0;
    process.stderr.write(`chart CRDs differ from ${relative(ROOT, source)} (${text}); run \`node charts/sync-crds.ts\`\n`);
    return 1;
  }
  const text = describe(syncCrds(source));
  process.stdout.write(text === '' ? 'chart CRDs already up to date\n' : `chart CRDs synced (${text})\n`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
