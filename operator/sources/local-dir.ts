/**
 * Local mode: a directory of YAML (mesh kinds plus Services and WorkloadEntries with
 * loopback addresses) read into the store and watched with fs.watch. Each file is the unit
 * of change: a file is taken only when it parses whole; while it does not (a broken
 * document, or a write caught half way), the file keeps its last good set of objects, and
 * a line names them. A file that never parsed contributes its good documents, plus a
 * fail-closed stand-in for each broken document that names a security kind. A deleted file
 * removes its objects. Invalid objects keep their last accepted version (the store).
 */
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import type { Logger } from '../../common/log.ts';
import { buildWorld, type BuildOptions } from '../world/build.ts';
import type { World } from '../world/types.ts';
import { Store, type Incoming } from '../store/store.ts';
import { objectKey } from '../world/objects.ts';
import { parseYamlObjects, type LoadProblem } from './yaml-docs.ts';

const EXT = /\.(ya?ml|json)$/i;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory() === true) out.push(...listFiles(p));
    else if (st?.isFile() === true && EXT.test(name)) out.push(p);
  }
  return out;
}

type Parsed = { stamp: string; objects: Incoming[]; problems: LoadProblem[]; unreadable: Incoming[]; whole: boolean };

/** What a reader keeps between reloads: parsed files by stamp, and each file's last set that parsed whole. */
export interface DirState {
  cache: Map<string, Parsed>;
  lastGood: Map<string, Incoming[]>;
}

export function newDirState(): DirState {
  return { cache: new Map(), lastGood: new Map() };
}

/** A file that does not parse now, and the objects it keeps serving meanwhile. */
export interface StaleFile {
  file: string;
  stamp: string;
  reason: string;
  keys: string[];
}

function parseFile(file: string, text: string, stamp: string): Parsed {
  const name = relative(process.cwd(), file) || file;
  const res = parseYamlObjects(text, name);
  const unreadable: Incoming[] = res.unreadable.map((u) => ({
    object: u.object,
    origin: { file: name, line: u.problem.line },
    unreadable: { code: u.problem.code, level: 'error', path: '', message: `${name}:${u.problem.line}: ${u.problem.reason}` },
  }));
  // An empty file is most often one being rewritten (truncated, not yet written): not whole.
  const whole = res.problems.length === 0 && text.length > 0;
  return { stamp, problems: res.problems, unreadable, whole, objects: res.objects.map((o) => ({ object: o.object, origin: o.origin, lineOf: o.lineOf })) };
}

/**
 * Reads every YAML/JSON file under `dir` (sorted, recursive). Never throws on file content.
 * With a `state`, files whose size and mtime did not change are not parsed again (and keep
 * their object identities, which the store uses to skip them cheaply), and a file that does
 * not parse whole keeps the objects of its last version that did (listed in `stale`).
 */
export function readDirectoryObjects(dir: string, state?: DirState): { objects: Incoming[]; problems: LoadProblem[]; stale: StaleFile[] } {
  const objects: Incoming[] = [];
  const problems: LoadProblem[] = [];
  const stale: StaleFile[] = [];
  const seen = new Set<string>();
  for (const file of listFiles(dir)) {
    const st = statSync(file, { throwIfNoEntry: false });
    const stamp = `${st?.size}:${st?.mtimeMs}`;
    let parsed = state?.cache.get(file);
    if (parsed === undefined || parsed.stamp !== stamp) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // removed between listing and reading: the next event reloads
      }
      parsed = parseFile(file, text, stamp);
      state?.cache.set(file, parsed);
    }
    seen.add(file);
    problems.push(...parsed.problems);
    const good = state?.lastGood.get(file);
    if (parsed.whole) {
      state?.lastGood.set(file, parsed.objects);
      objects.push(...parsed.objects);
    } else if (good !== undefined) {
      objects.push(...good);
      const first = parsed.problems[0];
      const reason = first === undefined ? 'the file is empty (a write in progress?)' : `${first.file}:${first.line}: ${first.reason}`;
      stale.push({ file: relative(process.cwd(), file) || file, stamp, reason, keys: good.map((o) => objectKey(o.object)) });
    } else {
      objects.push(...parsed.objects, ...parsed.unreadable);
    }
  }
  // A deleted file removes its objects (as does a file listed no more).
  for (const f of [...(state?.cache.keys() ?? [])]) {
    if (seen.has(f)) continue;
    state?.cache.delete(f);
    state?.lastGood.delete(f);
  }
  return { objects, problems, stale };
}

