/** The package version, read once from package.json (the single place it is written). */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const meshletVersion: string = pkg.version;

/** Whether this process runs the compiled JavaScript (dist/) or the TypeScript sources. */
export const meshletCodeForm: 'dist' | 'source' = import.meta.url.endsWith('.js') ? 'dist' : 'source';
