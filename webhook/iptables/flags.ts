/** Parses `meshlet init-iptables` flag values into CaptureOptions; throws MESHLET_IPTABLES_BAD_FLAG naming the flag. */
import { MeshletError } from '../../common/errors.ts';
import { isCidr, isPortList, splitList } from '../lists.ts';
import { PORTS, PROXY_GID, PROXY_UID } from '../constants.ts';
import type { CaptureOptions } from './rules.ts';

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

function str(v: FlagValues, name: string, dflt: string): string {
  const x = v[name];
  return typeof x === 'string' ? x : dflt;
}

function port(v: FlagValues, name: string, dflt: number): number {
  const raw = str(v, name, String(dflt));
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new MeshletError('MESHLET_IPTABLES_BAD_FLAG', `--${name} ${raw}`);
  return n;
}

function id(v: FlagValues, name: string, dflt: number): number {
  const raw = str(v, name, String(dflt));
  if (!/^\d+$/.test(raw)) throw new MeshletError('MESHLET_IPTABLES_BAD_FLAG', `--${name} ${raw}`);
  return Number(raw);
}

function ports(v: FlagValues, name: string, star: boolean): '*' | number[] {
  const raw = str(v, name, star ? '*' : '').trim();
  if (star && raw === '*') return '*';
  if (!isPortList(raw)) throw new MeshletError('MESHLET_IPTABLES_BAD_FLAG', `--${name} ${raw}`);
  return splitList(raw).map(Number);
}

function ranges(v: FlagValues, name: string, star: boolean): '*' | string[] {
  const raw = str(v, name, star ? '*' : '').trim();
  if (star && raw === '*') return '*';
  const list = splitList(raw);
  const badOne = list.find((c) => !isCidr(c));
  if (badOne !== undefined) throw new MeshletError('MESHLET_IPTABLES_BAD_FLAG', `--${name} ${badOne} (IPv4 CIDR expected)`);
  return list;
}

export const FLAG_OPTIONS = {
  'proxy-uid': { type: 'string' },
  'proxy-gid': { type: 'string' },
  'outbound-port': { type: 'string' },
  'inbound-port': { type: 'string' },
  'inbound-ports': { type: 'string' },
  'exclude-inbound-ports': { type: 'string' },
  'exclude-outbound-ports': { type: 'string' },
  'include-outbound-ip-ranges': { type: 'string' },
  'exclude-outbound-ip-ranges': { type: 'string' },
  'dry-run': { type: 'boolean' },
  cleanup: { type: 'boolean' },
} as const;

export function captureOptionsFromFlags(v: FlagValues): CaptureOptions {
  return {
    proxyUid: id(v, 'proxy-uid', PROXY_UID),
    proxyGid: id(v, 'proxy-gid', PROXY_GID),
    outboundPort: port(v, 'outbound-port', PORTS.outbound),
    inboundPort: port(v, 'inbound-port', PORTS.inbound),
    inboundPorts: ports(v, 'inbound-ports', true),
    // The proxy's own ports are never captured, whatever the flag says.
    excludeInboundPorts: [...new Set([PORTS.admin, PORTS.health, PORTS.prometheus, ...(ports(v, 'exclude-inbound-ports', false) as number[])])],
    excludeOutboundPorts: ports(v, 'exclude-outbound-ports', false) as number[],
    includeOutboundRanges: ranges(v, 'include-outbound-ip-ranges', true),
    excludeOutboundRanges: ranges(v, 'exclude-outbound-ip-ranges', false) as string[],
  };
}
