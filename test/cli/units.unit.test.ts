/** Pure parts of the CLI: local plan, output prefixing, log lines, demo stats, explain's per-field reasons. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Incoming } from '../../operator/store/store.ts';
import { appEnv, planLocal } from '../../cli/local/plan.ts';
import { linePrefixer } from '../../cli/local/children.ts';
import { humanLogLine } from '../../cli/local/log-lines.ts';
import { failedConditions, describeMatch } from '../../cli/explain/why.ts';
import { plainAttrs } from '../../proxy/routing/attrs.ts';
import { quantile, RollingStats } from '../../examples/demo/stats.ts';

const we = (name: string, address: string, extra: Record<string, unknown> = {}, annotations?: Record<string, string>): Incoming => ({
  object: { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name, namespace: 'default', ...(annotations === undefined ? {} : { annotations }) }, spec: { address, labels: { app: name }, serviceAccount: name, ...extra } },
  origin: { file: 'mesh/w.yaml', line: 3 },
});

test('planLocal: loopback entries run, others are reported with file:line; ports from the entry or the Service', () => {
  const svc: Incoming = { object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'default' }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] } } };
  const plan = planLocal([svc, we('api', '127.0.9.1', {}, { 'local.meshlet.io/command': 'node api.ts' }), we('db', '10.0.0.4'), we('dup', '127.0.9.1'), we('web', '127.0.9.2', { ports: { http: 3000 }, serviceAccount: undefined })], '/base');
  assert.deepEqual(plan.workloads.map((w) => [w.name, w.address, w.proxied, w.port, w.command]), [['api', '127.0.9.1', true, 8080, 'node api.ts'], ['web', '127.0.9.2', false, 3000, undefined]]);
  assert.match(plan.problems[0]!, /^mesh\/w\.yaml:3: WorkloadEntry default\/db: address "10\.0\.0\.4" is not a 127\.x loopback address/);
  assert.match(plan.problems[1]!, /WorkloadEntry default\/dup: address 127\.0\.9\.1 is already used by WorkloadEntry default\/api/);
  assert.equal(plan.workloads[0]!.cwd.endsWith('/mesh'), true);
  const env = appEnv(plan.workloads[0]!, 15001);
  assert.equal(env.HTTP_PROXY, 'http://127.0.9.1:15001');
  assert.equal(env.MESHLET_LABEL_APP, 'api');
  assert.equal(appEnv(plan.workloads[1]!, 15001).HTTP_PROXY, undefined, 'no proxy, no HTTP_PROXY');
});

test('planLocal: --netns takes 198.18.0.0/15 addresses only; a meshed entry on several app ports is a warning', async () => {
  const { inNetnsRange } = await import('../../cli/local/netns.ts');
  const svc: Incoming = { object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'default' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 90, targetPort: 9090 }] } } };
  const plan = planLocal([svc, we('api', '198.18.9.1'), we('lo', '127.0.9.1'), we('gw', '198.18.0.1')], '/base', inNetnsRange, 'in 198.18.0.0/15');
  assert.deepEqual(plan.workloads.map((w) => w.address), ['198.18.9.1']);
  assert.deepEqual(plan.problems.map((p) => /address "([^"]+)"/.exec(p)?.[1]), ['127.0.9.1', '198.18.0.1']);
  assert.match(plan.warnings[0]!, /WorkloadEntry default\/api: Services select it on 2 app ports \(8080, 9090\)/);
});

test('linePrefixer prefixes complete lines only and flushes the tail', () => {
  let out = '';
  const p = linePrefixer('api | ', (s) => (out += s), undefined, (l) => l.toUpperCase());
  p.push('one\ntw');
  assert.equal(out, 'api | ONE\n');
  p.push('o\n');
  p.push('three');
  p.flush();
  assert.equal(out, 'api | ONE\napi | TWO\napi | THREE\n');
});

test('humanLogLine renders pino JSON as LEVEL message [CODE]', () => {
  assert.equal(humanLogLine('{"level":40,"msg":"config rejected","code":"MESHLET_X"}'), 'WARN config rejected [MESHLET_X]');
  assert.equal(humanLogLine('plain text'), 'plain text');
  assert.equal(humanLogLine('{not json'), '{not json');
});

test('RollingStats: window, rate, success and quantiles', () => {
  const s = new RollingStats(1000);
  for (let i = 0; i < 10; i++) s.add('a', { at: 100 * i, ms: i + 1, ok: i !== 0 });
  const [row] = s.snapshot(950);
  assert.deepEqual({ count: row!.count, rps: row!.rps, success: row!.success, p50: row!.p50, p99: row!.p99 }, { count: 10, rps: 10, success: 0.9, p50: 5, p99: 10 });
  assert.equal(s.snapshot(1250)[0]!.count, 7, 'samples older than the window are dropped');
  assert.equal(quantile([], 0.5), 0);
});

test('failedConditions names each failing field with what was wanted and what came', () => {
  const a = plainAttrs({ method: 'GET', url: '/beta/x?debug=0', authority: 'api:8080', port: 8080, headers: { 'x-canary': '1' } });
  const m = { uri: { type: 'prefix' as const, value: '/beta' }, method: { type: 'exact' as const, value: 'POST' }, headers: { 'end-user': { type: 'exact' as const, value: 'jason' } }, withoutHeaders: { 'x-canary': { type: 'prefix' as const, value: '' } }, queryParams: { debug: { type: 'regex' as const, value: '1|true' } } };
  assert.deepEqual(failedConditions(m, a), [
    'method: wanted exact "POST", got "GET"',
    'header end-user: wanted exact "jason", got none',
    'header x-canary: must not be present, got "1"',
    'query debug: wanted regex "1|true", got "0"',
  ]);
  assert.deepEqual(failedConditions({ uri: { type: 'prefix', value: '/beta' } }, a), []);
  assert.equal(describeMatch(undefined), 'no match conditions: every request matches');
});
