/**
 * The sidecar template's values: built-in defaults, overlaid by the `values` key (YAML or JSON)
 * of the ConfigMap the chart installs. Pure: parse + validate + version hash, no I/O.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { MeshletError } from '../common/errors.ts';
import { INSTALL_NAMESPACE, PORTS } from './constants.ts';
import { isCidrList, isPortList } from './lists.ts';

/** Bumped whenever render.ts changes what it injects, so status annotations tell templates apart. */
export const TEMPLATE_REVISION = 1;

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface SidecarValues {
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  proxy: { resources: Resources; logLevel: string; concurrency: number };
  init: { resources: Resources };
  ports: { outbound: number; inbound: number; admin: number; health: number; prometheus: number };
  /** host:port of the operator's config push + CA endpoint. */
  operatorAddress: string;
  traffic: { excludeOutboundPorts: string; excludeInboundPorts: string; includeOutboundIPRanges: string; excludeOutboundIPRanges: string };
  /** Seconds the start hold (clusters without native sidecars) waits for the proxy. */
  holdTimeoutSeconds: number;
  /** SPIFFE trust domain of the mesh (chart `trustDomain`): the proxy accepts peers of this domain only. */
  trustDomain: string;
}

export const DEFAULT_VALUES: SidecarValues = {
  image: 'ghcr.io/meshlet/meshlet:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  proxy: { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } }, logLevel: 'warn', concurrency: 2 },
  init: { resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } } },
  ports: { ...PORTS },
  operatorAddress: `meshlet.${INSTALL_NAMESPACE}.svc:15012`,
  traffic: { excludeOutboundPorts: '', excludeInboundPorts: '', includeOutboundIPRanges: '*', excludeOutboundIPRanges: '' },
  holdTimeoutSeconds: 120,
  trustDomain: 'cluster.local',
};

export const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const QUANTITY = /^[+]?[0-9.]+([eE][-+]?[0-9]+|[numkKMGTPE]i?|m)?$/;

export function isQuantity(v: unknown): v is string {
  return typeof v === 'string' && QUANTITY.test(v) && !Number.isNaN(Number.parseFloat(v));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, over: unknown): unknown {
  if (!isRecord(base) || !isRecord(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** Every problem with the values, as `path: message`; empty when valid. */
export function checkValues(v: SidecarValues): string[] {
  const errs: string[] = [];
  if (typeof v.image !== 'string' || v.image.trim() === '') errs.push('image: must be a non-empty string');
  if (!['Always', 'IfNotPresent', 'Never'].includes(v.imagePullPolicy)) errs.push('imagePullPolicy: must be Always, IfNotPresent or Never');
  for (const part of ['proxy', 'init'] as const) {
    const r = v[part]?.resources;
    for (const kind of ['requests', 'limits'] as const) {
      for (const res of ['cpu', 'memory'] as const) {
        if (!isQuantity(r?.[kind]?.[res])) errs.push(`${part}.resources.${kind}.${res}: must be a Kubernetes quantity`);
      }
    }
  }
  if (!LOG_LEVELS.includes(v.proxy?.logLevel)) errs.push(`proxy.logLevel: must be one of ${LOG_LEVELS.join(', ')}`);
  if (!Number.isInteger(v.proxy?.concurrency) || v.proxy.concurrency < 0 || v.proxy.concurrency > 256) errs.push('proxy.concurrency: must be an integer 0..256 (0 = one per CPU)');
  for (const [name, port] of Object.entries(v.ports ?? {})) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) errs.push(`ports.${name}: must be a port number`);
  }
  if (typeof v.operatorAddress !== 'string' || !/^[^:\s]+:\d+$/.test(v.operatorAddress)) errs.push('operatorAddress: must be host:port');
  const t = v.traffic;
  for (const k of ['excludeOutboundPorts', 'excludeInboundPorts'] as const) if (typeof t?.[k] !== 'string' || !isPortList(t[k])) errs.push(`traffic.${k}: must be comma-separated ports`);
  if (typeof t?.excludeOutboundIPRanges !== 'string' || !isCidrList(t.excludeOutboundIPRanges)) errs.push('traffic.excludeOutboundIPRanges: must be comma-separated IPv4 CIDRs');
  if (typeof t?.includeOutboundIPRanges !== 'string' || (t.includeOutboundIPRanges.trim() !== '*' && !isCidrList(t.includeOutboundIPRanges))) errs.push('traffic.includeOutboundIPRanges: must be * or comma-separated IPv4 CIDRs');
  if (!Number.isInteger(v.holdTimeoutSeconds) || v.holdTimeoutSeconds < 1) errs.push('holdTimeoutSeconds: must be a positive integer');
  if (typeof v.trustDomain !== 'string' || !/^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/.test(v.trustDomain)) errs.push('trustDomain: must be a DNS-like name (lower case), e.g. cluster.local');
  return errs;
}

/** Defaults overlaid by the ConfigMap's `values` key; throws MESHLET_WEBHOOK_TEMPLATE_INVALID. */
export function valuesFromConfigMap(data: Record<string, string> | undefined): SidecarValues {
  const text = data?.values;
  if (text === undefined || text.trim() === '') return DEFAULT_VALUES;
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new MeshletError('MESHLET_WEBHOOK_TEMPLATE_INVALID', `values is not YAML: ${(err as Error).message}`);
  }
  if (parsed !== null && !isRecord(parsed)) throw new MeshletError('MESHLET_WEBHOOK_TEMPLATE_INVALID', 'values must be a mapping');
  const values = merge(DEFAULT_VALUES, parsed ?? {}) as SidecarValues;
  const errs = checkValues(values);
  if (errs.length > 0) throw new MeshletError('MESHLET_WEBHOOK_TEMPLATE_INVALID', errs.join('; '));
  return values;
}

const versions = new WeakMap<SidecarValues, string>();

/** `<revision>-<hash>`: changes when the values or the template code change. Cached per values object (hot path). */
export function templateVersion(v: SidecarValues): string {
  let version = versions.get(v);
  if (version === undefined) {
    version = `${TEMPLATE_REVISION}-${createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 10)}`;
    versions.set(v, version);
  }
  return version;
}
