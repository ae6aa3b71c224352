/** Checks of single values shared by every kind (durations, names, regexes, IPs…). */
import { RE2JS } from 're2js';
import { isIP } from 'node:net';
import type { Collector } from '../messages.ts';

const UNIT_NS: Record<string, number> = { h: 3_600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, 'µs': 1e3, ns: 1 };
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/y;

/** Go/CEL duration syntax ("1h2m", "1.5s", "300ms") → nanoseconds, or undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const m = DURATION_PART.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_NS[m[2] as string] as number);
  }
  return sign * Math.round(total);
}

/** Istio's ValidateDuration: at least 1ms and a whole number of milliseconds. */
export function checkDuration(text: string, path: string, c: Collector, zeroOk = false): void {
  const ns = parseDuration(text);
  if (ns === undefined) return c.error('MESHLET_CRD_DURATION', path, `"${text}" is not a duration (e.g. "1.5s", "250ms")`);
  if (ns === 0 && zeroOk) return;
  if (ns < 1e6) return c.error('MESHLET_CRD_DURATION', path, `"${text}" is shorter than 1ms`);
  if (ns % 1e6 !== 0) c.error('MESHLET_CRD_DURATION', path, `"${text}" is not a whole number of milliseconds`);
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes DNS-1123 label: subset names, namespaces. */
export const isDns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);

const HOST_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** Istio's ValidateWildcardDomain: "*", "*.example.com" or a DNS name; undefined when valid. */
export function wildcardDomainProblem(host: string): string | undefined {
  if (host === '') return 'host must not be empty';
  if (host.length > 255) return `host "${host.slice(0, 32)}…" is longer than 255 characters`;
  let rest = host;
  if (rest.startsWith('*')) {
    rest = rest.slice(1);
    if (rest === '') return undefined;
    if (!rest.startsWith('.')) return `"${host}": a wildcard must be "*" or start with "*."`;
    rest = rest.slice(1);
  }
  if (rest.endsWith('.')) rest = rest.slice(0, -1);
  for (const label of rest.split('.')) {
    if (label.length > 63) return `"${host}": label "${label.slice(0, 16)}…" is longer than 63 characters`;
    if (!HOST_LABEL.test(label)) return `"${host}" is not a valid DNS name (label "${label}")`;
  }
  return undefined;
}

/** A VirtualService host: a (wildcard) domain or an IP address. */
export function checkHost(host: string, path: string, c: Collector): void {
  if (isIP(host) !== 0) return;
  const p = wildcardDomainProblem(host);
  if (p !== undefined) c.error('MESHLET_CRD_HOST', path, p);
}

// Compiling is most of the validation cost, and the webhook and the operator see the same
// regexes again on every update and resync: remember verdicts (bounded; cleared when full).
const REGEX_CACHE_MAX = 20_000;
const regexVerdicts = new Map<string, string | null>();

/** The RE2 compile error for `re`, or null when it compiles. */
function re2Problem(re: string): string | null {
  const known = regexVerdicts.get(re);
  if (known !== undefined) return known;
  let problem: string | null = null;
  try {
    RE2JS.compile(re);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (regexVerdicts.size >= REGEX_CACHE_MAX) regexVerdicts.clear();
  regexVerdicts.set(re, problem);
  return problem;
}

/** RE2 syntax (what the proxy matches with, in linear time), non-empty, at most 1024 characters. */
export function checkRegex(re: string, path: string, c: Collector): void {
  if (re === '') return c.error('MESHLET_CRD_REGEX', path, 'regex must not be empty');
  if (re.length > 1024) return c.error('MESHLET_CRD_REGEX', path, `regex is ${re.length} characters, at most 1024 allowed`);
  const problem = re2Problem(re);
  if (problem !== null) c.error('MESHLET_CRD_REGEX', path, `not valid RE2 syntax: ${problem}`);
}

/** Istio's validatePercentage: 0, or in [0.0001, 100]. */
export function checkPercentValue(v: unknown, path: string, c: Collector): void {
  if (typeof v !== 'number') return;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) c.error('MESHLET_CRD_PERCENTAGE', path, `${v} is neither 0 nor in [0.0001, 100]`);
}

