/** A tiny OTLP/HTTP JSON receiver (`POST /v1/traces`) that keeps every span it gets. */
import { createServer, type Server } from 'node:http';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 2 SERVER, 3 CLIENT. */
  kind: number;
  service: string;
  attributes: Record<string, string>;
}

export interface Receiver {
  url: string;
  spans: ReceivedSpan[];
  posts: number;
  close(): Promise<void>;
}

interface OtlpAttr { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } }
interface OtlpBody { resourceSpans?: { resource?: { attributes?: OtlpAttr[] }; scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttr[] }[] }[] }[] }

function attrs(list: OtlpAttr[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) out[a.key] = String(a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? '');
  return out;
}

/** `hang: true` accepts requests and never answers (an unreachable-like collector). */
export async function startReceiver(host: string, opts: { hang?: boolean } = {}): Promise<Receiver> {
  const r: Receiver = { url: '', spans: [], posts: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      r.posts++;
      if (opts.hang === true) return;
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const parsed = JSON.parse(body) as OtlpBody;
      for (const rs of parsed.resourceSpans ?? []) {
        const service = attrs(rs.resource?.attributes)['service.name'] ?? '';
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) r.spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind, service, attributes: attrs(s.attributes) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  r.url = `http://${host}:${(server.address() as { port: number }).port}`;
  r.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return r;
}
