/**
 * The programs the benchmarks start (Debian packages). Checked before any stage runs, so a
 * newcomer learns what is missing at once instead of from a stage failing half-way: as root
 * they are installed with apt-get, otherwise the install command is printed and the run stops.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Prerequisite {
  command: string;
  /** Debian package that provides the command. */
  pkg: string;
}

export const PREREQUISITES: Prerequisite[] = [
  { command: 'nginx', pkg: 'nginx' },
  { command: 'haproxy', pkg: 'haproxy' },
  { command: 'wrk', pkg: 'wrk' },
  { command: 'taskset', pkg: 'util-linux' },
];

// Daemons live in sbin, which a non-root PATH often lacks.
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function searchPath(path: string | undefined): string[] {
  const dirs = (path ?? '').split(delimiter).filter(Boolean);
  return [...dirs, ...SBIN.filter((d) => !dirs.includes(d))];
}

/** Directory holding an executable `command`, or undefined. */
export function findCommand(command: string, path: string | undefined = process.env.PATH): string | undefined {
  for (const dir of searchPath(path)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return dir;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function missingPrerequisites(list: Prerequisite[] = PREREQUISITES, path: string | undefined = process.env.PATH): Prerequisite[] {
  return list.filter((p) => findCommand(p.command, path) === undefined);
}

export function installCommand(missing: Prerequisite[]): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${[...new Set(missing.map((p) => p.pkg))].join(' ')}`;
}

/**
 * Makes every prerequisite available (installing as root) and puts the directories they are
 * in on PATH for the stages' child processes. Returns an error message when that is impossible.
 */
export function ensurePrerequisites(list: Prerequisite[] = PREREQUISITES): string | undefined {
  let missing = missingPrerequisites(list);
  if (missing.length > 0 && process.getuid?.() === 0) {
    console.log(`bench: installing Debian packages: ${missing.map((p) => p.pkg).join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const pkgs = [...new Set(missing.map((p) => p.pkg))];
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 300_000 });
    const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env, timeout: 600_000 }) : update;
    if (install.status !== 0) return `bench: apt-get failed (exit ${install.status ?? install.signal}); install them yourself: ${installCommand(missing)}`;
    missing = missingPrerequisites(list);
  }
  if (missing.length > 0) {
    return `bench: missing ${missing.map((p) => p.command).join(', ')}. Install them (Debian/Ubuntu), as root:\n  ${installCommand(missing)}`;
  }
  const dirs = list.map((p) => findCommand(p.command) ?? '');
  const path = (process.env.PATH ?? '').split(delimiter);
  process.env.PATH = [...path, ...new Set(dirs.filter((d) => d !== '' && !path.includes(d)))].join(delimiter);
  return undefined;
}
