/**
 * Stage "crd-validate": full validation (structural pass + Istio rules) of a 1,000-route
 * VirtualService, in process (cold and warm regex cache) and through the /validate webhook over HTTPS. Baseline in the
 * same run: JSON.parse of the same AdmissionReview body, a cost the apiserver's webhook path
 * pays anyway. Bounded: CRD_BENCH_COUNT iterations (default 40) after 5 warm-up ones.
 * Run alone: node test/bench/crd-validate.bench.ts
 */
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { fastify } from 'fastify';
import { generate } from 'selfsigned';
import type { BenchResult } from './types.ts';
import { validateObject } from '../../crds/validate.ts';
import { validatePlugin } from '../../webhook/validate.ts';
import { bigVirtualService } from '../crds/big-vs.ts';

const COUNT = Number(process.env.CRD_BENCH_COUNT ?? 40);
const WARMUP = 5;
const ROUTES = 1000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function timeMs(fn: () => void, n: number): number[] {
  for (let i = 0; i < WARMUP; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

function post(port: number, ca: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function bench(): Promise<BenchResult> {
  const vs = bigVirtualService(ROUTES);
  const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'bench', operation: 'CREATE', namespace: 'default', object: vs } });
  const errors = validateObject(vs).filter((m) => m.level === 'error');
  if (errors.length > 0) throw new Error(`bench object is invalid: ${JSON.stringify(errors[0])}`);

  // Cold: every iteration brings 1,000 regexes never seen (a new object); warm: the same object
  // again (an update or a resync), where the regex verdict cache answers.
  const fresh = Array.from({ length: COUNT + WARMUP }, (_, i) => bigVirtualService(ROUTES, `c${i}-`));
  let n = 0;
  const cold = timeMs(() => validateObject(fresh[n++]), COUNT);
  const validate = timeMs(() => validateObject(vs), COUNT);
  const parse = timeMs(() => JSON.parse(body), COUNT);

  const cert = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] });
  const app = fastify({ https: { key: cert.private, cert: cert.cert }, bodyLimit: 8 * 1024 * 1024 });
  await app.register(validatePlugin);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const webhook: number[] = [];
  try {
    for (let i = 0; i < WARMUP; i++) await post(port, cert.cert, body);
    for (let i = 0; i < COUNT; i++) webhook.push(await post(port, cert.cert, body));
  } finally {
    await app.close();
  }
  webhook.sort((a, b) => a - b);
  const p50 = quantile(validate, 0.5);
  return {
    name: 'crd-validate',
    figures: {
      routes: ROUTES,
      body_kb: Math.round(body.length / 1024),
      validate_cold_p50_ms: quantile(cold, 0.5),
      validate_cold_p99_ms: quantile(cold, 0.99),
      validate_cold_us_per_route: (quantile(cold, 0.5) * 1000) / ROUTES,
      validate_p50_ms: p50,
      validate_p99_ms: quantile(validate, 0.99),
      json_parse_p50_ms: quantile(parse, 0.5),
      webhook_p50_ms: quantile(webhook, 0.5),
      webhook_p99_ms: quantile(webhook, 0.99),
    },
    ratios: { validate_vs_json_parse: p50 / quantile(parse, 0.5), validate_cold_vs_json_parse: quantile(cold, 0.5) / quantile(parse, 0.5) },
    // The apiserver's webhook timeout is 10 s by default (we register 10 s): stay far inside it.
    goals: { webhook_p99_ms: { max: 1000 }, validate_cold_p99_ms: { max: 500 } },
    notes: [`${COUNT} iterations after ${WARMUP} warm-up; cold = 1,000 regexes never seen before, warm = the same object again (regex verdict cache); webhook = the same object over HTTPS, one connection per request (TLS handshake included)`],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await bench();
  console.log(JSON.stringify(r, null, 2));
}
