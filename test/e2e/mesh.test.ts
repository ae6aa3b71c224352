/**
 * End to end on a real node (kubelet + containerd, test/node): what a user does — the README's
 * `helm install`, label a namespace, restart its Deployments — and what they then see: pods
 * 2/2 with the native sidecar, proxies SYNCED, the demo's routing, STRICT mTLS, authorization,
 * fault injection and metrics through real pods, a Job that completes, an operator restart
 * under load, non-default chart values, and `helm uninstall`. The scenarios build on each
 * other and run in order on one node; a machine that cannot run a node skips them all with
 * the reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { graphQueries } from '../../operator/ui/prom-source.ts';
import { ensureImages, MESHLET_REPOSITORY, MESHLET_TAG, PAUSE_IMAGE, REPO } from '../node/images.ts';
import { ensureNodeBinaries, nodeSkipReason, startNode } from '../node/node.ts';
import type { OneNodeCluster } from '../node/node.ts';
import { leftovers } from '../node/host.ts';
import { NET } from '../node/versions.ts';
import { inPod, must, pods, readmeCommands, requestsScript, sidecarRss, waitUntil } from './helpers.ts';
import type { Tally } from './helpers.ts';

const skip = process.env.MESHLET_E2E === '0' ? 'MESHLET_E2E=0' : nodeSkipReason();
const log = (line: string): void => void process.stderr.write(`[e2e] ${line}\n`);
let node: OneNodeCluster;
const started = Date.now();

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const PLACEHOLDERS = { '<registry>/meshlet': MESHLET_REPOSITORY, '<tag>': MESHLET_TAG };
const DEMO = join(REPO, 'examples', 'demo');
const SHOP_DEPLOYMENTS = ['client', 'frontend', 'ratings', 'reviews-v1', 'reviews-v2', 'reviews-v3'];

before(async () => {
  if (skip !== null) return;
  const binaries = await ensureNodeBinaries(log);
  const images = await ensureImages(binaries.pause, log);
  node = await startNode({ images: [images.pause, images.base, images.meshlet], sandboxImage: PAUSE_IMAGE, log });
}, { timeout: 60 * 60_000 });

after(async () => {
  if (skip !== null) return;
  await node?.stop();
  const left = leftovers();
  log(`host after teardown: ${left.length === 0 ? 'clean (no link, cgroup, mount, route or lock left)' : left.join('; ')}`);
  log(`e2e wall time ${((Date.now() - started) / 1000).toFixed(0)}s`);
}, { timeout: 120_000 });

const opts = (minutes: number): { skip: string | false; timeout: number } => ({ skip: skip ?? false, timeout: minutes * 60_000 });

async function run(cmd: string[]): Promise<string> {
  const [bin, ...args] = cmd;
  const r = bin === 'helm' ? await node.helm(args, { cwd: REPO }) : bin === 'kubectl' ? await node.kubectl(args, { cwd: REPO, timeoutMs: 300_000 }) : undefined;
  if (r === undefined) throw new Error(`unexpected command in the README: ${cmd.join(' ')}`);
  return must(r, cmd.join(' '));
}

async function rolloutAll(ns: string, names: string[]): Promise<void> {
  for (const d of names) must(await node.kubectl(['-n', ns, 'rollout', 'status', `deployment/${d}`, '--timeout=240s'], { timeoutMs: 250_000 }), `rollout status ${d}`);
}

/** Pods of the namespace that are not being deleted, once every one of them is Running and ready. */
async function settledPods(ns: string): Promise<Awaited<ReturnType<typeof pods>>> {
  return waitUntil(`pods of ${ns} settled`, 240_000, async () => {
    const list = (await pods(node, ns)).filter((p) => (p as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp === undefined && p.status.phase !== 'Succeeded');
    return list.every((p) => p.status.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready)) ? list : undefined;
  }, 2000);
}

async function fromClient(opts: Parameters<typeof requestsScript>[0]): Promise<Tally> {
  return inPod<Tally>(node, 'shop', 'deploy/client', requestsScript(opts));
}

