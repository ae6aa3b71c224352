// The webhook certificate manager against a real apiserver: caBundle written at start-up,
// rotated before expiry (timers injected, so no waiting), retried while the configuration is missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { createLogger } from '../../common/log.ts';
import type { Clock } from '../../common/clock.ts';
import { WebhookCertManager } from '../../webhook/cert-manager.ts';
import { SecretCertStore } from '../../webhook/cert-store.ts';
import { webhookConfiguration } from '../../webhook/configuration.ts';
import type { TlsMaterial } from '../../webhook/server.ts';

let cluster: Cluster;
let admission: AdmissionregistrationV1Api;

/** A clock whose timers the test fires by hand; records the delays asked for. */
function manualTimers(now: () => number = Date.now): Clock & { pending: { fn: () => void; ms: number }[]; fire: () => Promise<void> } {
  const pending: { fn: () => void; ms: number }[] = [];
  return {
    pending,
    now,
    setTimeout: (fn, ms) => { const t = { fn, ms }; pending.push(t); return t; },
    clearTimeout: (h) => { const i = pending.indexOf(h as { fn: () => void; ms: number }); if (i >= 0) pending.splice(i, 1); },
    async fire() {
      const t = pending.shift();
      assert.ok(t, 'a timer is pending');
      t.fn();
      // Let the refresh (issue + apiserver round trips) finish: it schedules the next timer last (bounded: 30 s).
      for (let i = 0; i < 1200 && pending.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    },
  };
}

/** A configuration that never matches a pod, so it cannot interfere. */
function inertConfig(name: string): ReturnType<typeof webhookConfiguration> {
  const cfg = webhookConfiguration({ name, target: { url: 'https://127.0.0.1:1' } });
  for (const w of cfg.webhooks ?? []) w.objectSelector = { matchLabels: { 'meshlet.test/never': 'match' } };
  return cfg;
}

async function bundles(name: string): Promise<string[]> {
  const cfg = await admission.readMutatingWebhookConfiguration({ name });
  return (cfg.webhooks ?? []).map((w) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString());
}

function certsIn(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c));
}

function signedBy(tls: TlsMaterial, bundle: string): boolean {
  const leaf = new X509Certificate(tls.cert);
  return certsIn(bundle).some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
}

before(async () => {
  cluster = await startCluster({ log: () => {} });
  admission = cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
}, { timeout: 45 * 60_000 });

after(async () => {
  await cluster?.stop();
});

test('start-up writes the CA into every entry of the mutating and validating configurations', async () => {
  await admission.createMutatingWebhookConfiguration({ body: inertConfig('cm-start') });
  const v = inertConfig('cm-start-validating');
  await admission.createValidatingWebhookConfiguration({ body: { metadata: v.metadata, webhooks: v.webhooks?.map(({ reinvocationPolicy: _r, ...w }) => w) } });
  const mgr = new WebhookCertManager({ kubeConfig: cluster.kubeConfig(), log: createLogger({ component: 't', level: 'silent' }), hosts: ['127.0.0.1'], mutating: ['cm-start'], validating: ['cm-start-validating'], clock: manualTimers() });
  const tls = await mgr.start();
  const written = await bundles('cm-start');
  assert.equal(written.length, 3);
  for (const b of written) assert.ok(signedBy(tls, b));
  const vcfg = await admission.readValidatingWebhookConfiguration({ name: 'cm-start-validating' });
  assert.ok(signedBy(tls, Buffer.from(vcfg.webhooks?.[0]?.clientConfig.caBundle ?? '', 'base64').toString()));
  assert.equal(new X509Certificate(tls.cert).checkIP('127.0.0.1'), '127.0.0.1');
  mgr.stop();
});

