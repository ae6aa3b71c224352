/**
 * A real Jaeger v2 for tests: the all-in-one binary with in-memory storage, its OTLP/HTTP
 * receiver and query API bound to one loopback address the test picks (nothing on
 * 0.0.0.0, its own metrics off), started on a config file and stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureJaeger } from './jaeger-binary.ts';

export interface Jaeger {
  /** OTLP/HTTP endpoint (the proxies post to <otlp>/v1/traces). */
  otlp: string;
  /** Query service base URL (UI and /api/...). */
  query: string;
  output(): string;
  stop(): Promise<void>;
}

export interface JaegerTrace {
  traceID: string;
  spans: { traceID: string; spanID: string; operationName: string; references: { refType: string; spanID: string }[]; processID: string; tags: { key: string; value: unknown }[] }[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

function config(host: string): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: ${host}:16686
    grpc:
      endpoint: ${host}:16685
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${host}:4318
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

export async function startJaeger(host: string): Promise<Jaeger> {
  const bin = await ensureJaeger();
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-jaeger-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, config(host));
  let out = '';
  const child: ChildProcess = spawn(bin, ['--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const query = `http://${host}:16686`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when the query API answers and the OTLP port accepts.
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${query}/api/services`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)
      && await fetch(`http://${host}:4318/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(1000) }).then(() => true, () => false);
    if (ok) return { otlp: `http://${host}:4318`, query, output: () => out, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`jaeger did not start:\n${out}`);
}

/** GET /api/traces/<id> from Jaeger's query service; undefined while it is not there. */
export async function getTrace(query: string, traceId: string): Promise<JaegerTrace | undefined> {
  const r = await fetch(`${query}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5000) });
  if (r.status === 404) return undefined;
  const body = (await r.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}