test('README install: helm install, operator rolled out, shop labelled and restarted → every pod 2/2 with the native sidecar, proxy-status SYNCED', opts(20), async () => {
  // The demo, unmeshed, as a user would already have it.
  must(await node.kubectl(['create', 'namespace', 'shop']), 'create namespace shop');
  must(await node.kubectl(['-n', 'shop', 'create', 'configmap', 'demo-apps', `--from-file=${join(DEMO, 'apps')}`]), 'create configmap demo-apps');
  must(await node.kubectl(['-n', 'shop', 'apply', '-f', join(DEMO, 'kubernetes', 'apps.yaml'), '-f', join(DEMO, 'kubernetes', 'client.yaml')]), 'apply demo');
  await rolloutAll('shop', SHOP_DEPLOYMENTS);
  for (const p of await settledPods('shop')) assert.equal(p.spec.containers.length, 1, `${p.metadata.name} has no sidecar before the mesh`);

  // The README's three commands, as written there.
  const commands = readmeCommands(README, '### Three commands', PLACEHOLDERS);
  assert.deepEqual(commands.map((c) => c.slice(0, 2).join(' ')), ['helm install', 'kubectl -n', 'kubectl label', 'kubectl -n']);
  for (const cmd of commands) await run(cmd);
  await rolloutAll('shop', SHOP_DEPLOYMENTS);

  const list = await settledPods('shop');
  assert.equal(list.length, SHOP_DEPLOYMENTS.length);
  for (const p of list) {
    const proxy = p.spec.initContainers?.find((c) => c.name === 'meshlet-proxy');
    assert.equal(proxy?.restartPolicy, 'Always', `${p.metadata.name}: meshlet-proxy is a native sidecar`);
    // READY 2/2: the app container and the (native) sidecar.
    const ready = (p.status.containerStatuses ?? []).filter((c) => c.ready).length + (p.status.initContainerStatuses ?? []).filter((c) => c.name === 'meshlet-proxy' && c.ready).length;
    assert.equal(ready, 2, `${p.metadata.name} is 2/2`);
    const status = JSON.parse(p.metadata.annotations?.['sidecar.meshlet.io/status'] ?? '{}') as { result?: string; mode?: string };
    assert.equal(status.result, 'injected', `${p.metadata.name}: sidecar.meshlet.io/status`);
    assert.equal(status.mode, 'native');
  }

  // "Check that it works": port-forward + `meshlet proxy-status`, inside the node's network
  // namespace, so 127.0.0.1:15014 is the node's own loopback, not the shared host's.
  const pf = node.spawnInNode(node.binaries.kubectl, ['--kubeconfig', node.kubeconfigPath, '-n', 'meshlet-system', 'port-forward', 'svc/meshlet', '15014'], 'port-forward');
  try {
    const table = await waitUntil('every proxy SYNCED', 120_000, async () => {
      const r = await runInNode([process.execPath, join(REPO, 'bin', 'meshlet'), 'proxy-status']);
      const rows = r.split('\n').filter((l) => l.includes('.shop'));
      return rows.length === SHOP_DEPLOYMENTS.length && rows.every((l) => /\bSYNCED\b/.test(l)) ? r : undefined;
    }, 2000);
    log(`meshlet proxy-status:\n${table}`);
  } finally {
    pf.kill('SIGKILL');
  }
  const rss = sidecarRss();
  log(`sidecar RSS (MB) per pod: ${rss.map((r) => r.rssMb).sort((a, b) => a - b).join(', ')}`);
});

async function runInNode(cmd: string[]): Promise<string> {
  const [bin, ...args] = cmd as [string, ...string[]];
  const child = node.spawnInNode(bin, args, 'cli');
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.once('exit', r));
  return out;
}

