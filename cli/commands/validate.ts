/** `meshlet validate -f <file|dir>`: offline validation of Istio YAML for CI pipelines. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { parseFlags } from '../args.ts';
import { errorEntry, type ErrorCode } from '../../common/errors.ts';
import { isIstioKind, validateObject } from '../../crds/validate.ts';
import { KIND_GROUPS } from '../../crds/generated/types.ts';
import { lineOf } from '../../crds/yaml-positions.ts';

const HELP = `Usage: meshlet validate -f <file|dir> [-f …] [flags]

Validates VirtualService, DestinationRule, PeerAuthentication, AuthorizationPolicy and RequestAuthentication
objects offline, with the same rules the admission webhook applies at kubectl apply.
Each problem prints as:
  file:line kind/namespace/name path: reason [CODE]
followed by a hint for errors. Objects of other kinds in the files are skipped, and so are
objects of another API group that happen to use an Istio kind name (e.g. a VirtualService of
some other project's CRD). A "kind: List" is validated item by item, paths as items[N]...

Flags:
  -f, --filename <path>   file or directory (recursively, *.yaml *.yml *.json); "-" reads stdin
  -n, --namespace <ns>    namespace shown for objects without metadata.namespace (default "default")
      --errors-only       do not print warnings
  -o, --output <fmt>      text (default) or json
  -h, --help

Exit codes: 0 valid (warnings allowed), 1 errors found, 2 usage error, 3 unreadable file.

Examples:
  meshlet validate -f samples/bookinfo/networking/
  meshlet validate -f vs.yaml -f dr.yaml --errors-only
  kustomize build overlays/prod | meshlet validate -f -
`;

interface Problem {
  file: string;
  line: number;
  object: string;
  code: ErrorCode;
  level: 'error' | 'warning';
  path: string;
  message: string;
}

function collectFiles(p: string): string[] {
  if (p === '-') return ['-'];
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? collectFiles(join(p, e.name)) : /\.(ya?ml|json)$/.test(e.name) ? [join(p, e.name)] : []));
}

const isList = (o: unknown): o is { items: unknown[] } => typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'List' && Array.isArray((o as { items?: unknown }).items);

/**
 * An object of a kind meshlet serves, in Istio's API group: a kind of the same name in another
 * group (a CRD of someone else's) is not Istio's and is skipped, as Kubernetes routes it elsewhere.
 */
function isIstios(o: unknown): boolean {
  if (typeof o !== 'object' || o === null) return false;
  const kind = (o as { kind?: unknown }).kind;
  if (!isIstioKind(kind)) return false;
  const apiVersion = (o as { apiVersion?: unknown }).apiVersion;
  const group = typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0] : undefined;
  // Istio's own groups (and typos of them) are validated, so a wrong group is reported, not skipped.
  return group === undefined || group === KIND_GROUPS[kind] || group.endsWith('istio.io');
}

/** Validates every object in one file's text. Exported for tests. */
export function validateText(file: string, text: string, defaultNs: string): { problems: Problem[]; objects: number } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  const problems: Problem[] = [];
  let objects = 0;
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ file, line: lines.linePos(e.pos[0]).line, object: '-', code: 'MESHLET_CRD_YAML', level: 'error', path: '(yaml)', message: e.message.split('\n')[0] as string });
      continue;
    }
    const top = doc.toJS() as unknown;
    // `kind: List` (kubectl get -o yaml, kustomize): each item is an object of its own, as istioctl validates them.
    const items: [unknown, string][] = isList(top) ? top.items.map((it, i) => [it, `items[${i}].`]) : [[top, '']];
    for (const [obj, prefix] of items) {
      if (!isIstios(obj)) continue;
      objects++;
      const meta = ((obj as { metadata?: { name?: string; namespace?: string } }).metadata ?? {});
      const id = `${(obj as { kind: string }).kind}/${meta.namespace ?? defaultNs}/${meta.name ?? '?'}`;
      for (const m of validateObject(obj)) problems.push({ file, line: lineOf(doc, `${prefix}${m.path}`, lines), object: id, ...m, path: `${prefix}${m.path}` });
    }
  }
  return { problems, objects };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    filename: { type: 'string', short: 'f', multiple: true },
    namespace: { type: 'string', short: 'n' },
    'errors-only': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const inputs = (values.filename as string[] | undefined) ?? [];
  const output = (values.output as string | undefined) ?? 'text';
  if (inputs.length === 0 || (output !== 'text' && output !== 'json')) {
    process.stderr.write(`meshlet validate: ${inputs.length === 0 ? 'at least one -f <file|dir> is required' : `unknown output "${output}"`}\nRun 'meshlet validate --help' for usage.\n`);
    return 2;
  }
  const ns = (values.namespace as string | undefined) ?? 'default';
  const problems: Problem[] = [];
  let objects = 0;
  for (const input of inputs) {
    let files: string[];
    try {
      files = collectFiles(input);
    } catch (err) {
      process.stderr.write(`meshlet validate: cannot read ${input}: ${(err as Error).message}\n`);
      return 3;
    }
    for (const file of files) {
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      const res = validateText(file === '-' ? '<stdin>' : file, text, ns);
      problems.push(...res.problems);
      objects += res.objects;
    }
  }
  const shown = values['errors-only'] === true ? problems.filter((p) => p.level === 'error') : problems;
  const errors = problems.filter((p) => p.level === 'error').length;
  if (output === 'json') process.stdout.write(`${JSON.stringify({ objects, errors, warnings: problems.length - errors, problems: shown }, null, 2)}\n`);
  else {
    for (const p of shown) {
      process.stdout.write(`${p.file}:${p.line} ${p.object} ${p.path}: ${p.message} [${p.code}]${p.level === 'warning' ? ' (warning)' : ''}\n`);
      if (p.level === 'error') process.stdout.write(`  hint: ${errorEntry(p.code).hint}\n`);
    }
    process.stderr.write(`${objects} object${objects === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${problems.length - errors} warning${problems.length - errors === 1 ? '' : 's'}\n`);
  }
  return errors > 0 ? 1 : 0;
}
