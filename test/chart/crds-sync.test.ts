// The chart's CRDs are crds/generated/ output, never a copy edited by hand: the files match
// byte for byte, and what `helm template` renders equals the generated objects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { diffCrds, syncCrds, wantedFiles, GENERATED_DIR } from '../../charts/sync-crds.ts';
import { render, ROOT } from './helm.ts';
import type { K8sObject } from './helm.ts';

const crd = (name: string, extra = ''): string => `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${name}\nspec:\n  group: x.io${extra}\n`;

function withDirs(fn: (gen: string, chart: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-crd-sync-'));
  try {
    const gen = join(dir, 'generated');
    const chart = join(dir, 'chart');
    mkdirSync(gen);
    fn(gen, chart);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('chart CRDs = crds/generated', () => {
  test('charts/meshlet/files/crds holds exactly the generated CRD files (run `node charts/sync-crds.ts` if not)', () => {
    assert.ok(wantedFiles().size >= 4, 'crds/generated has the four CRDs');
    assert.deepEqual(diffCrds(), { missing: [], changed: [], extra: [] });
  });

  test('`sync-crds.ts --check` exits 0 on the repository', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'charts', 'sync-crds.ts'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('helm template renders each generated CRD unchanged (plus the keep annotation and chart labels)', async () => {
    const rendered = (await render()).filter((d) => d.kind === 'CustomResourceDefinition');
    const generated = [...wantedFiles(GENERATED_DIR).values()].flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as K8sObject));
    assert.deepEqual(rendered.map((d) => d.metadata.name).sort(), generated.map((d) => d.metadata.name).sort());
    for (const g of generated) {
      const r = structuredClone(rendered.find((d) => d.metadata.name === g.metadata.name) as K8sObject);
      assert.equal(r.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
      delete r.metadata.annotations?.['helm.sh/resource-policy'];
      for (const [k, v] of Object.entries(g.metadata.labels ?? {})) assert.equal(r.metadata.labels?.[k], v, `label ${k} kept`);
      r.metadata.labels = g.metadata.labels;
      assert.deepEqual(r, g, g.metadata.name);
    }
  });
});

describe('sync-crds.ts', () => {
  test('reports missing, changed and stale files, and sync fixes all three', () => {
    withDirs((gen, chart) => {
      writeFileSync(join(gen, 'a.x.io.yaml'), crd('a.x.io'));
      writeFileSync(join(gen, 'b.x.io.yml'), crd('b.x.io'));
      writeFileSync(join(gen, 'types.ts'), 'export {};\n');
      writeFileSync(join(gen, 'other.yaml'), 'kind: ConfigMap\nmetadata:\n  name: x\n');
      mkdirSync(chart);
      writeFileSync(join(chart, 'a.x.io.yaml'), crd('a.x.io', '\n  # edited by hand'));
      writeFileSync(join(chart, 'gone.x.io.yaml'), crd('gone.x.io'));
      assert.deepEqual(diffCrds(gen, chart), { missing: ['b.x.io.yaml'], changed: ['a.x.io.yaml'], extra: ['gone.x.io.yaml'] });
      syncCrds(gen, chart);
      assert.deepEqual(diffCrds(gen, chart), { missing: [], changed: [], extra: [] });
      assert.equal(readFileSync(join(chart, 'a.x.io.yaml'), 'utf8'), crd('a.x.io'));
    });
  });

  test('a bundle whose CRDs all have their own file is skipped; a partial one is an error', () => {
    withDirs((gen) => {
      writeFileSync(join(gen, 'a.x.io.yaml'), crd('a.x.io'));
      writeFileSync(join(gen, 'b.x.io.yaml'), crd('b.x.io'));
      writeFileSync(join(gen, 'all.yaml'), `${crd('a.x.io')}---\n${crd('b.x.io')}`);
      assert.deepEqual([...wantedFiles(gen).keys()], ['a.x.io.yaml', 'b.x.io.yaml']);
      writeFileSync(join(gen, 'all.yaml'), `${crd('a.x.io')}---\n${crd('c.x.io')}`);
      assert.throws(() => wantedFiles(gen), /all\.yaml repeats CRDs that have their own file: a\.x\.io/);
    });
  });
});