test('traffic: the 80/20 canary within ±5 points over 1,000 requests; user-tier premium → v3', opts(10), async () => {
  // Plain text from outside the mesh still works while the namespace is PERMISSIVE (the default).
  must(await node.kubectl(['create', 'namespace', 'outside']), 'create namespace outside');
  must(await node.kubectl(['-n', 'outside', 'run', 'plain', '--image=node:24-bookworm-slim', '--restart=Never', '--command', '--', 'node', '-e', 'setInterval(() => {}, 1 << 30)']), 'run plain');
  must(await node.kubectl(['-n', 'outside', 'wait', '--for=condition=Ready', 'pod/plain', '--timeout=120s'], { timeoutMs: 130_000 }), 'plain ready');
  const plainBefore = await inPod<Tally>(node, 'outside', 'plain', requestsScript({ url: 'http://frontend.shop:9080/product', count: 3 }), 180_000, 'plain');
  assert.deepEqual(plainBefore.statuses, { 200: 3 }, `PERMISSIVE: plain text accepted ${JSON.stringify(plainBefore)}`);

  must(await node.kubectl(['-n', 'shop', 'apply', '-f', join(DEMO, 'kubernetes', 'mesh.yaml')]), 'apply mesh.yaml');
  // Rules reach the proxies asynchronously: wait until premium requests land on v3.
  await waitUntil('premium routed to v3', 60_000, async () => {
    const t = await fromClient({ url: 'http://frontend:9080/product', count: 5, headers: { 'user-tier': 'premium' }, header: 'x-demo-reviews-version' });
    return t.tally.v3 === 5 ? t : undefined;
  });
  const canary = await fromClient({ url: 'http://frontend:9080/product', count: 1000, header: 'x-demo-reviews-version' });
  log(`canary over 1,000: ${JSON.stringify(canary.tally)} ${JSON.stringify(canary.errors)}`);
  assert.deepEqual(canary.statuses, { 200: 1000 });
  const v1 = ((canary.tally.v1 ?? 0) / 10);
  assert.ok(Math.abs(v1 - 80) <= 5 && Math.abs((canary.tally.v2 ?? 0) / 10 - 20) <= 5, `80/20 within ±5 points: ${JSON.stringify(canary.tally)}`);
  assert.equal(canary.tally.v3, undefined);
  const premium = await fromClient({ url: 'http://frontend:9080/product', count: 50, headers: { 'user-tier': 'premium' }, header: 'x-demo-reviews-version' });
  assert.deepEqual(premium.tally, { v3: 50 });
});

test('STRICT mTLS in shop: a plain-text call from an un-injected pod in another namespace is refused', opts(5), async () => {
  const plain = await waitUntil('plain text refused', 60_000, async () => {
    const t = await inPod<Tally>(node, 'outside', 'plain', requestsScript({ url: 'http://frontend.shop:9080/product', count: 3 }), 180_000, 'plain');
    return t.statuses['200'] === undefined ? t : undefined;
  });
  assert.equal(Object.values(plain.errors).reduce((a, b) => a + b, 0) + Object.entries(plain.statuses).filter(([s]) => s !== '200').reduce((a, [, n]) => a + n, 0), 3, JSON.stringify(plain));
  // The meshed client still gets through (mTLS).
  assert.deepEqual((await fromClient({ url: 'http://frontend:9080/product', count: 10 })).statuses, { 200: 10 });
});

test('AuthorizationPolicy: reviews answers GET from the client, denies its POST with 403', opts(5), async () => {
  const get = await fromClient({ url: 'http://reviews:9080/reviews/1', count: 5 });
  assert.deepEqual(get.statuses, { 200: 5 });
  const post = await fromClient({ url: 'http://reviews:9080/reviews/1', count: 5, method: 'POST' });
  assert.deepEqual(post.statuses, { 403: 5 });
});

test('fault injection: requests marked x-demo-delay: slow wait the 500 ms delay; others do not', opts(5), async () => {
  const slow = await fromClient({ url: 'http://ratings:9080/ratings/1', count: 5, headers: { 'x-demo-delay': 'slow' } });
  const fast = await fromClient({ url: 'http://ratings:9080/ratings/1', count: 5 });
  assert.deepEqual(slow.statuses, { 200: 5 });
  assert.deepEqual(fast.statuses, { 200: 5 });
  log(`latency ms: delayed ${slow.ms.map((m) => m.toFixed(0)).join(', ')}; plain ${fast.ms.map((m) => m.toFixed(0)).join(', ')}`);
  assert.ok(Math.min(...slow.ms) >= 490, `every delayed request took >= 500 ms: ${slow.ms.join(', ')}`);
});

