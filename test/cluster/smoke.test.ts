// Smoke tests of the harness against the real control plane: each asserts on
// what a user of kubectl/helm/client-node would see.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthenticationV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, Watch } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startCluster } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { HELM_VERSION, KUBERNETES_VERSION } from './versions.ts';

const TINY_CHART = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'charts', 'tiny');

let cluster: Cluster;

before(async () => {
  cluster = await startCluster();
}, { timeout: 45 * 60_000 }); // a cold cache builds the binaries first

after(async () => {
  await cluster?.stop();
});

/** Retries `fn` until it stops throwing (RBAC and webhook config reach the apiserver's caches asynchronously). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

function statusCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

describe('binaries', () => {
  test('kubectl version reports the pinned client and server version', async () => {
    const r = await cluster.kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string; major: string; minor: string } };
    assert.equal(v.serverVersion.gitVersion, KUBERNETES_VERSION);
    assert.equal(v.clientVersion.gitVersion, KUBERNETES_VERSION);
    assert.equal(`v${v.serverVersion.major}.${v.serverVersion.minor}`, KUBERNETES_VERSION.split('.').slice(0, 2).join('.'));
  });

  test('helm reports the pinned version', async () => {
    const r = await cluster.helm(['version', '--template', '{{.Version}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), HELM_VERSION);
  });
});

describe('namespaces', () => {
  test('kubectl apply creates a Namespace that client-node reads back and a watch sees ADDED', async () => {
    const kc = cluster.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const name = 'smoke-apply';
    const added = new Promise<KubernetesObject>((resolve, reject) => {
      void new Watch(kc)
        .watch('/api/v1/namespaces', { fieldSelector: `metadata.name=${name}` }, (type, obj: KubernetesObject) => {
          if (type === 'ADDED') resolve(obj);
        }, (err) => {
          if (err !== null && err !== undefined) reject(err as Error);
        })
        .then((ctl) => added.finally(() => ctl.abort()).catch(() => {}));
    });
    // The watch starts before the object exists, so ADDED is the live event.
    await sleep(500);
    const r = await cluster.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels:\n    purpose: smoke\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace\/smoke-apply created/);
    const ns = await core.readNamespace({ name });
    assert.equal(ns.metadata?.labels?.purpose, 'smoke');
    const event = await added;
    assert.equal(event.metadata?.name, name);
  });
});

describe('RBAC with a ServiceAccount kubeconfig', () => {
  test('no RoleBinding → 403; with a RoleBinding → allowed', async () => {
    const ns = 'rbac-smoke';
    const sa = await cluster.serviceAccountKubeconfig(ns, 'reader');
    const saCore = sa.kubeConfig().makeApiClient(CoreV1Api);

    await assert.rejects(saCore.listNamespacedConfigMap({ namespace: ns }), (err) => statusCode(err) === 403);
    const denied = await cluster.kubectl(['get', 'configmaps', '-n', ns], { kubeconfig: sa.path });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden: User "system:serviceaccount:rbac-smoke:reader" cannot list resource "configmaps"/);

    const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'cm-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    const list = await eventually(() => saCore.listNamespacedConfigMap({ namespace: ns }));
    assert.ok(Array.isArray(list.items));
    const allowed = await cluster.kubectl(['get', 'configmaps', '-n', ns], { kubeconfig: sa.path });
    assert.equal(allowed.code, 0, allowed.stderr);
    // The Role grants only configmaps: secrets stay forbidden.
    await assert.rejects(saCore.listNamespacedSecret({ namespace: ns }), (err) => statusCode(err) === 403);
  });
});

describe('helm', () => {
  test('install creates the chart ConfigMap; uninstall removes it', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    const ns = 'helm-smoke';
    const install = await cluster.helm(['install', 'r1', TINY_CHART, '--namespace', ns, '--create-namespace', '--set', 'greeting=hi there']);
    assert.equal(install.code, 0, install.stderr);
    assert.match(install.stdout, /STATUS: deployed/);
    const cm = await core.readNamespacedConfigMap({ namespace: ns, name: 'r1-tiny' });
    assert.equal(cm.data?.greeting, 'hi there');
    // Helm sees the server version the apiserver reports (the ldflags at work).
    assert.equal(cm.data?.kubeVersion, KUBERNETES_VERSION);
    assert.equal(cm.metadata?.labels?.['app.kubernetes.io/managed-by'], 'Helm');

    const uninstall = await cluster.helm(['uninstall', 'r1', '--namespace', ns]);
    assert.equal(uninstall.code, 0, uninstall.stderr);
    await assert.rejects(core.readNamespacedConfigMap({ namespace: ns, name: 'r1-tiny' }), (err) => statusCode(err) === 404);
    const list = await cluster.helm(['list', '--namespace', ns, '-q']);
    assert.equal(list.stdout.trim(), '');
  });
});

describe('service-account tokens', () => {
  test('a TokenRequest-minted token with audience meshlet passes TokenReview', async () => {
    const ns = 'token-smoke';
    await cluster.serviceAccountKubeconfig(ns, 'workload');
    const token = await cluster.requestToken(ns, 'workload', { audiences: ['meshlet'], expirationSeconds: 600 });
    const authn = cluster.kubeConfig().makeApiClient(AuthenticationV1Api);

    const review = await authn.createTokenReview({ body: { spec: { token, audiences: ['meshlet'] } } });
    assert.equal(review.status?.authenticated, true, review.status?.error);
    assert.equal(review.status?.user?.username, `system:serviceaccount:${ns}:workload`);
    assert.deepEqual(review.status?.audiences, ['meshlet']);

    // Wrong audience and a tampered signature are both rejected.
    const other = await authn.createTokenReview({ body: { spec: { token, audiences: ['someone-else'] } } });
    assert.notEqual(other.status?.authenticated, true);
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bad = await authn.createTokenReview({ body: { spec: { token: tampered, audiences: ['meshlet'] } } });
    assert.notEqual(bad.status?.authenticated, true);
  });
});

describe('CRDs', () => {
  test('installCRDs waits until Established; kubectl can create a custom resource right away', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.smoke.meshlet.test' },
      spec: {
        group: 'smoke.meshlet.test',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } } } },
          },
        ],
      },
    };
    assert.deepEqual(await cluster.installCRDs([crd]), ['widgets.smoke.meshlet.test']);
    const ok = await cluster.kubectl(['apply', '-n', 'default', '-f', '-'], {
      input: 'apiVersion: smoke.meshlet.test/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n',
    });
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await cluster.kubectl(['apply', '-n', 'default', '-f', '-'], {
      input: 'apiVersion: smoke.meshlet.test/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: 0\n',
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/);
    const custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    const w1 = (await custom.getNamespacedCustomObject({ group: 'smoke.meshlet.test', version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1' })) as {
      spec: { size: number };
    };
    assert.equal(w1.spec.size, 3);
  });
});

describe('webhooks', () => {
  test('registerWebhook makes the apiserver call a local HTTPS server with the CA bundle', async () => {
    const tls = await cluster.issueServingCert();
    const seen: string[] = [];
    const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        const review = JSON.parse(body) as { request: { uid: string; name?: string; object?: { metadata?: { name?: string } } } };
        const name = review.request.object?.metadata?.name ?? '';
        seen.push(`${new URL(req.url ?? '/', 'https://x').pathname} ${name}`);
        const allowed = !name.startsWith('deny-');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed, status: allowed ? undefined : { code: 403, message: 'denied by the meshlet smoke webhook' } },
        }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      assert.ok(address !== null && typeof address === 'object');
      const webhook = await cluster.registerWebhook({
        type: 'Validating',
        name: 'smoke-validator',
        port: address.port,
        path: '/validate',
        caBundlePem: tls.caPem,
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'], scope: 'Namespaced' }],
        objectSelector: { matchLabels: { 'smoke.meshlet.test/webhook': 'yes' } },
      });
      const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
      let n = 0;
      // The apiserver loads webhook configurations asynchronously: retry until it denies.
      const message = await eventually(async () => {
        const name = `deny-${n++}`;
        try {
          await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name, labels: { 'smoke.meshlet.test/webhook': 'yes' } } } });
        } catch (err) {
          if (statusCode(err) === 403) return String((err as { body?: unknown }).body);
          throw err;
        }
        throw new Error('webhook not active yet');
      });
      assert.match(message, /denied by the meshlet smoke webhook/);
      assert.ok(seen.some((s) => s.startsWith('/validate deny-')), seen.join(', '));
      const allowed = await cluster.kubectl(['create', 'configmap', 'allowed-by-webhook', '-n', 'default']);
      assert.equal(allowed.code, 0, allowed.stderr);
      await webhook.remove();
    } finally {
      server.close();
    }
  });
});

describe('apiserver restart', () => {
  test('stopApiserver makes requests fail; startApiserver brings the same data back', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'survives-restart' } } });
    await cluster.stopApiserver();
    await assert.rejects(core.readNamespace({ name: 'survives-restart' }), (err) => (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED');
    const down = await cluster.kubectl(['get', 'ns', 'survives-restart', '--request-timeout=5s']);
    assert.notEqual(down.code, 0);
    await cluster.startApiserver();
    const ns = await core.readNamespace({ name: 'survives-restart' });
    assert.equal(ns.metadata?.name, 'survives-restart');
  });
});
