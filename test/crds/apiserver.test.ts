/**
 * Real kube-apiserver: the generated CRDs installed, the /validate plugin registered as a
 * ValidatingWebhookConfiguration (local URL + CA bundle). Every fixture is applied with kubectl:
 * valid ones are accepted unchanged, invalid ones refused with the path (and, for meshlet's
 * own rules, the code) in kubectl's output. Objects written as v1alpha3/v1beta1 read back as v1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { fastify, type FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { validatePlugin } from '../../webhook/validate.ts';
import { validatingRules, validatingWebhookConfiguration } from '../../webhook/validate-config.ts';
import { loadFixtures, type Fixture } from './fixtures.ts';

const CRDS = fileURLToPath(new URL('../../crds/generated/all.yaml', import.meta.url));
/** Codes the apiserver's own schema check reports first, in its words (path, no meshlet code). */
const SCHEMA_CODES = new Set(['MESHLET_CRD_TYPE', 'MESHLET_CRD_UNKNOWN_FIELD', 'MESHLET_CRD_REQUIRED', 'MESHLET_CRD_ENUM', 'MESHLET_CRD_RANGE', 'MESHLET_CRD_ONE_OF', 'MESHLET_CRD_TOO_MANY']);

let cluster: Cluster;
let server: FastifyInstance;
let nsCounter = 0;

async function freshNamespace(): Promise<string> {
  const ns = `fx-${process.pid}-${nsCounter++}`;
  const r = await cluster.kubectl(['create', 'namespace', ns]);
  assert.equal(r.code, 0, r.stderr);
  return ns;
}

async function apply(text: string, ns: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return cluster.kubectl(['apply', '-n', ns, '-f', '-'], { input: text });
}