test('metrics: a real Prometheus scrapes istio_requests_total from the pods\' 15090; the operator\'s PromQL answers', opts(5), async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-e2e-prom-'));
  const targets = (await pods(node, 'shop')).filter((p) => p.status.podIP !== undefined).map((p) => `${p.status.podIP}:15090`);
  writeFileSync(join(dir, 'prometheus.yml'), `global: {scrape_interval: 2s}\nscrape_configs:\n- job_name: meshlet-proxies\n  metrics_path: /stats/prometheus\n  static_configs: [{targets: ${JSON.stringify(targets)}}]\n`);
  const prom = node.spawnInNode('prometheus', [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=${NET.nodeIp}:9090`], 'prometheus');
  try {
    const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[] | undefined> => {
      try {
        const r = await fetch(`http://${NET.nodeIp}:9090/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
        const body = (await r.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
        return body.status === 'success' && body.data.result.length > 0 ? body.data.result : undefined;
      } catch {
        return undefined;
      }
    };
    // Traffic while Prometheus scrapes, so rate() over 1m has two points with a difference.
    const load = fromClient({ url: 'http://frontend:9080/product', count: 100, intervalMs: 100 });
    const series = await waitUntil('istio_requests_total scraped', 90_000, () => query('istio_requests_total{destination_workload="frontend",reporter="destination"}'), 2000);
    await load;
    assert.ok(series.some((s) => s.metric.source_workload === 'client'), JSON.stringify(series.map((s) => s.metric)));
    const rates = await waitUntil('seed PromQL non-empty', 60_000, () => query(graphQueries('1m').requests), 2000);
    assert.ok(rates.some((r) => r.metric.destination_workload === 'reviews-v1' && r.metric.connection_security_policy === 'mutual_tls'), JSON.stringify(rates.map((r) => r.metric)));
  } finally {
    prom.kill('SIGKILL');
    await new Promise((r) => (prom.exitCode !== null ? r(undefined) : prom.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Job in the mesh namespace completes, and its sidecar stops after it', opts(5), async () => {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'rate-once', namespace: 'shop' },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { app: 'rate-once' } },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: 'client',
          containers: [{ name: 'app', image: 'node:24-bookworm-slim', command: ['node', '-e', "fetch('http://ratings:9080/ratings/1').then((r) => { console.log(r.status); process.exit(r.status === 200 ? 0 : 1); }, (e) => { console.error(e); process.exit(1); })"] }],
        },
      },
    },
  };
  must(await node.kubectl(['apply', '-f', '-'], { input: JSON.stringify(job) }), 'apply job');
  must(await node.kubectl(['-n', 'shop', 'wait', '--for=condition=complete', 'job/rate-once', '--timeout=180s'], { timeoutMs: 190_000 }), 'job complete');
  const [pod] = await pods(node, 'shop', 'app=rate-once');
  assert.ok(pod?.spec.initContainers?.some((c) => c.name === 'meshlet-proxy'), 'the Job pod was injected');
  const proxy = await waitUntil('sidecar stopped', 60_000, async () => {
    const [p] = await pods(node, 'shop', 'app=rate-once');
    const s = p?.status.initContainerStatuses?.find((c) => c.name === 'meshlet-proxy');
    return s?.state?.terminated !== undefined ? s : undefined;
  });
  assert.ok(proxy.state?.terminated !== undefined);
  assert.equal(pod?.status.phase === 'Succeeded' || (await pods(node, 'shop', 'app=rate-once'))[0]?.status.phase === 'Succeeded', true);
});

test('operator restart (kubectl rollout restart) under steady load: 0 failed requests', opts(10), async () => {
  const load = fromClient({ url: 'http://frontend:9080/product', count: 400, intervalMs: 100 });
  await sleep(3000);
  must(await node.kubectl(['-n', 'meshlet-system', 'rollout', 'restart', 'deployment/meshlet-operator']), 'rollout restart');
  must(await node.kubectl(['-n', 'meshlet-system', 'rollout', 'status', 'deployment/meshlet-operator', '--timeout=180s'], { timeoutMs: 190_000 }), 'rollout status');
  const t = await load;
  log(`during the operator restart: ${JSON.stringify(t.statuses)} errors ${JSON.stringify(t.errors)}`);
  assert.deepEqual(t.errors, {});
  assert.deepEqual(t.statuses, { 200: 400 });
});

