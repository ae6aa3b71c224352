/**
 * What route matching looks at, independent of where the request came from (node:http,
 * node:http2, or `meshlet explain` building one from the command line).
 */
export interface RequestAttrs {
  /** Upper-case method. */
  method: string;
  /** Path without the query string. */
  path: string;
  /** Raw query string without `?` (empty when none). */
  query: string;
  /** Host / :authority as sent (may carry `:port`). */
  authority: string;
  /** `http` or `https`. */
  scheme: string;
  /** Destination port the request was sent to. */
  port: number;
  /** Header value by lower-case name; repeated headers joined with `,`. */
  header(name: string): string | undefined;
  /** First value of a query parameter. */
  queryParam(name: string): string | undefined;
}

/** Parses a query string once, on first use, into first-value-per-name. */
export function lazyQuery(query: string): (name: string) => string | undefined {
  let parsed: Map<string, string> | undefined;
  return (name) => {
    if (query === '') return undefined;
    if (parsed === undefined) {
      parsed = new Map();
      for (const [k, v] of new URLSearchParams(query)) if (!parsed.has(k)) parsed.set(k, v);
    }
    return parsed.get(name);
  };
}

/** Builds attrs from plain values (for tests and `meshlet explain`). */
export function plainAttrs(opts: { method?: string; url: string; authority: string; port: number; scheme?: string; headers?: Record<string, string> }): RequestAttrs {
  const q = opts.url.indexOf('?');
  const path = q === -1 ? opts.url : opts.url.slice(0, q);
  const query = q === -1 ? '' : opts.url.slice(q + 1);
  const headers = new Map(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: (opts.method ?? 'GET').toUpperCase(),
    path,
    query,
    authority: opts.authority,
    scheme: opts.scheme ?? 'http',
    port: opts.port,
    header: (name) => (name === ':authority' || name === 'host' ? opts.authority : headers.get(name)),
    queryParam: lazyQuery(query),
  };
}
