/** The proxy's identity from the downward API (environment, labels file) or flags. */
import { readFileSync } from 'node:fs';

export interface IdentityInput {
  pod?: string | undefined;
  namespace?: string | undefined;
  serviceAccount?: string | undefined;
  podIp?: string | undefined;
  labels?: string | undefined;
  labelsFile?: string | undefined;
}

export interface Identity {
  id: string;
  pod: string;
  namespace: string;
  serviceAccount: string;
  podIp: string;
  labels: Record<string, string>;
}

/** Parses `k=v,k2=v2` (env/flag form) or the downward-API file form `k="v"` one per line. */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/[\n,]/)) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = JSON.parse(v) as string;
    out[line.slice(0, eq).trim()] = v;
  }
  return out;
}

/** Flags win over the environment; returns undefined fields as empty strings. */
export function resolveIdentity(flags: IdentityInput, env: NodeJS.ProcessEnv): Identity {
  const pod = flags.pod ?? env.POD_NAME ?? '';
  const namespace = flags.namespace ?? env.POD_NAMESPACE ?? '';
  let labels: Record<string, string> = {};
  const file = flags.labelsFile ?? env.POD_LABELS_FILE ?? '/etc/podinfo/labels';
  try {
    labels = parseLabels(readFileSync(file, 'utf8'));
  } catch {
    // No downward-API labels volume: fall back to env/flags below.
  }
  const inline = flags.labels ?? env.POD_LABELS;
  if (inline !== undefined) labels = { ...labels, ...parseLabels(inline) };
  return {
    id: pod !== '' && namespace !== '' ? `${pod}.${namespace}` : '',
    pod,
    namespace,
    serviceAccount: flags.serviceAccount ?? env.SERVICE_ACCOUNT ?? 'default',
    podIp: flags.podIp ?? env.POD_IP ?? '',
    labels,
  };
}
