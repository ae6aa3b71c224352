/**
 * Why one Istio match did or did not hold, field by field, using the proxy's own compiled
 * predicates (`compileMatch` on a one-field match), so explain can never disagree with it.
 */
import type { RouteMatch, StringMatch } from '../../common/snapshot.ts';
import type { RequestAttrs } from '../../proxy/routing/attrs.ts';
import { compileMatch } from '../../proxy/routing/compile.ts';

const show = (m: StringMatch): string => `${m.type} "${m.value}"`;
const got = (v: string | undefined): string => (v === undefined ? 'none' : `"${v}"`);

/** The failed conditions of `m` for `a` (empty when it matches). */
export function failedConditions(m: RouteMatch, a: RequestAttrs): string[] {
  const out: string[] = [];
  const check = (part: RouteMatch, text: string): void => {
    if (!compileMatch(part).test(a)) out.push(text);
  };
  if (m.uri !== undefined) check({ uri: m.uri, ...(m.ignoreUriCase === undefined ? {} : { ignoreUriCase: m.ignoreUriCase }) }, `uri: wanted ${show(m.uri)}${m.ignoreUriCase === true ? ' (ignoring case)' : ''}, got "${a.path}"`);
  if (m.scheme !== undefined) check({ scheme: m.scheme }, `scheme: wanted ${show(m.scheme)}, got "${a.scheme}"`);
  if (m.method !== undefined) check({ method: m.method }, `method: wanted ${show(m.method)}, got "${a.method}"`);
  if (m.authority !== undefined) check({ authority: m.authority }, `authority: wanted ${show(m.authority)}, got "${a.authority}"`);
  if (m.port !== undefined) check({ port: m.port }, `port: wanted ${m.port}, got ${a.port}`);
  for (const [k, v] of Object.entries(m.headers ?? {})) check({ headers: { [k]: v } }, `header ${k}: wanted ${v.type === 'prefix' && v.value === '' ? 'present' : show(v)}, got ${got(a.header(k.toLowerCase()))}`);
  for (const [k, v] of Object.entries(m.withoutHeaders ?? {})) check({ withoutHeaders: { [k]: v } }, `header ${k}: must not be ${v.type === 'prefix' && v.value === '' ? 'present' : show(v)}, got ${got(a.header(k.toLowerCase()))}`);
  for (const [k, v] of Object.entries(m.queryParams ?? {})) check({ queryParams: { [k]: v } }, `query ${k}: wanted ${show(v)}, got ${got(a.queryParam(k))}`);
  return out;
}

/** One line describing what a match requires (for the route that matched). */
export function describeMatch(m: RouteMatch | undefined): string {
  if (m === undefined) return 'no match conditions: every request matches';
  const parts: string[] = [];
  if (m.uri !== undefined) parts.push(`uri ${show(m.uri)}`);
  if (m.method !== undefined) parts.push(`method ${show(m.method)}`);
  if (m.scheme !== undefined) parts.push(`scheme ${show(m.scheme)}`);
  if (m.authority !== undefined) parts.push(`authority ${show(m.authority)}`);
  if (m.port !== undefined) parts.push(`port ${m.port}`);
  for (const [k, v] of Object.entries(m.headers ?? {})) parts.push(`header ${k} ${show(v)}`);
  for (const [k, v] of Object.entries(m.withoutHeaders ?? {})) parts.push(`without header ${k} ${show(v)}`);
  for (const [k, v] of Object.entries(m.queryParams ?? {})) parts.push(`query ${k} ${show(v)}`);
  if (m.sourceLabels !== undefined) parts.push(`source labels ${Object.entries(m.sourceLabels).map(([k, v]) => `${k}=${v}`).join(',')}`);
  if (m.sourceNamespace !== undefined) parts.push(`source namespace ${m.sourceNamespace}`);
  return `${m.name === undefined ? '' : `match "${m.name}": `}${parts.length === 0 ? 'empty match: every request matches' : parts.join(' and ')}`;
}