test('before expiry a new certificate is issued; the bundle trusts old and new while the server swaps', async () => {
  await admission.createMutatingWebhookConfiguration({ body: inertConfig('cm-rotate') });
  const timers = manualTimers();
  const rotated: TlsMaterial[] = [];
  const validityMs = 90 * 60_000;
  const mgr = new WebhookCertManager({ kubeConfig: cluster.kubeConfig(), log: createLogger({ component: 't', level: 'silent' }), hosts: ['127.0.0.1'], mutating: ['cm-rotate'], validityMs, clock: timers, onRotate: (t) => rotated.push(t) });
  const first = await mgr.start();
  assert.equal(timers.pending.length, 1);
  // Two thirds of the life, measured from the back-dated notBefore: well before expiry.
  const delay = timers.pending[0]!.ms;
  assert.ok(delay > 0 && delay < validityMs * 2 / 3, String(delay));
  await timers.fire();
  assert.equal(rotated.length, 1);
  const next = rotated[0]!;
  assert.notEqual(next.cert, first.cert);
  const [bundle] = await bundles('cm-rotate');
  assert.equal(certsIn(bundle!).length, 2);
  assert.ok(signedBy(next, bundle!) && signedBy(first, bundle!));
  assert.equal(timers.pending.length, 1, 'the next refresh is scheduled');
  mgr.stop();
  assert.equal(timers.pending.length, 0);
});

test('a missing configuration is logged with MESHLET_WEBHOOK_CERT and retried until it exists', async () => {
  const timers = manualTimers();
  const logs = new PassThrough();
  let text = '';
  logs.on('data', (d: Buffer) => { text += d.toString(); });
  const mgr = new WebhookCertManager({ kubeConfig: cluster.kubeConfig(), log: createLogger({ component: 't', level: 'error', destination: logs }), hosts: ['127.0.0.1'], mutating: ['cm-late'], retryMs: 5000, clock: timers });
  const tls = await mgr.start();
  assert.equal(timers.pending[0]?.ms, 5000);
  assert.match(text, /"code":"MESHLET_WEBHOOK_CERT"/);
  assert.match(text, /cm-late: HTTP 404/);
  await admission.createMutatingWebhookConfiguration({ body: inertConfig('cm-late') });
  await timers.fire();
  for (const b of await bundles('cm-late')) assert.ok(signedBy(tls, b));
  mgr.stop();
});

test('replicas share one certificate through the Secret; one rotates, the other adopts it', async () => {
  await cluster.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'meshlet-system' } } });
  await admission.createMutatingWebhookConfiguration({ body: inertConfig('cm-replicas') });
  let now = Date.now();
  const replica = (rotated: TlsMaterial[]) => {
    const timers = manualTimers(() => now);
    const mgr = new WebhookCertManager({
      kubeConfig: cluster.kubeConfig(), log: createLogger({ component: 't', level: 'silent' }), hosts: ['127.0.0.1'], mutating: ['cm-replicas'],
      store: new SecretCertStore(cluster.kubeConfig(), 'meshlet-system', 'meshlet-webhook-tls'), validityMs: 3 * 3600_000,
      clock: timers, onRotate: (t) => rotated.push(t),
    });
    return { mgr, timers };
  };
  const rotA: TlsMaterial[] = [];
  const rotB: TlsMaterial[] = [];
  const a = replica(rotA);
  const b = replica(rotB);
  const [ta, tb] = await Promise.all([a.mgr.start(), b.mgr.start()]);
  assert.equal(ta.cert, tb.cert, 'both replicas serve the same certificate');
  const [bundle0] = await bundles('cm-replicas');
  assert.ok(signedBy(ta, bundle0!));
  // Time passes to the refresh point; A's timer fires first and rotates.
  now += 2.5 * 3600_000;
  await a.timers.fire();
  assert.equal(rotA.length, 1);
  const [bundle1] = await bundles('cm-replicas');
  assert.ok(signedBy(rotA[0]!, bundle1!) && signedBy(ta, bundle1!), 'new and old trusted during the swap');
  // B's timer fires a little later: it adopts A's certificate instead of issuing its own.
  now += 60_000;
  await b.timers.fire();
  assert.equal(rotB.length, 1);
  assert.equal(rotB[0]!.cert, rotA[0]!.cert);
  assert.deepEqual(await bundles('cm-replicas'), [bundle1, bundle1, bundle1]);
  a.mgr.stop();
  b.mgr.stop();
});