/** A port number 1..65535. */
export function checkPort(v: unknown, path: string, c: Collector): void {
  if (typeof v !== 'number') return;
  if (!Number.isInteger(v) || v < 1 || v > 65535) c.error('MESHLET_CRD_PORT', path, `port ${v} is not in 1..65535`);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':status']);
/** RFC 7230 token (plus pseudo-headers where matching on them makes sense). */
export function checkHeaderName(name: string, path: string, c: Collector, allowPseudo = true): void {
  if (name === '') return c.error('MESHLET_CRD_HEADER', path, 'header name must not be empty');
  if (allowPseudo && PSEUDO.has(name)) return;
  if (!TOKEN.test(name)) c.error('MESHLET_CRD_HEADER', path, `"${name}" is not a valid header name`);
}

// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
export function checkHeaderValue(value: string, path: string, c: Collector): void {
  if (BAD_VALUE.test(value)) c.error('MESHLET_CRD_HEADER', path, 'header value contains control characters');
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes label keys ([prefix/]name) and values. */
export function checkLabels(labels: unknown, path: string, c: Collector): void {
  if (typeof labels !== 'object' || labels === null) return;
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    if (name === '' || name.length > 63 || !LABEL_NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)))) {
      c.error('MESHLET_CRD_LABELS', `${path}[${k}]`, `"${k}" is not a valid label key`);
    }
    if (typeof v === 'string' && (v.length > 63 || !LABEL_VALUE.test(v))) c.error('MESHLET_CRD_LABELS', `${path}[${k}]`, `"${v}" is not a valid label value`);
  }
}

/** An IP address or CIDR block (v4 or v6); undefined when valid. */
export function cidrProblem(s: string): string | undefined {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || addr === undefined) return `"${s}" is not an IP or CIDR`;
  const family = isIP(addr);
  if (family === 0) return `"${s}" is not an IP or CIDR`;
  if (bits === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(bits) || Number(bits) > max) return `"${s}": prefix length must be 0..${max}`;
  return undefined;
}

/** A namespace reference in exportTo: ".", "*" or a DNS-1123 label. */
export function checkExportTo(v: unknown, path: string, c: Collector, namespace?: string): void {
  if (!Array.isArray(v)) return;
  const seen = new Set<string>();
  v.forEach((ns, i) => {
    if (typeof ns !== 'string') return;
    if (ns !== '.' && ns !== '*' && !isDns1123Label(ns)) return c.error('MESHLET_CRD_NAMESPACE', `${path}[${i}]`, `"${ns}" is not ".", "*" or a namespace name`);
    // "." is the object's own namespace: ". and <own namespace>" is a duplicate too.
    const key = ns === '.' && namespace !== undefined ? namespace : ns;
    if (seen.has(key)) c.error('MESHLET_CRD_NAMESPACE', `${path}[${i}]`, `duplicate exportTo entry "${ns}"`);
    seen.add(key);
  });
  if (seen.has('*') && v.length > 1) c.error('MESHLET_CRD_NAMESPACE', path, 'cannot have both public (*) and non-public exportTo values');
}

/** Istio's host.Name Matches: do two (wildcard) hosts overlap? */
export function hostsOverlap(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name SubsetOf: is every name matched by `a` also matched by `b`? */
export function hostSubsetOf(a: string, b: string): boolean {
  if (a.startsWith('*')) return b.startsWith('*') && a.slice(1).endsWith(b.slice(1));
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's workload selector rules: no empty keys, no wildcards; no labels selects everything (warning). */
export function checkWorkloadSelector(sel: unknown, path: string, c: Collector): void {
  if (typeof sel !== 'object' || sel === null) return;
  const labels = (sel as { matchLabels?: unknown }).matchLabels;
  const entries = typeof labels === 'object' && labels !== null ? Object.entries(labels) : [];
  if (entries.length === 0) c.warn('MESHLET_CRD_SELECTOR', path, 'selector without matchLabels applies to every workload in the namespace');
  for (const [k, v] of entries) {
    const p = `${path}.matchLabels[${k}]`;
    if (k === '') c.error('MESHLET_CRD_SELECTOR', p, 'empty label key');
    else if (k.includes('*') || (typeof v === 'string' && v.includes('*'))) c.error('MESHLET_CRD_SELECTOR', p, `wildcard in selector "${k}=${String(v)}" is not supported`);
    else checkLabels({ [k]: v }, `${path}.matchLabels`, c);
  }
}
