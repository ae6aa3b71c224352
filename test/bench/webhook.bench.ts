/**
 * Stage "webhook": admission latency of `POST /inject` for a pod with 3 containers, over
 * HTTPS with keep-alive like the apiserver's client, the webhook in its own process (this file
 * run with --serve). Baseline in the same run: GET /healthz on the same server (TLS + HTTP +
 * fastify without the injector's work). Also the in-process cost of one review (no network).
 * Bounded: WEBHOOK_BENCH_COUNT requests (default 3000) after 300 warm-up ones.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { Registry } from 'prom-client';
import type { BenchResult } from './types.ts';
import { createLogger } from '../../common/log.ts';
import { handleReview, type AdmissionDeps } from '../../webhook/admission.ts';
import { createInjectionMetrics } from '../../webhook/metrics.ts';
import { createWebhookServer } from '../../webhook/server.ts';
import { issueServingCert } from '../../common/security/serving-cert.ts';
import { DEFAULT_VALUES } from '../../webhook/values.ts';
import { threeContainerPod } from '../webhook/helpers/pods.ts';

const COUNT = Number(process.env.WEBHOOK_BENCH_COUNT ?? 3000);
const WARMUP = 300;
const PIN = process.env.WEBHOOK_BENCH_PIN === '1';

function deps(): AdmissionDeps {
  const ns = { name: 'shop', labels: { 'sidecar.inject': 'true' }, annotations: {} };
  return {
    // The namespace cache hit, as for every pod of a Deployment after the first.
    namespace: async () => ns,
    values: () => DEFAULT_VALUES,
    native: () => true,
    metrics: createInjectionMetrics(new Registry()),
    log: createLogger({ component: 'webhook-bench', level: 'silent' }),
  };
}

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'bench', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'shop', object: threeContainerPod() },
});

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function serve(): Promise<void> {
  const cert = await issueServingCert(['127.0.0.1'], new Date(), 3600_000);
  const app = await createWebhookServer({ tls: { key: cert.keyPem, cert: cert.certPem }, log: createLogger({ component: 'webhook-bench', level: 'silent' }), deps: deps() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port, ca: cert.caPem })}\n`);
}

async function timed(agent: Agent, url: string, method: 'GET' | 'POST', body?: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < WARMUP + COUNT; i++) {
    const t0 = process.hrtime.bigint();
    const res = await request(url, { method, dispatcher: agent, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
    if (i >= WARMUP) out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

export async function bench(): Promise<BenchResult> {
  // WEBHOOK_BENCH_PIN=1: like the proxy stage, the server on CPU 0 and the load on CPU 1. Off by
  // default: on a shared machine a pinned server waits for whatever else runs on CPU 0.
  const serveArgs = [process.execPath, fileURLToPath(import.meta.url), '--serve'];
  const child = PIN ? spawn('taskset', ['-c', '0', ...serveArgs], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(serveArgs[0]!, serveArgs.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  // The runner runs other stages after this one: remember this process's CPU list and restore it.
  const affinity = PIN ? /: (\S+)\s*$/.exec(spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' }).stdout ?? '')?.[1] : undefined;
  if (PIN) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('\n')) resolve(buf.split('\n')[0]!); });
      child.on('exit', (c) => reject(new Error(`webhook server exited ${c}`)));
      setTimeout(() => reject(new Error('webhook server not up in 30 s')), 30_000).unref();
    });
    const { port, ca } = JSON.parse(line) as { port: number; ca: string };
    const agent = new Agent({ connect: { ca }, connections: 1, pipelining: 1 });
    const base = `https://127.0.0.1:${port}`;
    const admission = await timed(agent, `${base}/inject`, 'POST', review);
    const health = await timed(agent, `${base}/healthz`, 'GET');
    await agent.close();

    const d = deps();
    const body = JSON.parse(review) as unknown;
    const inproc: number[] = [];
    for (let i = 0; i < WARMUP + COUNT; i++) {
      const t0 = process.hrtime.bigint();
      await handleReview(body, d);
      if (i >= WARMUP) inproc.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    inproc.sort((a, b) => a - b);
    return {
      name: 'webhook',
      figures: {
        admission_p50_ms: pct(admission, 50),
        admission_p99_ms: pct(admission, 99),
        healthz_p50_ms: pct(health, 50),
        healthz_p99_ms: pct(health, 99),
        review_in_process_p50_ms: pct(inproc, 50),
        review_in_process_p99_ms: pct(inproc, 99),
      },
      ratios: { admission_p99_vs_healthz_p99: pct(admission, 99) / pct(health, 99) },
      goals: { admission_p99_ms: { max: 5 } },
      notes: [`${PIN ? 'server pinned to CPU 0, client to CPU 1' : 'not pinned (WEBHOOK_BENCH_PIN=1 pins)'}; ${COUNT} sequential requests after ${WARMUP} warm-up, one keep-alive HTTPS connection, pod with 3 containers and HTTP probes, namespace lookup cached`],
    };
  } finally {
    child.kill('SIGKILL');
    if (affinity !== undefined) spawnSync('taskset', ['-cp', affinity, String(process.pid)], { stdio: 'ignore' });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--serve')) await serve();
  else console.log(JSON.stringify(await bench(), null, 2));
}
