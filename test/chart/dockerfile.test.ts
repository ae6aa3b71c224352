// The Dockerfile, read (no Docker daemon here to build it): Node 24 base, production deps
// only, non-root, iptables present, compiled JavaScript only (a build stage runs
// build-dist), and — following every import from bin/meshlet — every source folder the CLI
// can load is compiled and every package it imports is a production dependency (a
// devDependency would be missing after `npm ci --omit=dev`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './helm.ts';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ').split('\n');
const stageStarts = lines.map((l, i) => (/^FROM\s/.test(l) ? i : -1)).filter((i) => i >= 0);
const finalStage = lines.slice(stageStarts.at(-1));
const buildStart = lines.findIndex((l) => /^FROM\s.*\sAS build$/.test(l));
const buildStage = buildStart < 0 ? [] : lines.slice(buildStart, stageStarts.find((i) => i > buildStart));

test('base image is Node 24 (bookworm slim) in every stage', () => {
  const arg = /^ARG NODE_IMAGE=(\S+)/m.exec(dockerfile)?.[1];
  assert.match(arg ?? '', /^node:24-bookworm-slim(@sha256:[a-f0-9]{64})?$/);
  const froms = lines.filter((l) => /^FROM\s/.test(l));
  assert.ok(froms.length >= 2);
  for (const f of froms) assert.match(f, /^FROM \$\{NODE_IMAGE\}/);
});

test('production dependencies only, installed from the lock file', () => {
  assert.ok(lines.some((l) => /npm ci\b.*--omit=dev/.test(l)), 'npm ci --omit=dev');
  assert.ok(!lines.some((l) => /npm (install|i) /.test(l)), 'no npm install (the lock file decides)');
});

test('runs as uid 1337, not root; iptables installed; meshlet on PATH as the entrypoint', () => {
  const user = finalStage.filter((l) => /^USER\s/.test(l)).at(-1);
  assert.equal(user, 'USER 1337:1337');
  assert.ok(finalStage.some((l) => /apt-get install[^&]*\biptables\b/.test(l)));
  assert.ok(finalStage.some((l) => /ln -s \/app\/bin\/meshlet \/usr\/local\/bin\/meshlet/.test(l)));
  assert.ok(finalStage.includes('ENTRYPOINT ["meshlet"]'));
});

test('the image runs compiled JavaScript: a build stage compiles, the final stage has dist/ and no sources', () => {
  assert.ok(buildStage.some((l) => /^RUN .*(node scripts\/build-dist\.ts|npm run build:dist)/.test(l)), 'the build stage runs build-dist');
  assert.ok(finalStage.includes('COPY --from=build /app/dist ./dist'), 'dist/ copied from the build stage');
  const sources = finalStage.filter((l) => /^COPY (?!--from)(cli|common|crds|operator|proxy|webhook)\b/.test(l));
  assert.deepEqual(sources, [], 'no TypeScript sources in the final image (bin/meshlet would prefer them)');
  assert.ok(finalStage.some((l) => /meshlet version --client \| grep -q compiled/.test(l)), 'the build checks that the image runs dist/');
});

/** Relative and bare specifiers imported (statically or with import()) by a source file. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const re of [/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm, /^\s*import\s+['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of text.matchAll(re)) out.push(m[1] as string);
  }
  // Type-only imports are erased at run time.
  const typeOnly = new Set([...text.matchAll(/^\s*import\s+type\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string));
  return out.filter((s) => !typeOnly.has(s) || out.filter((x) => x === s).length > 1);
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

test('every folder and package reachable from bin/meshlet is in the image', () => {
  // Sources are compiled in the build stage; bin/ is copied as is into the final stage.
  const copied = new Set([...buildStage, ...finalStage].flatMap((l) => /^COPY (?!--from)(\S+) \.\/\1$/.exec(l)?.slice(1, 2) ?? []));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const builtins = new Set(builtinModules);
  const seen = new Set<string>();
  const folders = new Set<string>();
  const packages = new Set<string>();
  const queue = [join(ROOT, 'bin', 'meshlet'), join(ROOT, 'cli', 'main.ts')];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    folders.add(relative(ROOT, file).split('/')[0] as string);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (existsSync(target) && target.endsWith('.ts')) queue.push(target);
      } else if (!spec.startsWith('node:') && !builtins.has(spec)) {
        packages.add(packageName(spec));
      }
    }
  }
  assert.ok(seen.size > 50, `followed ${seen.size} files`);
  const missingFolders = [...folders].filter((f) => !copied.has(f));
  assert.deepEqual(missingFolders, [], `folders the CLI loads but the Dockerfile does not COPY (copied: ${[...copied].join(', ')})`);
  const notProd = [...packages].filter((p) => pkg.dependencies[p] === undefined);
  assert.deepEqual(notProd, [], 'packages imported at run time that are not production dependencies');
});
