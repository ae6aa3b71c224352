// The chart as `helm lint` / `helm template` see it (pinned helm, no cluster): golden output
// for default and production-shaped values, schema rejections with the path in the message,
// and the rendered objects a user relies on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CHART, FIXTURES, find, golden, goldenForm, helm, render, template } from './helm.ts';
import type { K8sObject } from './helm.ts';
import { DEFAULT_VALUES, valuesFromConfigMap } from '../../webhook/values.ts';
import { webhookConfiguration } from '../../webhook/configuration.ts';

const CUSTOM = join(FIXTURES, 'values-custom.yaml');

type Obj = Record<string, unknown>;
const at = (o: unknown, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k as string], o);

describe('helm lint', () => {
  test('default values lint clean (--strict)', async () => {
    const r = await helm(['lint', '--strict', CHART]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('production-shaped values lint clean (--strict)', async () => {
    const r = await helm(['lint', '--strict', CHART, '--values', CUSTOM]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});

describe('helm template golden output', () => {
  for (const [name, opts] of [['default.yaml', {}], ['custom.yaml', { valuesFile: CUSTOM }]] as const) {
    test(`${name} (UPDATE_GOLDEN=1 rewrites it)`, async () => {
      const r = await template(opts);
      assert.equal(r.code, 0, r.stderr);
      const actual = goldenForm(r.stdout);
      assert.equal(actual, golden(name, actual));
    });
  }
});

describe('values.schema.json rejects wrong values with the path in the message', () => {
  const cases: Array<[string[], RegExp]> = [
    [['mtls.mode=STRIKT'], /\/mtls\/mode.*STRICT.*PERMISSIVE.*DISABLE/],
    [['sidecar.proxy.resources.limits.cpu=lots'], /\/sidecar\/proxy\/resources\/limits\/cpu/],
    [['operator.replicas=0'], /\/operator\/replicas/],
    [['image.pullPolicy=Sometimes'], /\/image\/pullPolicy/],
    [['tracing.samplingPercent=150'], /\/tracing\/samplingPercent/],
    [['tracing.endpoint=collector:4318'], /\/tracing\/endpoint/],
    [['ca.workloadCertTTL=1day'], /\/ca\/workloadCertTTL/],
    [['logLevel=loud'], /\/logLevel/],
    [['injection.failurePolicy=Maybe'], /\/injection\/failurePolicy/],
    [['crds.install=yes please'], /\/crds\/install/],
    [['operator.runAsUser=0'], /\/operator\/runAsUser/],
    [['sidecar.proxy.resourcs.limits.cpu=1'], /additional properties 'resourcs' not allowed/],
  ];
  for (const [set, message] of cases) {
    test(`--set ${set.join(' ')}`, async () => {
      const r = await template({ set });
      assert.notEqual(r.code, 0, 'helm template should fail');
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.match(r.stderr, message);
    });
  }
});

test('another namespace than meshlet-system is refused with the command to use', async () => {
  const r = await template({ namespace: 'default' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /meshlet must be installed in namespace meshlet-system \(got "default"\): helm install meshlet charts\/meshlet -n meshlet-system --create-namespace/);
});

describe('rendered objects', () => {
  test('defaults: every object, names from DESIGN §2, install namespace', async () => {
    const docs = await render();
    const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'ClusterRole/meshlet-operator', 'ClusterRoleBinding/meshlet-operator',
      'ConfigMap/meshlet-mesh', 'ConfigMap/meshlet-sidecar-injector',
      'CustomResourceDefinition/authorizationpolicies.security.istio.io', 'CustomResourceDefinition/destinationrules.networking.istio.io',
      'CustomResourceDefinition/peerauthentications.security.istio.io', 'CustomResourceDefinition/requestauthentications.security.istio.io', 'CustomResourceDefinition/virtualservices.networking.istio.io',
      'Deployment/meshlet-operator', 'MutatingWebhookConfiguration/meshlet-sidecar-injector', 'PeerAuthentication/default', 'PodDisruptionBudget/meshlet-operator',
      'Role/meshlet-operator', 'RoleBinding/meshlet-operator', 'Service/meshlet', 'ServiceAccount/meshlet-operator',
      'ValidatingWebhookConfiguration/meshlet-validator',
    ]);
    const svc = find(docs, 'Service', 'meshlet');
    assert.deepEqual((at(svc, 'spec', 'ports') as Obj[]).map((p) => p.port), [15012, 15014, 15017]);
    for (const d of docs.filter((x) => !['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].includes(x.kind))) {
      assert.equal(d.metadata.namespace, 'meshlet-system', `${d.kind}/${d.metadata.name}`);
    }
  });

  test('operator Deployment: non-root, read-only root, no capabilities, probes on 15014, no anti-affinity with one replica', async () => {
    const dep = find(await render(), 'Deployment', 'meshlet-operator');
    const pod = at(dep, 'spec', 'template', 'spec') as Obj;
    const c = (pod.containers as Obj[])[0] as Obj;
    assert.equal(c.image, 'ghcr.io/meshlet/meshlet:0.1.0');
    assert.deepEqual(c.args, ['operator', '--identity=$(POD_NAME)']);
    assert.deepEqual((c.env as Obj[])[0], { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, 'POD_NAME is defined before it is used');
    assert.equal(at(pod, 'securityContext', 'runAsNonRoot'), true);
    assert.deepEqual(at(c, 'securityContext'), { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
    assert.equal(at(c, 'livenessProbe', 'httpGet', 'port'), 15014);
    assert.equal(at(c, 'readinessProbe', 'httpGet', 'path'), '/ready');
    assert.deepEqual(at(c, 'resources', 'requests'), { cpu: '200m', memory: '256Mi' });
    assert.equal(pod.affinity, undefined);
    assert.equal(at(dep, 'spec', 'replicas'), 1);
  });

  test('tracing.url reaches the operator as MESHLET_TRACING_URL (the graph links traces there); unset by default', async () => {
    const envOf = async (set: string[]): Promise<Obj[]> => at(find(await render({ set }), 'Deployment', 'meshlet-operator'), 'spec', 'template', 'spec', 'containers', 0, 'env') as Obj[];
    assert.deepEqual((await envOf(['tracing.url=http://jaeger-query.observability:16686'])).find((e) => e.name === 'MESHLET_TRACING_URL'), { name: 'MESHLET_TRACING_URL', value: 'http://jaeger-query.observability:16686' });
    assert.equal((await envOf([])).some((e) => e.name === 'MESHLET_TRACING_URL'), false);
  });

  test('three replicas: anti-affinity by node, the pod name as leader-election identity, PDB keeps one', async () => {
    const docs = await render({ set: ['operator.replicas=3'] });
    const dep = find(docs, 'Deployment', 'meshlet-operator');
    const term = at(dep, 'spec', 'template', 'spec', 'affinity', 'podAntiAffinity', 'preferredDuringSchedulingIgnoredDuringExecution', 0, 'podAffinityTerm') as Obj;
    assert.equal(term.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(at(term, 'labelSelector', 'matchLabels'), at(dep, 'spec', 'selector', 'matchLabels'));
    // Election is always on (one replica simply always wins); each pod must have its own identity.
    assert.deepEqual(at(dep, 'spec', 'template', 'spec', 'containers', 0, 'args'), ['operator', '--identity=$(POD_NAME)']);
    const env = at(dep, 'spec', 'template', 'spec', 'containers', 0, 'env') as Obj[];
    assert.ok(env.some((e) => e.name === 'POD_NAME'), 'POD_NAME from the downward API');
    assert.equal(at(find(docs, 'PodDisruptionBudget', 'meshlet-operator'), 'spec', 'maxUnavailable'), 1);
  });

  test('image digest wins over tag; tag defaults to appVersion', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const docs = await render({ set: [`image.digest=${digest}`, 'image.tag=9.9.9'] });
    const image = at(find(docs, 'Deployment', 'meshlet-operator'), 'spec', 'template', 'spec', 'containers', 0, 'image');
    assert.equal(image, `ghcr.io/meshlet/meshlet@${digest}`);
    const values = valuesFromConfigMap(find(docs, 'ConfigMap', 'meshlet-sidecar-injector').data as Record<string, string>);
    assert.equal(values.image, image, 'sidecars run the same image as the operator');
  });

  test('default sidecar values are the injector\'s own defaults (chart and code agree)', async () => {
    const v = valuesFromConfigMap(find(await render(), 'ConfigMap', 'meshlet-sidecar-injector').data as Record<string, string>);
    assert.deepEqual(v, DEFAULT_VALUES);
  });

  test('sidecar ConfigMap is accepted by the webhook and carries the values', async () => {
    const docs = await render({ valuesFile: CUSTOM });
    const v = valuesFromConfigMap(find(docs, 'ConfigMap', 'meshlet-sidecar-injector').data as Record<string, string>);
    assert.equal(v.image, 'registry.example.com:5000/platform/meshlet:0.1.0-rc.1');
    assert.equal(v.imagePullPolicy, 'Always');
    assert.deepEqual(v.proxy.resources, { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    assert.equal(v.proxy.logLevel, 'info');
    assert.equal(v.proxy.concurrency, 0);
    assert.equal(v.operatorAddress, 'meshlet.meshlet-system.svc:15012');
    assert.equal(v.traffic.excludeOutboundPorts, '3306,5432');
    assert.equal(v.traffic.excludeOutboundIPRanges, '169.254.169.254/32');
  });

  test('mesh settings ConfigMap carries trust domain, tracing, access log, CA', async () => {
    const { parse } = await import('yaml');
    const mesh = parse((find(await render({ valuesFile: CUSTOM }), 'ConfigMap', 'meshlet-mesh').data as Obj)['mesh.yaml'] as string) as Obj;
    assert.equal(mesh.trustDomain, 'prod.example.com');
    assert.deepEqual(mesh.accessLog, { enabled: true });
    assert.deepEqual(mesh.tracing, { endpoint: 'http://otel-collector.observability:4318/v1/traces', samplingPercent: 10 });
    assert.deepEqual(mesh.ca, { existingSecret: 'corp-intermediate-ca', rootTTL: '43800h', workloadCertTTL: '12h' });
    const defaults = parse((find(await render(), 'ConfigMap', 'meshlet-mesh').data as Obj)['mesh.yaml'] as string) as Obj;
    assert.deepEqual(defaults.tracing, { endpoint: '', samplingPercent: 1 });
    assert.deepEqual(defaults.accessLog, { enabled: false });
  });

  test('mesh-wide mTLS: PeerAuthentication default in the root namespace, PERMISSIVE unless set, as a post-install/upgrade hook', async () => {
    const pa = find(await render(), 'PeerAuthentication', 'default');
    assert.equal(pa.metadata.namespace, 'meshlet-system');
    assert.deepEqual(pa.spec, { mtls: { mode: 'PERMISSIVE' } });
    assert.equal(pa.metadata.annotations?.['helm.sh/hook'], 'post-install,post-upgrade');
    assert.deepEqual(find(await render({ valuesFile: CUSTOM }), 'PeerAuthentication', 'default').spec, { mtls: { mode: 'STRICT' } });
    // The validator does not hold the hook up (validation.failurePolicy=Fail, operator not ready yet).
    const validator = find(await render(), 'ValidatingWebhookConfiguration', 'meshlet-validator');
    const selector = at(validator, 'webhooks', 0, 'objectSelector', 'matchExpressions', 0) as Obj;
    assert.deepEqual(selector, { key: 'meshlet.io/chart-default', operator: 'DoesNotExist' });
    assert.equal(pa.metadata.labels?.['meshlet.io/chart-default'], 'true');
  });

  test('MutatingWebhookConfiguration has the shape webhook/configuration.ts builds', async () => {
    const chart = find(await render(), 'MutatingWebhookConfiguration', 'meshlet-sidecar-injector');
    const code = webhookConfiguration() as unknown as K8sObject;
    const strip = (w: Obj): Obj => ({ ...w, namespaceSelector: { matchExpressions: (at(w, 'namespaceSelector', 'matchExpressions') as Obj[]) } });
    assert.deepEqual((chart.webhooks as Obj[]).map(strip), (code.webhooks as Obj[]).map(strip));
    for (const w of chart.webhooks as Obj[]) assert.equal(at(w, 'clientConfig', 'caBundle'), undefined, 'the operator fills caBundle in');
  });

  test('injection extras are ANDed into every entry; kube-system and meshlet-system stay excluded', async () => {
    const hook = find(await render({ valuesFile: CUSTOM }), 'MutatingWebhookConfiguration', 'meshlet-sidecar-injector');
    for (const w of hook.webhooks as Obj[]) {
      assert.deepEqual(at(w, 'namespaceSelector', 'matchLabels'), { env: 'prod' });
      const exprs = at(w, 'namespaceSelector', 'matchExpressions') as Obj[];
      assert.deepEqual(exprs.find((e) => e.key === 'kubernetes.io/metadata.name')?.values, ['kube-system', 'meshlet-system', 'monitoring']);
      assert.ok(exprs.some((e) => e.key === 'team' && e.operator === 'Exists'));
      assert.equal(w.timeoutSeconds, 5);
    }
  });

  test('crds.install=false renders no CRD; crds.keep adds helm.sh/resource-policy: keep', async () => {
    assert.equal((await render({ set: ['crds.install=false'] })).filter((d) => d.kind === 'CustomResourceDefinition').length, 0);
    const kept = (await render()).filter((d) => d.kind === 'CustomResourceDefinition');
    assert.equal(kept.length, 5);
    for (const c of kept) assert.equal(c.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    for (const c of (await render({ set: ['crds.keep=false'] })).filter((d) => d.kind === 'CustomResourceDefinition')) {
      assert.equal(c.metadata.annotations?.['helm.sh/resource-policy'], undefined);
    }
  });

  test('validation.enabled=false drops the ValidatingWebhookConfiguration', async () => {
    const docs = await render({ set: ['validation.enabled=false'] });
    assert.equal(docs.some((d) => d.kind === 'ValidatingWebhookConfiguration'), false);
  });

  test('dashboards: off by default; on, ConfigMaps labelled grafana_dashboard "1" with Istio-compatible queries', async () => {
    assert.equal((await render()).some((d) => d.metadata.name.startsWith('meshlet-dashboard-')), false);
    const docs = await render({ set: ['dashboards.enabled=true'] });
    const mesh = find(docs, 'ConfigMap', 'meshlet-dashboard-mesh');
    const cp = find(docs, 'ConfigMap', 'meshlet-dashboard-control-plane');
    const exprs = (cm: K8sObject): string[] => {
      const data = cm.data as Record<string, string>;
      assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
      const dash = JSON.parse(Object.values(data)[0] as string) as { panels: Array<{ targets: Array<{ expr: string }> }> };
      return dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    };
    const m = exprs(mesh);
    assert.ok(m.some((e) => e.includes('sum(rate(istio_requests_total{') && e.includes('by (destination_service)')), m.join('\n'));
    assert.ok(m.includes('histogram_quantile(0.99, rate(istio_request_duration_milliseconds_bucket[5m]))'));
    const c = exprs(cp);
    assert.ok(c.some((e) => e.includes('pilot_xds_pushes')));
    assert.ok(c.includes('sum(pilot_xds)'), 'proxies connected');
  });
});
