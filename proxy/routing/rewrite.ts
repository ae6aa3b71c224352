/** Path/authority rewrites and redirect targets (Istio HTTPRewrite / HTTPRedirect), pure. */
import { re2 } from '../../common/re2.ts';
import type { Redirect, Rewrite, RouteMatch } from '../../common/snapshot.ts';

export type PathRewriter = (path: string, match: RouteMatch | undefined) => string;

/**
 * Builds the path rewriter of a route. `path` is without query. With a prefix uri match,
 * `rewrite.uri` replaces the matched prefix; otherwise it replaces the whole path.
 * `uriRegexRewrite` replaces every match of its RE2 pattern; `\1` style groups as in Envoy.
 */
export function compilePathRewrite(rw: Rewrite | undefined): PathRewriter | undefined {
  if (rw === undefined) return undefined;
  if (rw.uriRegexRewrite !== undefined) {
    const re = re2().compile(rw.uriRegexRewrite.match);
    const template = rw.uriRegexRewrite.rewrite;
    const replacer = (...args: unknown[]): string => template.replace(/\\(\d)/g, (_s, d: string) => {
      const g = args[Number(d)];
      return typeof g === 'string' ? g : '';
    });
    return (path) => re.matcher(path).replaceAll(replacer);
  }
  if (rw.uri === undefined) return undefined;
  const uri = rw.uri;
  return (path, match) => {
    const m = match?.uri;
    if (m !== undefined && m.type === 'prefix') {
      const rest = path.slice(m.value.length);
      // Avoid `//` when both the replacement ends and the remainder starts with a slash.
      return uri.endsWith('/') && rest.startsWith('/') ? uri + rest.slice(1) : uri + rest;
    }
    return uri;
  };
}

/** Location header of a redirect; the query string is kept unless the new path carries one. */
/** The path of a redirect with `prefixRewrite`: the matched prefix replaced (the whole path for other uri matches; `/` without one, as Istio's implicit prefix). */
function prefixRewritten(prefixRewrite: string, path: string, match: RouteMatch | undefined): string {
  const uri = match?.uri;
  if (uri === undefined) return prefixRewrite + path.slice(1);
  if (uri.type === 'prefix') return prefixRewrite + path.slice(uri.value.length);
  return prefixRewrite;
}

export function redirectLocation(r: Redirect, req: { scheme: string; authority: string; path: string; query: string; port: number }, match?: RouteMatch): string {
  const scheme = r.scheme ?? req.scheme;
  const colon = req.authority.lastIndexOf(':');
  const reqHost = colon > 0 && req.authority.indexOf(':') === colon ? req.authority.slice(0, colon) : req.authority;
  const reqPort = colon > 0 && req.authority.indexOf(':') === colon ? req.authority.slice(colon + 1) : '';
  let host = reqHost;
  let port = reqPort;
  if (r.authority !== undefined) {
    host = r.authority;
    port = '';
  }
  if (r.port !== undefined) port = String(r.port);
  else if (r.derivePort === 'FROM_REQUEST_PORT') port = String(req.port);
  else if (r.derivePort === 'FROM_PROTOCOL_DEFAULT') port = '';
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = '';
  const path = r.uri ?? (r.prefixRewrite === undefined ? req.path : prefixRewritten(r.prefixRewrite, req.path, match));
  const query = path.includes('?') || req.query === '' ? '' : `?${req.query}`;
  return `${scheme}://${host}${port === '' ? '' : `:${port}`}${path}${query}`;
}