/** Loads a directory into a fresh store and World in one go (for `meshlet local`, analyze, tests). */
export function loadLocalWorld(dir: string, opts: BuildOptions = {}): { world: World; store: Store; problems: LoadProblem[] } {
  const store = new Store();
  const { objects, problems } = readDirectoryObjects(dir);
  store.replace(objects, () => true);
  return { world: buildWorld(store.acceptedObjects(), opts), store, problems };
}

/** Formats every current problem of the directory as `file:line: reason` lines, with codes. */
export function describeProblems(store: Store, problems: LoadProblem[]): { code: string; file: string; line: number; text: string }[] {
  const out: { code: string; file: string; line: number; text: string }[] = problems.map((p) => ({ code: p.code as string, file: p.file, line: p.line, text: `${p.file}:${p.line}: ${p.reason}` }));
  for (const e of store.invalid()) {
    // Documents that do not parse are already in `problems`.
    if (e.messages.some((m) => m.code === 'MESHLET_OPERATOR_YAML_PARSE' || m.code === 'MESHLET_OPERATOR_OBJECT_SHAPE')) continue;
    const file = e.origin.file ?? '<unknown>';
    for (const m of e.messages.filter((x) => x.level === 'error')) {
      const line = e.lineOf?.(m.path) ?? e.origin.line ?? 0;
      out.push({ code: m.code, file, line, text: `${file}:${line}: ${e.object.kind} ${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}: ${m.path}: ${m.message}` });
    }
  }
  return out;
}

export class LocalDirSource {
  private readonly dir: string;
  private readonly store: Store;
  private readonly log: Logger;
  private watcher: FSWatcher | undefined;
  private logged = new Set<string>();
  private readonly state = newDirState();

  constructor(dir: string, store: Store, log: Logger) {
    this.dir = dir;
    this.store = store;
    this.log = log;
  }

  private pending: ReturnType<typeof setTimeout> | undefined;
  private rescan: ReturnType<typeof setInterval> | undefined;

  /**
   * Loads once and starts watching. Events are coalesced for a few ms (an editor's save is
   * several events); a slow rescan backs fs.watch up, which can miss events. Both are cheap:
   * unchanged files (same size and mtime) are not read again.
   */
  start(rescanMs = 5000): void {
    this.reload();
    this.watcher = watch(this.dir, { recursive: true }, () => {
      if (this.pending !== undefined) clearTimeout(this.pending);
      this.pending = setTimeout(() => {
        this.pending = undefined;
        this.reload();
      }, 10);
    });
    this.watcher.on('error', (err) => this.log.warn({ err: err.message }, 'directory watch error'));
    this.rescan = setInterval(() => this.reload(), rescanMs);
    this.rescan.unref();
  }

  reload(): void {
    const { objects, problems, stale } = readDirectoryObjects(this.dir, this.state);
    this.store.replace(objects, () => true);
    const now = new Set<string>();
    for (const p of describeProblems(this.store, problems)) {
      now.add(p.text);
      // Log each problem once, not on every reload that still has it.
      if (!this.logged.has(p.text)) this.log.error({ code: p.code, file: p.file, line: p.line }, p.text);
    }
    for (const s of stale) {
      const text = `${s.file} does not parse (${s.reason}); it keeps its last good objects until it does: ${s.keys.join(', ') || 'none'}`;
      const once = `${s.stamp}:${text}`;
      now.add(once);
      if (!this.logged.has(once)) this.log.warn({ code: 'MESHLET_OPERATOR_OBJECT_STALE', file: s.file, objects: s.keys }, text);
    }
    this.logged = now;
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.pending !== undefined) clearTimeout(this.pending);
    if (this.rescan !== undefined) clearInterval(this.rescan);
  }
}
