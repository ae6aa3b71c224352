/**
 * Distributed tracing in the proxy: a SERVER span per inbound request, a CLIENT span per
 * outbound one, parented on the incoming W3C or B3 context, and the new span's context
 * written to the upstream request so the next hop continues the trace (apps only forward
 * the headers). Spans go through the OpenTelemetry SDK: a BatchSpanProcessor with a bounded
 * queue (full queue → spans dropped, never a request delayed) and the OTLP/HTTP JSON
 * exporter, which runs off the request path; an unreachable collector costs a failed export
 * per batch and nothing else.
 */
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type * as OtelApi from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type { BasicTracerProvider, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type { ProxyIdentity } from '../../common/snapshot.ts';
import { extractParent, injectContext } from './tracing-headers.ts';
import type { Random } from '../../common/clock.ts';
import { MeshSampler, PresetIdGenerator, idGenerator, otelSdk, ratioSampled } from './tracing-sampler.ts';

// The API, SDK, exporter and resources load only when an endpoint is configured (see otelSdk):
// a proxy that exports no spans never pays for their modules.
const load = createRequire(import.meta.url);

export interface TracingOptions {
  /** Random source for trace/span ids (tests); crypto by default. */
  random?: Random;
  /** Batch delay; 1 s by default (tests use less). */
  scheduledDelayMs?: number;
  /** Bounded queue; spans beyond it are dropped. 2048 by default. */
  maxQueueSize?: number;
  /** Exporter timeout per batch, 2 s by default. */
  exportTimeoutMs?: number;
  /** Exporter override (tests, benchmarks); OTLP/HTTP JSON otherwise. */
  exporter?: (url: string) => SpanExporter;
}

export interface TracingSettings {
  samplingPercent: number;
  otlpEndpoint?: string;
}

/** `http://collector:4318` → `http://collector:4318/v1/traces`; a full path is kept. */
export function tracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
  return u.toString();
}

export interface SpanStart {
  kind: 'server' | 'client';
  /** Envoy-style operation name, e.g. `reviews.default.svc.cluster.local:9080/*`. */
  name: string;
  /** Built only when the span is sampled. */
  attributes: () => Attributes;
}

export class Tracing {
  readonly #opts: TracingOptions;
  readonly #sampler = new MeshSampler(1);
  #provider: BasicTracerProvider | undefined;
  #tracer: Tracer | undefined;
  /** Set together with #tracer. */
  #api: typeof OtelApi | undefined;
  #endpoint: string | undefined;
  #identity = '';
  #ids: PresetIdGenerator;

  constructor(opts: TracingOptions = {}) {
    this.#opts = opts;
    this.#ids = new PresetIdGenerator(idGenerator(opts.random));
  }

  /** True when spans are produced (an endpoint is configured). */
  get enabled(): boolean {
    return this.#tracer !== undefined;
  }

  get samplingPercent(): number {
    return this.#sampler.percent;
  }

  /** Applies a snapshot's settings; rebuilds the SDK pipeline only when the endpoint or identity changes. */
  configure(s: TracingSettings, id: ProxyIdentity): void {
    this.#sampler.setPercent(s.samplingPercent);
    const key = `${id.workload}.${id.namespace}`;
    if (s.otlpEndpoint === this.#endpoint && key === this.#identity) return;
    const old = this.#provider;
    this.#endpoint = s.otlpEndpoint;
    this.#identity = key;
    this.#provider = undefined;
    this.#tracer = undefined;
    if (old !== undefined) void old.shutdown().catch(() => undefined);
    if (s.otlpEndpoint === undefined || s.otlpEndpoint === '') return;
    const url = tracesUrl(s.otlpEndpoint);
    const timeout = this.#opts.exportTimeoutMs ?? 2000;
    const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
    const { resourceFromAttributes } = load('@opentelemetry/resources') as typeof Resources;
    const { BasicTracerProvider, BatchSpanProcessor } = otelSdk();
    this.#api = load('@opentelemetry/api') as typeof OtelApi;
    const exporter = this.#opts.exporter?.(url) ?? new OTLPTraceExporter({ url, timeoutMillis: timeout, concurrencyLimit: 2 });
    const app = id.labels.app ?? id.labels['app.kubernetes.io/name'] ?? id.workload;
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': `${app}.${id.namespace}`, 'k8s.namespace.name': id.namespace, 'k8s.pod.name': id.id.split('.')[0] ?? id.id, 'istio.canonical_service': app }),
      sampler: this.#sampler,
      idGenerator: this.#ids,
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: this.#opts.maxQueueSize ?? 2048, maxExportBatchSize: 512, scheduledDelayMillis: this.#opts.scheduledDelayMs ?? 1000, exportTimeoutMillis: timeout })],
    });
    this.#tracer = this.#provider.getTracer('meshlet-proxy');
  }

  /**
   * Starts a span parented on the context in `headers` and rewrites the propagation headers
   * in place (they are the upstream request's). Undefined when tracing is off.
   */
  start(headers: Record<string, string | string[] | undefined>, s: SpanStart): Span | undefined {
    const tracer = this.#tracer;
    const api = this.#api;
    if (tracer === undefined || api === undefined) return undefined;
    const parent = extractParent(headers);
    const traceId = parent?.traceId ?? this.#ids.inner.generateTraceId();
    // ParentBased(TraceIdRatio): the parent's flag, else (root or deferred B3) the ratio on the trace id.
    const sampled = parent?.sampled ?? ratioSampled(traceId, this.#sampler.percent);
    const inj: Parameters<typeof injectContext>[1] = { traceId, spanId: '', sampled, b3Single: parent?.format === 'b3' };
    if (parent !== undefined) inj.parentSpanId = parent.spanId;
    if (parent?.traceState !== undefined) inj.traceState = parent.traceState;
    if (!sampled) {
      // Not recorded: propagate a new span id with the "not sampled" flag; the SDK is not involved.
      inj.spanId = this.#ids.inner.generateSpanId();
      injectContext(headers, inj);
      return undefined;
    }
    let ctx = api.ROOT_CONTEXT;
    if (parent !== undefined) ctx = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: 1, isRemote: true });
    else this.#ids.next = traceId;
    const span = tracer.startSpan(s.name, { kind: s.kind === 'server' ? api.SpanKind.SERVER : api.SpanKind.CLIENT, attributes: s.attributes() }, ctx);
    inj.spanId = span.spanContext().spanId;
    injectContext(headers, inj);
    return span;
  }

  /** Ends a span with the response outcome. */
  end(span: Span, o: { status: number; flags: string; responseBytes: number; requestBytes: number; upstreamHost?: string }): void {
    if (!span.isRecording()) return;
    span.setAttribute('http.status_code', String(o.status));
    span.setAttribute('response_flags', o.flags === '' ? '-' : o.flags);
    span.setAttribute('response_size', String(o.responseBytes));
    span.setAttribute('request_size', String(o.requestBytes));
    if (o.upstreamHost !== undefined) span.setAttribute('upstream_host', o.upstreamHost);
    // A recording span exists only once the API is loaded.
    if ((o.status >= 500 || o.status === 0) && this.#api !== undefined) span.setStatus({ code: this.#api.SpanStatusCode.ERROR });
    span.end();
  }

  /** Exports what is queued (tests, graceful exit). Never rejects: a dead collector only loses spans. */
  async flush(): Promise<void> {
    await this.#provider?.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    const p = this.#provider;
    this.#provider = undefined;
    this.#tracer = undefined;
    this.#endpoint = undefined;
    await p?.shutdown().catch(() => undefined);
  }
}
