/**
 * What can still be read of a YAML document that does not parse, when it names a security
 * kind: its kind, name and namespace, by line patterns (the parser gave up on it). Enough
 * to fail closed for it; its selector and rules are not guessed. Pure.
 */
import type { K8sObject } from '../world/objects.ts';
import { SECURITY_KINDS } from '../store/fail-closed.ts';

const GROUP: Record<string, string> = { AuthorizationPolicy: 'security.istio.io/v1', PeerAuthentication: 'security.istio.io/v1', RequestAuthentication: 'security.istio.io/v1' };

function field(text: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|[\\s{,])${key}:\\s*["']?([A-Za-z0-9][A-Za-z0-9.-]*)`, 'm').exec(text);
  return m?.[1];
}

/** `fallbackName` (e.g. `file:line`) names the object when its own name cannot be read. */
export function salvageSecurityObject(text: string, fallbackName: string): K8sObject | undefined {
  const kind = /^kind:\s*["']?([A-Za-z]+)/m.exec(text)?.[1];
  if (kind === undefined || !SECURITY_KINDS.has(kind)) return undefined;
  // metadata.name is the first `name:` in nearly every manifest; a wrong guess only renames the stand-in.
  const metaAt = text.search(/^metadata:/m);
  const meta = metaAt < 0 ? '' : text.slice(metaAt);
  const name = field(meta, 'name') ?? `unparsable-${fallbackName.replace(/[^a-z0-9]+/gi, '-').toLowerCase().replace(/^-|-$/g, '')}`;
  const namespace = field(meta, 'namespace') ?? 'default';
  return { apiVersion: GROUP[kind] as string, kind, metadata: { name, namespace } };
}
