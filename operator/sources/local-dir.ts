/**
 * Local mode: a directory of YAML (mesh kinds plus Services and WorkloadEntries with
 * loopback addresses) read into the store and watched with fs.watch. A file that fails
 * to parse, or an object that fails validation, is logged as `file:line: reason`; the
 * rest keeps being served (an invalid update keeps the last accepted version).
 */
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import type { Logger } from '../../common/log.ts';
import { buildWorld, type BuildOptions } from '../world/build.ts';
import type { World } from '../world/types.ts';
import { Store, type Incoming } from '../store/store.ts';
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

type Parsed = { stamp: string; objects: Incoming[]; problems: LoadProblem[] };

/**
 * Reads every YAML/JSON file under `dir` (sorted, recursive). Never throws on file content.
 * With a `cache`, files whose size and mtime did not change are not parsed again (and keep
 * their object identities, which the store uses to skip them cheaply).
 */
export function readDirectoryObjects(dir: string, cache?: Map<string, Parsed>): { objects: Incoming[]; problems: LoadProblem[] } {
  const objects: Incoming[] = [];
  const problems: LoadProblem[] = [];
  const seen = new Set<string>();
  for (const file of listFiles(dir)) {
    seen.add(file);
    const st = statSync(file, { throwIfNoEntry: false });
    const stamp = `${st?.size}:${st?.mtimeMs}`;
    let parsed = cache?.get(file);
    if (parsed === undefined || parsed.stamp !== stamp) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // removed between listing and reading: the next event reloads
      }
      const res = parseYamlObjects(text, relative(process.cwd(), file) || file);
      parsed = { stamp, problems: res.problems, objects: res.objects.map((o) => ({ object: o.object, origin: o.origin, lineOf: o.lineOf })) };
      cache?.set(file, parsed);
    }
    problems.push(...parsed.problems);
    objects.push(...parsed.objects);
  }
  for (const f of [...(cache?.keys() ?? [])]) if (!seen.has(f)) cache?.delete(f);
  return { objects, problems };
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
  private readonly cache = new Map<string, Parsed>();

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
    const { objects, problems } = readDirectoryObjects(this.dir, this.cache);
    this.store.replace(objects, () => true);
    const now = new Set<string>();
    for (const p of describeProblems(this.store, problems)) {
      now.add(p.text);
      // Log each problem once, not on every reload that still has it.
      if (!this.logged.has(p.text)) this.log.error({ code: p.code, file: p.file, line: p.line }, p.text);
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
