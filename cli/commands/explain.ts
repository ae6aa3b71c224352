/** `meshlet explain <proxy> <url>`: where a request from that proxy goes, and why. */
import { parseFlags } from '../args.ts';
import { MeshletError } from '../../common/errors.ts';
import { explainWithJwt } from '../explain/explain.ts';
import { reportError } from '../explain/fail.ts';
import { renderExplanation } from '../explain/render.ts';
import { destinationIndex, snapshotOf, sourceFrom } from '../explain/source.ts';

const HELP = `Usage: meshlet explain <proxy> <url> [-H name:value]... [--method M] [flags]

Explains what the proxy <proxy> (<pod>.<namespace>) does with a request its app sends to
<url>: the listener and virtual host, each route in order with why it did not match (field
by field) until the one that did, the destinations with weights, subsets and endpoints,
timeout, retries, fault injection, circuit breaker, the transport (auto mTLS to which
identity), the destination's mTLS mode, what its RequestAuthentication makes of the token
in the request (verified with which principal, refused with 401 and why, or no token) and
which AuthorizationPolicy allows or denies the request. Every fact names the object it came from. The matching is the proxy's own code.

Flags:
  -H, --header <k:v>   request header (repeatable)
  -X, --method <M>     request method (default GET)
  --local <dir>        explain from a directory of YAML (no operator needed)
  --operator <url>     operator debug endpoint (default $MESHLET_OPERATOR or http://127.0.0.1:15014)
  -o, --output <fmt>   text (default) or json
  -h, --help

Examples:
  meshlet explain frontend.default http://reviews:9080/reviews/1
  meshlet explain frontend.default http://reviews:9080/ -H user-tier:premium
  meshlet explain frontend.default http://reviews:9080/ -H "authorization:Bearer $TOKEN"
  meshlet explain frontend.default http://reviews:9080/ -X POST --local examples/demo/mesh -o json
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    header: { type: 'string', short: 'H', multiple: true }, method: { type: 'string', short: 'X' },
    local: { type: 'string' }, operator: { type: 'string' }, output: { type: 'string', short: 'o' },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    const [proxy, url] = positionals;
    if (proxy === undefined || url === undefined || positionals.length > 2) throw new MeshletError('MESHLET_CLI_USAGE', 'need <proxy> and <url>, e.g. meshlet explain frontend.default http://reviews:9080/');
    if (!/^https?:\/\/[^/]/.test(url)) throw new MeshletError('MESHLET_CLI_BAD_URL', url);
    const headers: Record<string, string> = {};
    for (const h of (values.header as string[] | undefined) ?? []) {
      const i = h.indexOf(':');
      if (i <= 0) throw new MeshletError('MESHLET_CLI_USAGE', `header "${h}" is not name:value`);
      headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    const output = (values.output as string | undefined) ?? 'text';
    if (output !== 'text' && output !== 'json') throw new MeshletError('MESHLET_CLI_USAGE', `--output ${output}: use text or json`);
    const src = await sourceFrom(values);
    const snapshot = await snapshotOf(src, proxy);
    const byIp = await destinationIndex(src);
    const e = await explainWithJwt(snapshot, { url, method: (values.method as string | undefined) ?? 'GET', headers }, (ep) => byIp.get(ep.address));
    process.stdout.write(output === 'json' ? `${JSON.stringify(e, null, 2)}\n` : renderExplanation(e));
    return 0;
  } catch (err) {
    return reportError('explain', err);
  }
}
