/**
 * `x-forwarded-client-cert` as Envoy/Istio set it on the inbound hop:
 * `By=<this workload's SPIFFE ID>;Hash=<hex SHA-256 of the peer cert DER>;Subject="";URI=<peer SPIFFE ID>`.
 * The header is sanitized first (any client-sent value removed) so an app can trust it:
 * Envoy's SANITIZE_SET, stricter than Istio's sidecar default APPEND_FORWARD, on purpose.
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { uriSans } from '../../common/spiffe.ts';
import type { Headers } from '../chain/types.ts';
import { withoutHeader } from '../http/headers.ts';

export const XFCC = 'x-forwarded-client-cert';

function quoteIfNeeded(v: string): string {
  return /[,;="]/.test(v) || v === '' ? `"${v.replace(/"/g, '\\"')}"` : v;
}

/** The XFCC element for one verified peer certificate. */
export function buildXfcc(by: string, peer: Pick<PeerCertificate, 'raw' | 'subjectaltname' | 'subject'>): string {
  const hash = createHash('sha256').update(peer.raw).digest('hex');
  const subject = peer.subject === undefined ? '' : Object.entries(peer.subject).map(([k, v]) => `${k}=${String(v)}`).join(',');
  const parts = [`By=${quoteIfNeeded(by)}`, `Hash=${hash}`, `Subject=${quoteIfNeeded(subject)}`];
  for (const uri of uriSans(peer.subjectaltname)) parts.push(`URI=${quoteIfNeeded(uri)}`);
  return parts.join(';');
}

/**
 * Replaces any client-sent XFCC by ours when the hop was mTLS, or removes it. Returns the
 * headers to use: the same object when set in place, a copy when removed (no `delete`).
 */
export function applyXfcc(headers: Headers, value: string | undefined): Headers {
  if (value !== undefined) {
    headers[XFCC] = value;
    return headers;
  }
  return headers[XFCC] === undefined ? headers : withoutHeader(headers, XFCC);
}

/** Parses an XFCC header into elements of key → values (for tests and `explain`). */
export function parseXfcc(header: string): Record<string, string[]>[] {
  const out: Record<string, string[]>[] = [];
  for (const element of header.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const el: Record<string, string[]> = {};
    for (const pair of element.split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
      const i = pair.indexOf('=');
      if (i < 0) continue;
      const k = pair.slice(0, i).trim();
      let v = pair.slice(i + 1).trim();
      if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\"/g, '"');
      (el[k] ??= []).push(v);
    }
    out.push(el);
  }
  return out;
}
