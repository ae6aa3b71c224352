/** `meshlet validate` as a real process: output lines, line numbers, exit codes. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES_DIR, loadFixtures } from './fixtures.ts';
import { pathSegments } from '../../crds/yaml-positions.ts';

const bin = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'meshlet-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function meshlet(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'validate', ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an invalid object prints file:line kind/namespace/name path: reason [CODE] and a hint, exit 1', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `# a comment line
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: prod
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: -5
    - destination:
        host: reviews
        subset: v2
      weight: 105
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
`);
  const r = meshlet(['-f', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stdout.includes(`${file}:16 VirtualService/prod/reviews spec.http[1].route[0].weight: weight -5 is negative [MESHLET_CRD_WEIGHT]\n  hint: Weights are >= 0`), r.stdout);
  assert.ok(r.stdout.includes(`${file}:12 VirtualService/prod/reviews spec.http[1]: never matches: spec.http[0] matches every request first [MESHLET_CRD_MATCH_UNREACHABLE] (warning)`), r.stdout);
  assert.match(r.stderr, /^1 object checked: 1 error, 1 warning$/m);
});

test('a directory of valid Istio examples exits 0 even with warnings; --errors-only hides them', () => {
  const sub = join(dir, 'valid');
  spawnSync('mkdir', ['-p', sub]);
  for (const f of ['bookinfo-virtual-service-all-v1.yaml', 'bookinfo-destination-rule-all.yaml', 'vs-gateways-unenforced.yaml']) copyFileSync(join(FIXTURES_DIR, 'valid', f), join(sub, f));
  const r = meshlet(['-f', sub]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /vs-gateways-unenforced\.yaml:9 VirtualService\/default\/bookinfo spec\.gateways: accepted but not enforced.*\[MESHLET_CRD_NOT_ENFORCED\] \(warning\)/);
  assert.match(r.stderr, /^9 objects checked: 0 errors, 1 warning$/m);
  const quiet = meshlet(['-f', sub, '--errors-only', '-n', 'bookinfo']);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stdout, '');
});

test('YAML syntax errors are reported with their line; stdin works; -o json', () => {
  const r = meshlet(['-f', '-'], 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: x}\nspec:\n  mtls: {mode: STRICT\n');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^<stdin>:\d+ - \(yaml\): .*\[MESHLET_CRD_YAML\]/);
  const j = meshlet(['-f', join(FIXTURES_DIR, 'invalid', 'pa-port-level-without-selector.yaml'), '-o', 'json']);
  assert.equal(j.code, 1);
  const out = JSON.parse(j.stdout) as { errors: number; problems: { code: string; path: string; line: number }[] };
  assert.equal(out.errors, 1);
  assert.deepEqual(out.problems.map((p) => [p.code, p.path, p.line]), [['MESHLET_CRD_PA_SELECTOR', 'spec.portLevelMtls', 9]]);
});

test('usage errors exit 2', () => {
  assert.equal(meshlet([]).code, 2);
  assert.equal(meshlet(['-f', 'x', '-o', 'xml']).code, 2);
  assert.equal(meshlet(['--bogus']).code, 2);
  assert.equal(meshlet(['-f', join(dir, 'does-not-exist')]).code, 3);
});

test('every invalid fixture: meshlet validate reports its code and path at the line of the offending field', () => {
  const r = meshlet(['-f', join(FIXTURES_DIR, 'invalid'), '-o', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { problems: { file: string; line: number; code: string; path: string; level: string }[] };
  const failures: string[] = [];
  for (const f of loadFixtures().filter((x) => !x.valid)) {
    const lines = f.text.split('\n');
    for (const e of f.expect) {
      const p = out.problems.find((x) => x.file === f.file && x.code === e.code && x.path === e.path && x.level === 'error');
      if (p === undefined) {
        failures.push(`${f.name}: no ${e.code} at ${e.path}`);
        continue;
      }
      // The line holds the path's last segment: its key, or the list item ("- …") for an index.
      // A field absent from the file points at its deepest present parent instead.
      const segs = pathSegments(e.path);
      const last = segs[segs.length - 1] as string;
      const text = lines[p.line - 1] ?? '';
      const absent = segs.some((s) => !/^\d+$/.test(s) && !f.text.includes(`${s}:`) && !f.text.includes(`"${s}"`));
      // An index is a "- " item line, or a flow list `[a, b]` on the key's line.
      const ok = absent || (/^\d+$/.test(last) ? text.trim().startsWith('-') || text.includes('[') || text.includes(`${last}:`) : text.includes(last));
      if (!ok) failures.push(`${f.name}: ${e.path} reported at line ${p.line} ("${text.trim()}")`);
    }
  }
  assert.deepEqual(failures, []);
});

test('kind: List is validated item by item (items[N] paths, real lines); a foreign group with an Istio kind name is skipped', async () => {
  const { validateText } = await import('../../cli/commands/validate.ts');
  const text = `apiVersion: v1
kind: List
items:
- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: ok}
  spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}
- apiVersion: security.istio.io/v1
  kind: RequestAuthentication
  metadata: {name: bad}
  spec:
    jwtRules:
    - issuer: x
      jwksUri: ftp://keys
---
apiVersion: networking.example.com/v1
kind: VirtualService
metadata: {name: foreign}
spec: {anything: goes}
---
apiVersion: networking.istio.io/v9
kind: VirtualService
metadata: {name: typo}
spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}
`;
  const r = validateText('list.yaml', text, 'default');
  assert.equal(r.objects, 3, 'two List items and the Istio-group typo; the foreign group is not counted');
  const errors = r.problems.filter((p) => p.level === 'error').map((p) => `${p.line} ${p.object} ${p.path} ${p.code}`);
  assert.deepEqual(errors, [
    '14 RequestAuthentication/default/bad items[1].spec.jwtRules[0].jwksUri MESHLET_CRD_RA_JWKS',
    '21 VirtualService/default/typo apiVersion MESHLET_CRD_BAD_VERSION',
  ]);
});