before(async () => {
  cluster = await startCluster({ crds: [CRDS], log: () => {} });
  const cert = await cluster.issueServingCert(['127.0.0.1']);
  server = fastify({ https: { key: cert.keyPem, cert: cert.certPem } });
  await server.register(validatePlugin);
  await server.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.server.address() as AddressInfo).port;
  await cluster.registerWebhook({
    type: 'Validating',
    name: 'meshlet-validator',
    port,
    path: '/validate',
    caBundlePem: cert.caPem,
    failurePolicy: 'Fail',
    timeoutSeconds: 10,
    rules: validatingRules(),
  });
  // The apiserver loads webhook configurations asynchronously: wait until ours answers.
  const ns = await freshNamespace();
  const probe = loadFixtures().find((f) => f.name === 'invalid/vs-weight-negative.yaml') as Fixture;
  for (let i = 0; ; i++) {
    const r = await apply(probe.text, ns);
    if (r.stderr.includes('MESHLET_CRD_WEIGHT')) break;
    if (r.code === 0) await cluster.kubectl(['delete', '-n', ns, '-f', '-'], { input: probe.text });
    if (i >= 60) throw new Error(`validating webhook never answered: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 500));
  }
});

after(async () => {
  await server?.close();
  await cluster?.stop();
});

/** Runs fn over items, at most `limit` at a time (kubectl processes on a 2-core machine). */
async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x);
  }));
}

test('every valid fixture (Istio bookinfo/getting-started included) is accepted unchanged by kubectl apply', async () => {
  const failures: string[] = [];
  await pool(loadFixtures().filter((f) => f.valid), 4, async (f) => {
    const ns = await freshNamespace();
    const r = await apply(f.text, ns);
    if (r.code !== 0) failures.push(`${f.name}: ${r.stderr}`);
    for (const obj of f.objects) {
      const kind = String(obj.kind).toLowerCase();
      const name = String((obj.metadata as { name: string }).name);
      const got = await cluster.kubectl(['get', '-n', ns, `${kind}.v1.${String(obj.apiVersion).split('/')[0]}`, name, '-o', 'json']);
      if (got.code !== 0) failures.push(`${f.name}: get ${kind}/${name}: ${got.stderr}`);
      else assert.deepEqual(JSON.parse(got.stdout).spec, obj.spec, `${f.name}: ${kind}/${name} spec changed on the way through the apiserver`);
    }
    for (const w of f.warn) if (!r.stderr.includes(`${w.path}: `) || !r.stderr.includes(w.code)) failures.push(`${f.name}: kubectl did not print warning ${w.code} at ${w.path}: ${r.stderr}`);
  });
  assert.deepEqual(failures, []);
});

test('every invalid fixture is refused by kubectl apply with its path (and, for meshlet rules, code and hint)', async () => {
  const failures: string[] = [];
  await pool(loadFixtures().filter((f) => !f.valid), 4, async (f) => {
    const ns = await freshNamespace();
    const r = await apply(f.text, ns);
    if (r.code === 0) return void failures.push(`${f.name}: accepted`);
    for (const e of f.expect) {
      if (!r.stderr.includes(e.path)) failures.push(`${f.name}: output lacks path ${e.path}: ${r.stderr}`);
      if (!SCHEMA_CODES.has(e.code) && !new RegExp(`\\[${e.code}\\]\\s+hint: `).test(r.stderr)) failures.push(`${f.name}: output lacks "[${e.code}] hint: …": ${r.stderr}`);
    }
  });
  assert.deepEqual(failures, []);
});

test('a webhook denial names the object, path, reason, code and hint', async () => {
  const ns = await freshNamespace();
  const f = loadFixtures().find((x) => x.name === 'invalid/vs-retry-unknown-policy.yaml') as Fixture;
  const r = await apply(f.text, ns);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /denied the request: VirtualService fx-[\d-]+\/vs-retry-unknown-policy is invalid \(1 error\)/);
  assert.match(r.stderr, /spec\.http\[0\]\.retries\.retryOn: "on-sundays" is not a retry policy or an HTTP status code \[MESHLET_CRD_RETRY\]/);
  assert.match(r.stderr, /hint: attempts must be >= 0/);
});

const CONVERSIONS: { apiVersion: string; plural: string; text: string }[] = [
  { apiVersion: 'networking.istio.io/v1alpha3', plural: 'virtualservices', text: 'kind: VirtualService\nmetadata: {name: conv}\nspec:\n  hosts: [reviews]\n  http:\n  - match: [{headers: {end-user: {exact: jason}}}]\n    route: [{destination: {host: reviews, subset: v2}, weight: 100}]\n    timeout: 1.5s\n' },
  { apiVersion: 'networking.istio.io/v1beta1', plural: 'virtualservices', text: 'kind: VirtualService\nmetadata: {name: conv}\nspec:\n  hosts: [ratings]\n  http:\n  - fault: {abort: {httpStatus: 500, percentage: {value: 100.0}}}\n    route: [{destination: {host: ratings, subset: v1}}]\n' },
  { apiVersion: 'networking.istio.io/v1alpha3', plural: 'destinationrules', text: 'kind: DestinationRule\nmetadata: {name: conv}\nspec:\n  host: reviews\n  trafficPolicy: {connectionPool: {tcp: {maxConnections: 10}}, outlierDetection: {consecutive5xxErrors: 3, interval: 10s}}\n  subsets: [{name: v1, labels: {version: v1}}]\n' },
  { apiVersion: 'security.istio.io/v1beta1', plural: 'peerauthentications', text: 'kind: PeerAuthentication\nmetadata: {name: conv}\nspec:\n  selector: {matchLabels: {app: x}}\n  mtls: {mode: PERMISSIVE}\n  portLevelMtls: {"8080": {mode: STRICT}}\n' },
  { apiVersion: 'security.istio.io/v1beta1', plural: 'authorizationpolicies', text: 'kind: AuthorizationPolicy\nmetadata: {name: conv}\nspec:\n  action: DENY\n  rules: [{from: [{source: {notNamespaces: [prod]}}], to: [{operation: {methods: [POST]}}]}]\n' },
];

test('objects written as v1alpha3/v1beta1 read back as v1 (and as the old version) unchanged', async () => {
  for (const c of CONVERSIONS) {
    const ns = await freshNamespace();
    const text = `apiVersion: ${c.apiVersion}\n${c.text}`;
    const r = await apply(text, ns);
    assert.equal(r.code, 0, r.stderr);
    const group = c.apiVersion.split('/')[0] as string;
    const want = (parse(text) as { spec: unknown }).spec;
    for (const v of ['v1', c.apiVersion.split('/')[1] as string]) {
      const got = await cluster.kubectl(['get', '-n', ns, `${c.plural}.${v}.${group}`, 'conv', '-o', 'json']);
      assert.equal(got.code, 0, got.stderr);
      const obj = JSON.parse(got.stdout) as { apiVersion: string; spec: unknown };
      assert.equal(obj.apiVersion, `${group}/${v}`);
      assert.deepEqual(obj.spec, want, `${c.plural} written as ${c.apiVersion}, read as ${v}`);
    }
  }
});

test('an update that breaks a rule is refused and the stored object is kept', async () => {
  const ns = await freshNamespace();
  const good = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: upd}\nspec:\n  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews, subset: v1}, weight: 100}]\n';
  assert.equal((await apply(good, ns)).code, 0);
  const bad = good.replace('retries', '').replace('weight: 100', 'weight: 100}, {destination: {host: reviews, subset: v2}, weight: -1');
  const r = await apply(bad, ns);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.http\[0\]\.route\[1\]\.weight: weight -1 is negative \[MESHLET_CRD_WEIGHT\]/);
  const got = await cluster.kubectl(['get', '-n', ns, 'virtualservice', 'upd', '-o', 'jsonpath={.spec.http[0].route}']);
  assert.equal(JSON.parse(got.stdout).length, 1);
});

test('a 1,000-route VirtualService passes the apiserver (CEL cost budget) and the webhook', async () => {
  const ns = await freshNamespace();
  const { bigVirtualService } = await import('./big-vs.ts');
  const vs = bigVirtualService(1000);
  (vs.metadata as { namespace?: string }).namespace = ns;
  const r = await cluster.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(vs) });
  assert.equal(r.code, 0, r.stderr);
  const got = await cluster.kubectl(['get', '-n', ns, 'virtualservice', 'big', '-o', 'jsonpath={.spec.http[999].name}']);
  assert.equal(got.stdout, 'r999');
});

test('the production ValidatingWebhookConfiguration is accepted by the apiserver (server-side dry run)', async () => {
  const cfg = validatingWebhookConfiguration({ caBundlePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
  const r = await cluster.kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(cfg) });
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { webhooks: { clientConfig: { service: { path: string; port: number } }; rules: { resources: string[] }[] }[] };
  assert.equal(got.webhooks[0]?.clientConfig.service.path, '/validate');
  assert.equal(got.webhooks[0]?.clientConfig.service.port, 15017);
  assert.deepEqual(got.webhooks[0]?.rules.flatMap((x) => x.resources).sort(), ['authorizationpolicies', 'destinationrules', 'peerauthentications', 'requestauthentications', 'virtualservices']);
});
