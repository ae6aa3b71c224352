/**
 * After a restart, `meshlet operator` against a real kube-apiserver serves nothing until
 * every watched kind was listed once. The restarted operator may not list
 * AuthorizationPolicies (its ClusterRole lacks them, so the list fails with 403 until the
 * rule is restored — a delay that does not depend on timing). Meanwhile: /ready is 503 and
 * names the pending resources, a client asking for config gets 304 (never a snapshot
 * without the DENY policy), and a real proxy keeps its config, so every request to the
 * denied path, sent all along, is denied. With 300 Services and 300 VirtualServices.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  const security = withPolicies ? ['peerauthentications', 'peerauthentications/status', 'authorizationpolicies', 'authorizationpolicies/status'] : ['peerauthentications', 'peerauthentications/status'];
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
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080, targetPort: appPort }] } },
    { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-path', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'reviews' } }, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/deny'] } }] }] } },
  ];
  for (let i = 0; i < N; i++) {
    docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'default' }, spec: { selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 8080 }] } } as never);
    docs.push({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `vs-${i}`, namespace: 'default' }, spec: { hosts: [`svc-${i}`], http: [{ name: 'r', route: [{ destination: { host: `svc-${i}` } }] }] } } as never);
  }
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

const startOperator = (name: string): Promise<OperatorProcess> =>
  startOperatorProcess(['--kubeconfig', kubeconfig, '--webhook=false', '--no-status', '--insecure-proxy-claims', '--hold', '1000', '--push-port', String(pushPort), '--identity', name, '--log-level', 'info'], join(dir, `${name}.pem`), 60_000);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-op-ready-'));
  cluster = await startCluster({ log: () => {}, crds: [fileURLToPath(new URL('../../crds/generated/all.yaml', import.meta.url))] });
  app = await startEcho('reviews', allocAddress(BLOCK));
  const sa = await cluster.serviceAccountKubeconfig('meshlet-system', 'meshlet-operator', { expirationSeconds: 3600 });
  kubeconfig = sa.path;
  await apply(cluster, clusterRole(true));
  await apply(cluster, JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'meshlet-op-test' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'meshlet-op-test' }, subjects: [{ kind: 'ServiceAccount', name: 'meshlet-operator', namespace: 'meshlet-system' }] }));
  await apply(cluster, objects(app.port));
  pushPort = await freePort();
  op = await startOperator('first');
  const bind = allocAddress(BLOCK);
  proxy = await startProxyProcess({
    bind,
    args: ['--operator', `https://127.0.0.1:${pushPort}`, '--ca-file', join(dir, 'first.pem'), '--no-mtls', '--pod', 'reviews-v1-a', '--namespace', 'default', '--service-account', 'reviews', '--labels', 'app=reviews,version=v1', '--pod-ip', bind, '--app-host', app.address, '--backoff-base-ms', '100', '--backoff-max-ms', '300'],
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
    const pending = await until(async () => {
      const r = await fetch(`${op!.monitorUrl}/ready`);
      const body = (await r.json()) as { ready: boolean; pending: string[] };
      return body.pending.length === AP.length ? { status: r.status, body } : undefined;
    }, 60_000, '/ready pending only on AuthorizationPolicies');
    assert.equal(pending.status, 503);
    assert.equal(pending.body.ready, false);
    assert.deepEqual([...pending.body.pending].sort(), AP);
    // Held requests end in 304 while the kind is pending: the poller (and the proxy) keep their config.
    await until(() => (answers.slice(heldFrom).filter((a) => a.status === 304).length >= 3 ? true : undefined), 30_000, 'three 304s from the held operator');
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
