/**
 * Compares the schema source with Istio's API protos field by field: prints every proto field
 * the schema lacks and every schema field the protos do not have, per message.
 *   node scripts/istio-api-fields.ts <istio/api checkout or `git show`n directory>
 * The directory holds Istio's networking/v1alpha3 and security/v1beta1 protos (as in the
 * istio/api repository). Message names map to the schema's type names by their last part.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defs } from '../crds/generated/tables.ts';

const FILES = ['networking/v1alpha3/virtual_service.proto', 'networking/v1alpha3/destination_rule.proto', 'security/v1beta1/peer_authentication.proto', 'security/v1beta1/authorization_policy.proto', 'security/v1beta1/request_authentication.proto', 'type/v1beta1/selector.proto'];
/** Proto message (last name part) → schema type, where the names differ. */
const ALIASES: Record<string, string[]> = {
  VirtualService: ['VirtualServiceSpec'], DestinationRule: ['DestinationRuleSpec'], PeerAuthentication: ['PeerAuthenticationSpec'], AuthorizationPolicy: ['AuthorizationPolicySpec'], RequestAuthentication: ['RequestAuthenticationSpec'],
  MutualTLS: ['PeerAuthenticationMutualTLS'], From: ['RuleFrom'], To: ['RuleTo'], HeaderOperations: ['HeaderOperations'],
  TCPSettings: ['TCPSettings'], HTTPSettings: ['HTTPSettings'], PortTrafficPolicy: ['PortTrafficPolicy'], ExtensionProvider: ['ExtensionProvider'], Attribute: ['CookieAttribute'],
};

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function protoMessages(text: string): Map<string, string[]> {
  const t = text.replace(/\/\/[^\n]*/g, '');
  const out = new Map<string, string[]>();
  const stack: { kind: string; name: string }[] = [];
  const re = /(message|enum|oneof)\s+(\w+)\s*\{|\}|((?:repeated\s+)?(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+)/g;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    if (m[1] !== undefined) stack.push({ kind: m[1], name: m[2]! });
    else if (m[0] === '}') stack.pop();
    else if (m[4] !== undefined && stack.length > 0 && stack.at(-1)!.kind !== 'enum') {
      const msgs = stack.filter((s) => s.kind === 'message');
      if (msgs.length === 0) continue;
      const name = msgs.at(-1)!.name;
      out.set(name, [...(out.get(name) ?? []), camel(m[4])]);
    }
  }
  return out;
}

const dir = process.argv[2];
if (dir === undefined || !existsSync(dir)) {
  process.stderr.write('usage: node scripts/istio-api-fields.ts <istio/api directory>\n');
  process.exit(2);
}
let missing = 0;
let checked = 0;
for (const f of FILES) {
  for (const [msg, fields] of protoMessages(readFileSync(join(dir, f), 'utf8'))) {
    const names = ALIASES[msg] ?? [msg];
    const schema = names.map((n) => defs[n]).find((d) => d !== undefined);
    if (schema === undefined) {
      process.stdout.write(`${f} ${msg}: no schema type (${names.join('/')})\n`);
      continue;
    }
    const have = new Set(Object.keys(schema.p));
    for (const fld of fields) {
      checked += 1;
      if (!have.has(fld)) {
        missing += 1;
        process.stdout.write(`${f} ${msg}.${fld}: missing in the schema\n`);
      }
    }
    for (const h of have) if (!fields.includes(h)) process.stdout.write(`${f} ${msg}.${h}: in the schema, not in the proto\n`);
  }
}
process.stdout.write(`${checked - missing} of ${checked} proto fields are in the schema\n`);
