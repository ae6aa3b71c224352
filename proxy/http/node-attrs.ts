/** RequestAttrs over a node:http / node:http2 request, without copying headers. */
import type { IncomingHttpHeaders } from 'node:http';
import { lazyQuery, type RequestAttrs } from '../routing/attrs.ts';

export class NodeAttrs implements RequestAttrs {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly authority: string;
  readonly scheme: string;
  readonly port: number;
  private readonly headers: IncomingHttpHeaders;
  private q: ((name: string) => string | undefined) | undefined;

  constructor(method: string, target: string, authority: string, scheme: string, port: number, headers: IncomingHttpHeaders) {
    const qi = target.indexOf('?');
    this.method = method;
    this.path = qi === -1 ? target : target.slice(0, qi);
    this.query = qi === -1 ? '' : target.slice(qi + 1);
    this.authority = authority;
    this.scheme = scheme;
    this.port = port;
    this.headers = headers;
  }

  header(name: string): string | undefined {
    if (name === 'host' || name === ':authority') return this.authority;
    const v = this.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }

  queryParam(name: string): string | undefined {
    this.q ??= lazyQuery(this.query);
    return this.q(name);
  }
}

/** Port of an authority (`host:port`, `[v6]:port`), else the scheme's default. */
export function authorityPort(authority: string, scheme: string): number {
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && (authority.indexOf(':') === colon || authority[colon - 1] === ']')) {
    const p = Number(authority.slice(colon + 1));
    if (Number.isInteger(p) && p > 0 && p < 65536) return p;
  }
  return scheme === 'https' ? 443 : 80;
}
