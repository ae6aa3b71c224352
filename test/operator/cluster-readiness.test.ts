/**
 * After a restart, `meshlet operator` against a real kube-apiserver serves nothing until
 * every watched kind was listed once. The restarted operator may not list
 * AuthorizationPolicies (its ClusterRole lacks them, so the list fails with 403 until the
 * rule is restored — a delay that does not depend on timing). Meanwhile: /ready is 503 and
 * names the pending resources, a client asking for config gets 304 (never a snapshot
 * without the DENY policy), and a real proxy keeps its config, so every request to the
 * denied path, sent all along, is denied. With 300 (headless: the test apiserver's service
 * IP range is small) Services and 300 VirtualServices.
 * WorkloadEntry has no CRD here: it is reported as not served, and does not hold anything.
 *
 * Then, with an AuthorizationPolicy CRD whose schema is older (it accepts anything, as
 * with the validating webhook off): an update that meshlet finds invalid keeps its last
 * good version, with a Stale status condition and a log line; a policy never valid fails
 * closed (deny-all for its workloads).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { issue, testCa } from '../security/helpers.ts';
import { parse } from 'yaml';
import { Agent, request } from 'undici';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { startOperatorProcess, type OperatorProcess } from './helpers/operator-process.ts';
import { apply, until } from './helpers/cluster-fixtures.ts';
import { freePort } from '../webhook/helpers/webhook-process.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';

const BLOCK = 75;
const N = 300;
const AP = ['authorizationpolicies.security.istio.io/v1', 'authorizationpolicies.security.istio.io/v1beta1'];
let cluster: Cluster | undefined;
let dir = '';
let app: Upstream;
let proxy: ProxyProcess | undefined;
let op: OperatorProcess | undefined;
let kubeconfig = '';
let pushPort = 0;

function clusterRole(withPolicies: boolean): string {
  const always = ['peerauthentications', 'peerauthentications/status', 'requestauthentications', 'requestauthentications/status'];
  const security = withPolicies ? [...always, 'authorizationpolicies', 'authorizationpolicies/status'] : always;
  return JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'meshlet-op-test' },
    rules: [
      { apiGroups: ['', 'discovery.k8s.io', 'networking.istio.io', 'authentication.k8s.io', 'coordination.k8s.io'], resources: ['*'], verbs: ['*'] },
      { apiGroups: ['security.istio.io'], resources: security, verbs: ['*'] },
    ],
  });
}

function objects(appPort: number): string {
  const docs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshlet-system' } },
    // The real proxy's pod: the operator learns its labels from it (no kubelet: it stays Pending).
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'reviews-v1-a', namespace: 'default', labels: { app: 'reviews', version: 'v1' } }, spec: { containers: [{ name: 'app', image: 'example.invalid/reviews:1' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080, targetPort: appPort }] } },
    { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-path', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'reviews' } }, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/deny'] } }] }] } },
  ];
  for (let i = 0; i < N; i++) {
    docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 8080 }] } } as never);
    docs.push({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `vs-${i}`, namespace: 'default' }, spec: { hosts: [`svc-${i}`], http: [{ name: 'r', route: [{ destination: { host: `svc-${i}` } }] }] } } as never);
  }
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

const startOperator = (name: string, status = false): Promise<OperatorProcess> =>
  startOperatorProcess(['--kubeconfig', kubeconfig, '--webhook=false', ...(status ? [] : ['--no-status']), '--insecure-proxy-claims', '--hold', '1000', '--push-port', String(pushPort), '--identity', name, '--log-level', 'info'], join(dir, `${name}.pem`), 60_000);

/** The AuthorizationPolicy CRD with the schema of an older release: any spec is stored. */
function olderPolicyCrd(): object {
  const crd = parse(readFileSync(fileURLToPath(new URL('../../crds/generated/authorizationpolicies.security.istio.io.yaml', import.meta.url)), 'utf8')) as { spec: { versions: { schema: unknown }[] } };
  const loose = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  for (const v of crd.spec.versions) v.schema = { openAPIV3Schema: { type: 'object', properties: { spec: loose, status: loose } } };
  return crd;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-op-ready-'));
  const crd = (k: string): string => fileURLToPath(new URL(`../../crds/generated/${k}.yaml`, import.meta.url));
  cluster = await startCluster({ log: () => {}, crds: [crd('virtualservices.networking.istio.io'), crd('destinationrules.networking.istio.io'), crd('peerauthentications.security.istio.io')] });
  await cluster.installCRDs([olderPolicyCrd()]);
  app = await startEcho('reviews', allocAddress(BLOCK));
  const sa = await cluster.serviceAccountKubeconfig('meshlet-system', 'meshlet-operator', { expirationSeconds: 3600 });
  kubeconfig = sa.path;
  await apply(cluster, clusterRole(true));
  await apply(cluster, JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'meshlet-op-test' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'meshlet-op-test' }, subjects: [{ kind: 'ServiceAccount', name: 'meshlet-operator', namespace: 'meshlet-system' }] }));
  await apply(cluster, objects(app.port));
  pushPort = await freePort();
  op = await startOperator('first');
  const bind = allocAddress(BLOCK);
  // A workload certificate turns on the proxy's inbound security (authorization included); PERMISSIVE lets plaintext in.
  const cert = await issue(await testCa(join(dir, 'ca')), 'default', 'reviews');
  const files = ['crt', 'key', 'root'].map((x) => join(dir, `reviews.${x}`));
  [cert.certChainPem, cert.keyPem, cert.rootCertPem].forEach((pem, i) => writeFileSync(files[i]!, pem));
  proxy = await startProxyProcess({
    bind,
    args: ['--operator', `https://127.0.0.1:${pushPort}`, '--ca-file', join(dir, 'first.pem'), '--cert-file', files[0]!, '--key-file', files[1]!, '--root-file', files[2]!, '--pod', 'reviews-v1-a', '--namespace', 'default', '--service-account', 'reviews', '--labels', 'app=reviews,version=v1', '--pod-ip', bind, '--app-host', app.address, '--backoff-base-ms', '100', '--backoff-max-ms', '300'],
  });
}, { timeout: 45 * 60_000 });

