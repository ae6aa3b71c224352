/**
 * `meshlet explain`: golden output for a set of requests (from the fixture directory), and
 * the same requests sent through the real source proxy under `meshlet local` land where the
 * explanation says (subset/endpoint, split share, fault status, no-route reply).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { explain, type Explanation } from '../../cli/explain/explain.ts';
import { renderExplanation } from '../../cli/explain/render.ts';
import { destinationIndex, localSource, operatorSource, snapshotOf } from '../../cli/explain/source.ts';
import { BIN, eventually, startLocal, viaProxy, type LocalProcess } from './helpers/local-process.ts';

const FIX = new URL('../fixtures/explain/', import.meta.url);
const MESH = new URL('mesh', FIX).pathname;
interface Case { name: string; url: string; method?: string; headers: Record<string, string> }
const cases = JSON.parse(readFileSync(new URL('cases.json', FIX), 'utf8')) as Case[];
const SOURCE = 'web-1.shop';
const WEB_PROXY = { host: '127.0.66.10', port: 15001 };
// The config hash changes whenever translation output changes; it is not what these goldens pin.
const normalize = (t: string): string => t.replace(/config [0-9a-f]{16}/, 'config <version>');

test('explain output matches the golden file for every case', async () => {
  const src = await localSource(MESH);
  const snap = await snapshotOf(src, SOURCE);
  const byIp = await destinationIndex(src);
  for (const c of cases) {
    const text = normalize(renderExplanation(explain(snap, { url: c.url, method: c.method ?? 'GET', headers: c.headers }, (e) => byIp.get(e.address))));
    const file = new URL(`golden/${c.name}.txt`, FIX);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
    assert.equal(text, readFileSync(file, 'utf8'), `golden ${c.name}`);
  }
});

test('the CLI prints the same text, and lists the known proxies for an unknown one (exit 2)', () => {
  const c = cases[1]!;
  const r = spawnSync(process.execPath, [BIN, 'explain', SOURCE, c.url, ...Object.entries(c.headers).flatMap(([k, v]) => ['-H', `${k}:${v}`]), '--local', MESH], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(normalize(r.stdout), readFileSync(new URL(`golden/${c.name}.txt`, FIX), 'utf8'));
  const bad = spawnSync(process.execPath, [BIN, 'explain', 'web-9.shop', c.url, '--local', MESH], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /known proxies: api-v1\.shop, api-v2\.shop, legacy-1\.shop, web-1\.shop \[MESHLET_CLI_UNKNOWN_PROXY\]/);
  const noOp = spawnSync(process.execPath, [BIN, 'explain', SOURCE, c.url, '--operator', 'http://127.0.0.1:9'], { encoding: 'utf8' });
  assert.equal(noOp.status, 3);
  assert.match(noOp.stderr, /looked at http:\/\/127\.0\.0\.1:9 \(--operator\).*\[MESHLET_CLI_OPERATOR_UNREACHABLE\]\n {2}hint: .*MESHLET_OPERATOR=/);
});

let local: LocalProcess | undefined;
before(async () => {
  local = await startLocal(MESH, ['--seed', '3']);
  const up = await eventually(async () => (await viaProxy(WEB_PROXY, 'http://api:8080/items')).headers['x-echo-workload'] !== undefined, 150, 200);
  assert.ok(up, `apps behind the proxies never answered:\n${local.output()}`);
});
after(async () => {
  await local?.stop();
});

function workloadsOf(e: Explanation): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of e.destinations) for (const ep of d.endpoints) out.set((ep.server?.proxy ?? '').replace(/\.shop$/, ''), d.percent);
  return out;
}

test('the proxy does what explain says for the same requests', async () => {
  const src = operatorSource(local!.operatorUrl);
  const snap = await snapshotOf(src, SOURCE);
  const byIp = await destinationIndex(src);
  for (const c of cases) {
    const e = explain(snap, { url: c.url, method: c.method ?? 'GET', headers: c.headers }, (ep) => byIp.get(ep.address));
    const n = e.destinations.length > 1 ? 300 : 10;
    const seen = new Map<string, number>();
    const statuses = new Set<number>();
    for (let i = 0; i < n; i++) {
      const a = await viaProxy(WEB_PROXY, c.url, { method: c.method ?? 'GET', headers: c.headers });
      statuses.add(a.status);
      const w = String(a.headers['x-echo-workload'] ?? `status ${a.status} ${String(a.headers['x-meshlet-flags'] ?? '')}`);
      seen.set(w, (seen.get(w) ?? 0) + 1);
    }
    const abort = e.route?.fault?.abort;
    if (e.outcome === 'no-route' || e.outcome === 'no-virtual-host') {
      assert.deepEqual([...seen.keys()], ['status 404 NR'], `${c.name}: explain said ${e.outcome}`);
    } else if (e.destinations.length > 0 && e.destinations.every((d) => d.endpoints.every((ep) => ep.server?.authz.allowed === false))) {
      // The destination sidecar enforces the policy explain evaluated (local mode goes sidecar → sidecar).
      assert.deepEqual([...seen.keys()], ['status 403 RBAC'], `${c.name}: explain said authorization denies`);
    } else if (abort !== undefined && abort.percentage === 100) {
      assert.deepEqual([...statuses], [abort.httpStatus], `${c.name}: explain said abort ${abort.httpStatus}`);
    } else {
      const want = workloadsOf(e);
      for (const [w, count] of seen) {
        const pct = want.get(w);
        assert.ok(pct !== undefined && pct > 0, `${c.name}: proxy sent to ${w}, explain listed ${[...want.keys()].join(', ')}`);
        // Binomial tolerance: ±6 points for 300 requests (3 standard deviations at 10%).
        if (n > 10) assert.ok(Math.abs((count / n) * 100 - pct) <= 6, `${c.name}: ${w} got ${count}/${n}, explain said ${pct}%`);
      }
      for (const [w, pct] of want) if (pct === 100) assert.equal(seen.get(w), n, `${c.name}: all to ${w}`);
    }
  }
});