test('non-default values: trustDomain=example.org, mtls.mode=STRICT, short workloadCertTTL → traffic flows, certs are spiffe://example.org/… and rotate', opts(15), async () => {
  must(await node.helm(['upgrade', 'meshlet', 'charts/meshlet', '-n', 'meshlet-system', '--reuse-values', '--set', 'trustDomain=example.org', '--set', 'mtls.mode=STRICT', '--set', 'ca.workloadCertTTL=2m'], { cwd: REPO }), 'helm upgrade');
  must(await node.kubectl(['-n', 'meshlet-system', 'rollout', 'status', 'deployment/meshlet-operator', '--timeout=180s'], { timeoutMs: 190_000 }), 'operator rollout');
  must(await node.kubectl(['-n', 'shop', 'rollout', 'restart', 'deployment']), 'restart shop');
  await rolloutAll('shop', SHOP_DEPLOYMENTS);
  await settledPods('shop');
  const certs = async (): Promise<{ identity: string; serial: string }[]> =>
    (await inPod<{ certificates: { identity: string; serial: string }[] }>(node, 'shop', 'deploy/frontend', "const r = await fetch('http://127.0.0.1:15000/certs'); console.log(JSON.stringify(await r.json()));")).certificates;
  const first = await waitUntil('frontend has an example.org certificate', 60_000, async () => {
    const c = await certs();
    return c.some((x) => x.identity === 'spiffe://example.org/ns/shop/sa/frontend') ? c : undefined;
  }, 2000);
  const t = await waitUntil('traffic over example.org identities', 60_000, async () => {
    const r = await fromClient({ url: 'http://frontend:9080/product', count: 50, header: 'x-demo-reviews-version' });
    return r.statuses['200'] === 50 ? r : undefined;
  }, 2000);
  assert.deepEqual(t.errors, {});
  const serial = first.find((x) => x.identity.startsWith('spiffe://example.org/'))?.serial;
  // TTL 2m: renewed at half its usable life; traffic keeps flowing on the new certificate.
  const rotated = await waitUntil('certificate rotated', 150_000, async () => {
    const c = await certs();
    return c.some((x) => x.identity === 'spiffe://example.org/ns/shop/sa/frontend' && x.serial !== serial) ? c : undefined;
  }, 5000);
  assert.ok(rotated.every((x) => !x.identity.includes('cluster.local')));
  assert.deepEqual((await fromClient({ url: 'http://frontend:9080/product', count: 50 })).statuses, { 200: 50 });
});

test('helm uninstall: webhook configurations gone, new pods in shop start without a sidecar and without errors', opts(10), async () => {
  must(await node.helm(['uninstall', 'meshlet', '-n', 'meshlet-system', '--wait'], { cwd: REPO }), 'helm uninstall');
  const hooks = must(await node.kubectl(['get', 'mutatingwebhookconfigurations,validatingwebhookconfigurations', '-o', 'name']), 'get webhooks');
  assert.doesNotMatch(hooks, /meshlet/);
  must(await node.kubectl(['-n', 'shop', 'run', 'after-uninstall', '--image=node:24-bookworm-slim', '--restart=Never', '--command', '--', 'node', '-e', 'setInterval(() => {}, 1 << 30)']), 'run pod after uninstall');
  must(await node.kubectl(['-n', 'shop', 'wait', '--for=condition=Ready', 'pod/after-uninstall', '--timeout=120s'], { timeoutMs: 130_000 }), 'pod ready');
  const [pod] = await pods(node, 'shop', 'run=after-uninstall');
  assert.deepEqual(pod?.spec.containers.map((c) => c.name), ['after-uninstall']);
  assert.equal(pod?.spec.initContainers, undefined);
  assert.equal(pod?.metadata.annotations?.['sidecar.meshlet.io/status'], undefined);
});
