// Rendering the wanted pod: golden files (UPDATE_GOLDEN=1 regenerates), the patch round trip,
// idempotency, and what the user relies on (security context, probes, overrides).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectPod } from '../../webhook/admission.ts';
import { diff } from '../../webhook/patch.ts';
import { applyPatch } from '../../webhook/patch-apply.ts';
import { DEFAULT_VALUES } from '../../webhook/values.ts';
import type { Container, NamespaceInfo, Pod } from '../../webhook/pod-types.ts';
import { MeshletError } from '../../common/errors.ts';
import { jobPod, overridePod, threeContainerPod, webPod } from './helpers/pods.ts';

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'webhook');
const mesh: NamespaceInfo = { name: 'shop', labels: { 'sidecar.inject': 'true' }, annotations: {} };

const cases: [string, Pod, boolean][] = [
  ['web-native', webPod(), true],
  ['web-legacy', webPod(), false],
  ['job-native', jobPod(), true],
  ['trio-native', threeContainerPod(), true],
  ['overrides-native', overridePod(), true],
];

for (const [name, pod, native] of cases) {
  test(`golden: ${name}`, () => {
    const { wanted } = injectPod(pod, mesh, DEFAULT_VALUES, native);
    const file = join(GOLDEN, `${name}.json`);
    const text = `${JSON.stringify(wanted, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, text);
    }
    assert.equal(text, readFileSync(file, 'utf8'), `${file} differs; rerun with UPDATE_GOLDEN=1 if the change is intended`);
    assert.deepEqual(applyPatch(pod, diff(pod, wanted)), wanted);
    // Re-running the injector on its own output changes nothing.
    const again = injectPod(wanted, mesh, DEFAULT_VALUES, native);
    assert.equal(again.decision.reason, 'already-injected');
    assert.deepEqual(diff(wanted, again.wanted), []);
  });
}

const byName = (list: Container[] | undefined, n: string): Container | undefined => list?.find((c) => c.name === n);

test('native sidecar: init order, restartPolicy Always, startup probe on 15021, locked-down proxy', () => {
  const { wanted } = injectPod(jobPod(), mesh, DEFAULT_VALUES, true);
  assert.deepEqual(wanted.spec?.initContainers?.map((c) => c.name), ['meshlet-init', 'meshlet-proxy', 'migrate']);
  const proxy = byName(wanted.spec?.initContainers, 'meshlet-proxy')!;
  assert.equal(proxy.restartPolicy, 'Always');
  assert.deepEqual((proxy.startupProbe as { httpGet: unknown }).httpGet, { path: '/healthz/ready', port: 15021, scheme: 'HTTP' });
  assert.deepEqual(proxy.securityContext, {
    runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
  });
  const init = byName(wanted.spec?.initContainers, 'meshlet-init')!;
  assert.deepEqual((init.securityContext as { capabilities: unknown }).capabilities, { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] });
  assert.deepEqual(wanted.spec?.containers.map((c) => c.name), ['worker']);
  const token = wanted.spec?.volumes?.find((v) => v.name === 'meshlet-token') as { projected: { sources: { serviceAccountToken: { audience: string } }[] } };
  assert.equal(token.projected.sources[0]?.serviceAccountToken.audience, 'meshlet');
});

test('legacy clusters: proxy first among containers with a start hold', () => {
  const { wanted } = injectPod(webPod(), mesh, DEFAULT_VALUES, false);
  assert.deepEqual(wanted.spec?.containers.map((c) => c.name), ['meshlet-proxy', 'web']);
  const proxy = wanted.spec!.containers[0]!;
  assert.equal(proxy.restartPolicy, undefined);
  assert.ok((proxy.lifecycle as { postStart: { exec: { command: string[] } } }).postStart.exec.command.join(' ').includes('15021/healthz/ready'));
  assert.deepEqual(wanted.spec?.initContainers?.map((c) => c.name), ['meshlet-init']);
});

test('app HTTP probes go through 15021 and the originals are kept for the proxy', () => {
  const { wanted } = injectPod(webPod(), mesh, DEFAULT_VALUES, true);
  const web = byName(wanted.spec?.containers, 'web')!;
  assert.deepEqual(web.livenessProbe, { httpGet: { path: '/app-health/web/livez', port: 15021, scheme: 'HTTP' }, periodSeconds: 10 });
  const original = JSON.parse(wanted.metadata!.annotations!['sidecar.meshlet.io/app-probes']!) as Record<string, unknown>;
  assert.deepEqual(original['/app-health/web/livez'], { httpGet: { path: '/livez', port: 8080, scheme: 'HTTP' } });
  assert.deepEqual(original['/app-health/web/readyz'], { httpGet: { path: '/readyz', port: 8080, scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: 'kubelet' }] }, timeoutSeconds: 2 });
  const env = (byName(wanted.spec?.initContainers, 'meshlet-proxy')!.env as { name: string; value?: string }[]);
  assert.deepEqual(JSON.parse(env.find((e) => e.name === 'APP_PROBES')!.value!), original);
});

test('Prometheus scrape annotations are merged: scrapers hit the proxy, which appends the app metrics', () => {
  const { wanted } = injectPod(webPod(), mesh, DEFAULT_VALUES, true);
  const a = wanted.metadata!.annotations!;
  assert.equal(a['prometheus.io/port'], '15090');
  assert.equal(a['prometheus.io/path'], '/stats/prometheus');
  assert.deepEqual(JSON.parse(a['sidecar.meshlet.io/app-metrics']!), { port: 9102, path: '/app-metrics', scheme: 'http' });
  assert.deepEqual(JSON.parse(a['sidecar.meshlet.io/status']!), { result: 'injected', reason: 'namespace-label', template: JSON.parse(a['sidecar.meshlet.io/status']!).template, mode: 'native' });
});

test('override annotations (Istio and meshlet names) reach the proxy resources and init flags', () => {
  const { wanted } = injectPod(overridePod(), mesh, DEFAULT_VALUES, true);
  const proxy = byName(wanted.spec?.initContainers, 'meshlet-proxy')!;
  assert.deepEqual(proxy.resources, { requests: { cpu: '250m', memory: '200Mi' }, limits: { cpu: '2', memory: '512Mi' } });
  const args = byName(wanted.spec?.initContainers, 'meshlet-init')!.args as string[];
  const flag = (f: string): string | undefined => args[args.indexOf(f) + 1];
  assert.equal(flag('--exclude-outbound-ports'), '5432,6379');
  assert.equal(flag('--exclude-inbound-ports'), '15000,15021,15090,9102');
  assert.equal(flag('--include-outbound-ip-ranges'), '10.0.0.0/8,172.16.0.0/12');
  assert.equal(flag('--exclude-outbound-ip-ranges'), '10.96.0.1/32');
  assert.equal((proxy.env as { name: string; value?: string }[]).find((e) => e.name === 'MESHLET_LOG_LEVEL')?.value, 'debug');
  // scrape=false: the app's choice stands.
  assert.equal(wanted.metadata!.annotations!['prometheus.io/port'], undefined);
});

test('a bad override is an error naming the annotation', () => {
  const p = webPod();
  p.metadata!.annotations = { 'traffic.sidecar.istio.io/excludeOutboundPorts': '5432,http' };
  assert.throws(() => injectPod(p, mesh, DEFAULT_VALUES, true), (e: unknown) => e instanceof MeshletError && e.code === 'MESHLET_WEBHOOK_BAD_OVERRIDE' && e.message.includes('excludeOutboundPorts'));
});

test('skipped pods only gain the status annotation', () => {
  const pod = webPod();
  const { wanted } = injectPod(pod, { name: 'plain', labels: {}, annotations: {} }, DEFAULT_VALUES, true);
  assert.deepEqual(diff(pod, wanted), [{ op: 'add', path: '/metadata/annotations/sidecar.meshlet.io~1status', value: '{"result":"skipped","reason":"namespace-not-enabled"}' }]);
});

test('the mesh trust domain reaches the proxy (--trust-domain) when it is not cluster.local', () => {
  const args = (trustDomain: string): string[] => byName(injectPod(webPod(), mesh, { ...DEFAULT_VALUES, trustDomain }, true).wanted.spec?.initContainers, 'meshlet-proxy')?.args as string[] | undefined ?? [];
  const custom = args('example.org');
  assert.equal(custom[custom.indexOf('--trust-domain') + 1], 'example.org');
  assert.equal(args('cluster.local').includes('--trust-domain'), false);
});
