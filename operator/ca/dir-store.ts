/**
 * Local-mode CA storage: a directory. `<dir>/cacerts/` (user-provided, Istio shape) wins
 * over `<dir>/meshlet-ca/` (generated on first start). The key file is written 0600.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CA_FILES, materialEntries, materialFrom, type CaMaterial, type CaStore, type LoadedCa } from './material.ts';

async function readDir(dir: string): Promise<CaMaterial | undefined> {
  const files = new Map<string, string>();
  for (const name of Object.values(CA_FILES)) {
    try {
      files.set(name, await readFile(join(dir, name), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return materialFrom((k) => files.get(k));
}

export class DirectoryCaStore implements CaStore {
  readonly location: string;
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
    this.location = dir;
  }

  async load(): Promise<LoadedCa | undefined> {
    const user = await readDir(join(this.#dir, 'cacerts'));
    if (user !== undefined) return { material: user, origin: 'user' };
    const own = await readDir(join(this.#dir, 'meshlet-ca'));
    return own === undefined ? undefined : { material: own, origin: 'generated' };
  }

  async saveGenerated(m: CaMaterial): Promise<CaMaterial> {
    const dir = join(this.#dir, 'meshlet-ca');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Each file via rename so a reader never sees a half-written PEM.
    for (const [name, text] of Object.entries(materialEntries(m))) {
      const tmp = join(dir, `.${name}.tmp`);
      await writeFile(tmp, text, { mode: name === CA_FILES.caKey ? 0o600 : 0o644 });
      await rename(tmp, join(dir, name));
    }
    return m;
  }
}
