/**
 * `npm run generate`: writes the CRD manifests, TypeScript types and validator tables from the
 * schema source (crds/schema/) into crds/generated/. Never edit those files by hand;
 * test/crds/generated.unit.test.ts fails when they differ from a fresh generation.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll } from './gen/all.ts';
import { withUnenforcedSection } from './gen/unenforced.ts';
import { kinds } from './schema/kinds.ts';

const dir = fileURLToPath(new URL('./generated/', import.meta.url));
mkdirSync(dir, { recursive: true });
const files = generateAll();
for (const name of readdirSync(dir)) if (!files.has(name)) rmSync(join(dir, name));
for (const [name, text] of files) writeFileSync(join(dir, name), text);
process.stdout.write(`crds/generated: wrote ${[...files.keys()].join(', ')}\n`);

// The table of accepted-but-unenforced fields in crds/README.md comes from the same source.
const readme = fileURLToPath(new URL('./README.md', import.meta.url));
writeFileSync(readme, withUnenforcedSection(readFileSync(readme, 'utf8'), kinds));