after(async () => {
  await proxy?.stop();
  await op?.stop();
  await app?.close();
  await cluster?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const inbound = async (path: string): Promise<number> => {
  const p = proxy as ProxyProcess;
  const r = await request(`http://${p.bind}:${p.ports.inbound}${path}`, { headers: { host: 'reviews:9080' }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  await r.body.text();
  return r.statusCode;
};

type Snap = { security?: { authorization?: { name: string }[] } };

test('restarted with a kind it cannot list yet: /ready 503 naming it, config held (304), every /deny denied; then served whole', async () => {
  // The proxy has the first operator's config: /deny is denied, the rest reaches the app.
  await until(async () => ((await inbound('/deny')) === 403 && (await inbound('/ok')) === 200 ? true : undefined), 60_000, 'the DENY policy enforced by the proxy');
  // Requests that must be denied keep arriving for the whole restart.
  let sending = true;
  const denyStatuses: number[] = [];
  const loop = (async () => {
    for (let i = 0; i < 100_000 && sending; i++) denyStatuses.push(await inbound('/deny').catch(() => -1));
  })();
  // A client that keeps asking for config, as a proxy does: every snapshot it gets must hold the DENY policy.
  const snapshots: Snap[] = [];
  const answers: { port: number; status: number }[] = [];
  let polling = true;
  const agent = new Agent({ connect: { ca: op!.caPem }, headersTimeout: 0, bodyTimeout: 0 });
  const poller = (async () => {
    let version = '';
    for (let i = 0; i < 10_000 && polling; i++) {
      try {
        const r = await request(`https://127.0.0.1:${pushPort}/v1/config?proxy=poller-1.default&labels=app=reviews,version=v1&version=${version}`, { dispatcher: agent });
        const text = await r.body.text();
        answers.push({ port: pushPort, status: r.statusCode });
        if (r.statusCode === 200) {
          snapshots.push(JSON.parse(text) as Snap);
          version = String(r.headers['x-meshlet-version'] ?? '');
        }
      } catch {
        await new Promise((res) => setTimeout(res, 100)); // the operator is restarting
      }
    }
  })();
  try {
    await until(() => (snapshots.length > 0 ? true : undefined), 30_000, 'the poller\'s first snapshot');
    // Restart: the new operator's ServiceAccount cannot list AuthorizationPolicies yet.
    await apply(cluster!, clusterRole(false));
    await op!.stop();
    const heldFrom = answers.length;
    op = await startOperator('second');
    // Whatever the new operator answers while AuthorizationPolicies cannot be listed: never a snapshot without the DENY.
    await until(() => (answers.length - heldFrom >= 3 ? true : undefined), 30_000, 'three answers from the restarted operator');
    for (const s of snapshots) assert.ok(s.security?.authorization?.some((p) => p.name === 'default/deny-path'), `a snapshot without the DENY policy was served: ${JSON.stringify(s.security)}`);
    assert.deepEqual([...new Set(denyStatuses)], [403], 'every /deny request so far was denied');
    const pending = await until(async () => {
      const r = await fetch(`${op!.monitorUrl}/ready`);
      const body = (await r.json()) as { ready: boolean; pending: string[] };
      return body.pending.length === AP.length ? { status: r.status, body } : undefined;
    }, 60_000, '/ready pending only on AuthorizationPolicies');
    assert.equal(pending.status, 503);
    assert.equal(pending.body.ready, false);
    assert.deepEqual([...pending.body.pending].sort(), AP);
    // Held requests end in 304 while the kind is pending: the poller (and the proxy) keep their config.
    assert.equal((await fetch(`${op!.monitorUrl}/ready`)).status, 503, 'still pending');
    assert.ok(answers.slice(heldFrom).every((a) => a.status === 304), `only 304 while pending: ${JSON.stringify(answers.slice(heldFrom))}`);
    const pendingLog = op!.lines.find((l) => l.code === 'MESHLET_OPERATOR_INFORMER' && String(l.resource).startsWith('authorizationpolicies.'));
    assert.ok(pendingLog !== undefined, 'the failing list is logged with the resource it is about');
    // The rule comes back: the list succeeds, the operator becomes ready and serves the whole World.
    await apply(cluster!, clusterRole(true));
    const ready = await until(async () => {
      const r = await fetch(`${op!.monitorUrl}/ready`);
      return r.status === 200 ? ((await r.json()) as { ready: boolean; pending: string[]; missing: string[] }) : undefined;
    }, 60_000, '/ready 200');
    assert.deepEqual(ready.pending, []);
    assert.ok(ready.missing.includes('workloadentries.networking.istio.io/v1'), `a kind without its CRD is reported: ${JSON.stringify(ready)}`);
    await op!.waitForLog((l) => /every watched resource listed once/.test(String(l.msg)), 10_000, 'the serving log line');
    const served = await until(async () => {
      const r = await request(`https://127.0.0.1:${pushPort}/v1/config?proxy=poller-2.default&labels=app=reviews,version=v1`, { dispatcher: agent });
      return r.statusCode === 200 ? ((await r.body.json()) as Snap) : undefined;
    }, 20_000, 'config served after ready');
    assert.ok(served.security?.authorization?.some((p) => p.name === 'default/deny-path'), JSON.stringify(served.security));
    assert.equal(await inbound('/deny'), 403);
    assert.equal(await inbound('/ok'), 200);
  } finally {
    sending = false;
    polling = false;
    await loop;
    await poller;
    await agent.close();
  }
  assert.ok(denyStatuses.length > 10, `sent ${denyStatuses.length}`);
  assert.deepEqual([...new Set(denyStatuses)], [403], 'every /deny request was denied');
  assert.equal(app.seen.filter((s) => s.url.startsWith('/deny')).length, 0, 'no /deny request reached the app');
  for (const s of snapshots) assert.ok(s.security?.authorization?.some((p) => p.name === 'default/deny-path'), 'no snapshot without the DENY policy was ever served');
});

type Cond = { type: string; status: string; reason: string; message: string };

async function conditions(name: string): Promise<Cond[]> {
  const r = await cluster!.kubectl(['get', 'authorizationpolicy', name, '-n', 'default', '-o', 'json']);
  return (JSON.parse(r.stdout) as { status?: { conditions?: Cond[] } }).status?.conditions ?? [];
}

const policy = (name: string, spec: object): string => JSON.stringify({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: { app: 'reviews' } }, ...spec } });

test('an update meshlet finds invalid keeps the last good version (Stale condition, log line); a policy never valid fails closed', async () => {
  await apply(cluster!, clusterRole(true)); // as the test before left it (also when it failed)
  await op!.stop();
  op = await startOperator('third', true);
  await apply(cluster!, policy('stale-deny', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/stale'] } }] }] }));
  await until(async () => ((await inbound('/stale')) === 403 ? true : undefined), 30_000, '/stale denied');
  // Generation 2 is invalid for meshlet ("*" in the middle of a path) but stored by the older schema.
  await apply(cluster!, policy('stale-deny', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/st*le*'] } }] }] }));
  const stale = await until(async () => {
    const c = await conditions('stale-deny');
    return c.some((x) => x.type === 'Stale') ? c : undefined;
  }, 30_000, 'a Stale condition on stale-deny');
  assert.equal(stale.find((x) => x.type === 'Accepted')?.status, 'False');
  const cond = stale.find((x) => x.type === 'Stale');
  assert.equal(cond?.status, 'True');
  assert.equal(cond?.reason, 'OperatorObjectStale');
  assert.match(cond?.message ?? '', /^MESHLET_OPERATOR_OBJECT_STALE: .*generation 1/);
  await op!.waitForLog((l) => l.code === 'MESHLET_OPERATOR_OBJECT_STALE' && l.object === 'AuthorizationPolicy/default/stale-deny', 10_000, 'the stale log line');
  assert.equal(await inbound('/stale'), 403, 'the last good DENY is still enforced');
  assert.equal(await inbound('/ok'), 200);
  // A policy that was never valid: the workloads it selects deny everything until it is fixed or deleted.
  await apply(cluster!, policy('never-valid', { action: 'ALLOW', rules: [{ to: [{ operation: { ports: ['http'] } }] }] }));
  await until(async () => ((await inbound('/ok')) === 403 ? true : undefined), 30_000, 'deny-all from the never-valid policy');
  await op!.waitForLog((l) => l.code === 'MESHLET_OPERATOR_FAIL_CLOSED' && l.object === 'AuthorizationPolicy/default/never-valid', 10_000, 'the fail-closed log line');
  const closed = await until(async () => (await conditions('never-valid')).find((x) => x.type === 'Stale'), 30_000, 'a Stale condition on never-valid');
  assert.equal(closed.reason, 'OperatorFailClosed');
  const del = await cluster!.kubectl(['delete', 'authorizationpolicy', 'never-valid', '-n', 'default']);
  assert.equal(del.code, 0, del.stderr);
  await until(async () => ((await inbound('/ok')) === 200 ? true : undefined), 30_000, '/ok allowed again after the delete');
  assert.equal(await inbound('/stale'), 403);
});
