/** Runs iptables-save / iptables-restore to install or remove the capture rules in the current network namespace. */
import { spawn } from 'node:child_process';
import { MeshletError } from '../../common/errors.ts';
import { cleanupScript, installScript, type CaptureOptions } from './rules.ts';

export interface Binaries {
  save: string;
  restore: string;
}

export const DEFAULT_BINARIES: Binaries = { save: 'iptables-save', restore: 'iptables-restore' };

function exec(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => reject(new MeshletError('MESHLET_IPTABLES_APPLY', `${cmd}: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new MeshletError('MESHLET_IPTABLES_APPLY', `${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`));
    });
    if (child.stdin !== null) {
      // A command that exits early surfaces through its exit code, not an EPIPE crash.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

export function natSave(bin: Binaries = DEFAULT_BINARIES): Promise<string> {
  return exec(bin.save, ['-t', 'nat']);
}

/** Installs (or rewrites) the rules; returns the script applied. */
export async function install(o: CaptureOptions, bin: Binaries = DEFAULT_BINARIES): Promise<string> {
  const script = installScript(o, await natSave(bin));
  await exec(bin.restore, ['--noflush'], script);
  return script;
}

/** Removes the rules; returns the script applied, or null when there was nothing to remove. */
export async function cleanup(bin: Binaries = DEFAULT_BINARIES): Promise<string | null> {
  const script = cleanupScript(await natSave(bin));
  if (script !== null) await exec(bin.restore, ['--noflush'], script);
  return script;
}
