/**
 * Trace context in headers: W3C `traceparent`/`tracestate` and Zipkin B3 (multi-header
 * `x-b3-*` and single-header `b3`), read and written. Pure. Precedence on read follows
 * Envoy/OTel composite propagators: traceparent, then b3 single, then b3 multi.
 */

export type TraceFormat = 'w3c' | 'b3' | 'b3multi';

export interface ParentContext {
  /** 32 lower-case hex digits (64-bit B3 ids are left-padded with zeros). */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  /** Sampling decision carried by the parent; undefined when B3 defers it. */
  sampled: boolean | undefined;
  /** W3C tracestate, passed through. */
  traceState?: string;
  format: TraceFormat;
}

type HeaderBag = Record<string, string | string[] | undefined>;

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function traceIdOf(raw: string): string | undefined {
  const t = raw.toLowerCase();
  const id = t.length === 16 ? `${ZERO16}${t}` : t;
  return HEX32.test(id) && id !== ZERO32 ? id : undefined;
}

function spanIdOf(raw: string): string | undefined {
  const s = raw.toLowerCase();
  return HEX16.test(s) && s !== ZERO16 ? s : undefined;
}

/** `00-<trace>-<span>-<flags>`; future versions are read by their first four fields (W3C §3.2.4). */
export function parseTraceparent(v: string | undefined): ParentContext | undefined {
  if (v === undefined) return undefined;
  const p = v.trim().split('-');
  if (p.length < 4) return undefined;
  const [ver, tid, sid, flags] = p as [string, string, string, string];
  if (!/^[0-9a-f]{2}$/.test(ver) || ver === 'ff' || (ver === '00' && p.length !== 4) || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  if (!HEX32.test(tid) || tid === ZERO32 || !HEX16.test(sid) || sid === ZERO16) return undefined;
  return { traceId: tid, spanId: sid, sampled: (parseInt(flags, 16) & 1) === 1, format: 'w3c' };
}

function b3Sampled(s: string | undefined): boolean | undefined {
  if (s === undefined || s === '') return undefined;
  if (s === '1' || s === 'd' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  return undefined;
}

/** `b3: {traceid}-{spanid}[-{sampling}[-{parentspanid}]]`; a bare sampling state has no ids. */
export function parseB3Single(v: string | undefined): ParentContext | undefined {
  if (v === undefined) return undefined;
  const p = v.trim().split('-');
  if (p.length < 2) return undefined;
  const traceId = traceIdOf(p[0]!);
  const spanId = spanIdOf(p[1]!);
  if (traceId === undefined || spanId === undefined) return undefined;
  return { traceId, spanId, sampled: b3Sampled(p[2]), format: 'b3' };
}

export function parseB3Multi(h: HeaderBag): ParentContext | undefined {
  const t = one(h['x-b3-traceid']);
  const s = one(h['x-b3-spanid']);
  if (t === undefined || s === undefined) return undefined;
  const traceId = traceIdOf(t);
  const spanId = spanIdOf(s);
  if (traceId === undefined || spanId === undefined) return undefined;
  const debug = one(h['x-b3-flags']) === '1';
  return { traceId, spanId, sampled: debug ? true : b3Sampled(one(h['x-b3-sampled'])), format: 'b3multi' };
}

/** The incoming trace context, if any. */
export function extractParent(h: HeaderBag): ParentContext | undefined {
  const w3c = parseTraceparent(one(h.traceparent));
  if (w3c !== undefined) {
    const ts = one(h.tracestate);
    if (ts !== undefined && ts !== '') w3c.traceState = ts;
    return w3c;
  }
  return parseB3Single(one(h.b3)) ?? parseB3Multi(h);
}

const B3_MULTI = ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'];

/**
 * Writes the context of the span we created (`spanId`, child of `parentSpanId`) into
 * outgoing headers: traceparent (+ tracestate), B3 multi, and B3 single when the request
 * came with it. Stale propagation headers are replaced, never duplicated.
 */
export function injectContext(h: HeaderBag, c: { traceId: string; spanId: string; sampled: boolean; parentSpanId?: string; traceState?: string; b3Single?: boolean }): void {
  const flag = c.sampled ? '1' : '0';
  h.traceparent = `00-${c.traceId}-${c.spanId}-0${flag}`;
  if (c.traceState !== undefined) h.tracestate = c.traceState;
  // Delete only what is there: deleting keys turns the header object into a slow dictionary.
  for (const k of B3_MULTI) if (h[k] !== undefined) delete h[k];
  h['x-b3-traceid'] = c.traceId;
  h['x-b3-spanid'] = c.spanId;
  h['x-b3-sampled'] = flag;
  if (c.parentSpanId !== undefined) h['x-b3-parentspanid'] = c.parentSpanId;
  if (c.b3Single === true) h.b3 = `${c.traceId}-${c.spanId}-${flag}${c.parentSpanId === undefined ? '' : `-${c.parentSpanId}`}`;
  else if (h.b3 !== undefined) delete h.b3;
}
