/** Port protocol per Istio's rules: `appProtocol`, else the port name prefix, else sniffing. */
import type { Protocol } from '../../common/snapshot.ts';

const BY_PREFIX: [string, Protocol][] = [
  ['http2', 'http2'],
  ['grpc-web', 'http'],
  ['grpc', 'grpc'],
  ['h2c', 'http2'],
  ['http', 'http'],
  ['https', 'tls'],
  ['tls', 'tls'],
  ['tcp', 'tcp'],
  ['mongo', 'tcp'],
  ['mysql', 'tcp'],
  ['redis', 'tcp'],
];

function fromName(name: string): Protocol | undefined {
  const lower = name.toLowerCase();
  // `https` must be checked before `http`, and `http2` before `http`.
  if (lower === 'https' || lower.startsWith('https-')) return 'tls';
  for (const [prefix, proto] of BY_PREFIX) {
    if (lower === prefix || lower.startsWith(`${prefix}-`)) return proto;
  }
  return undefined;
}

/** Protocol of a Service port. UDP/SCTP ports are not proxied (undefined). */
export function portProtocol(port: { name?: string; appProtocol?: string; protocol?: string }): Protocol | undefined {
  if (port.protocol !== undefined && port.protocol !== 'TCP') return undefined;
  if (port.appProtocol !== undefined) {
    const ap = port.appProtocol.replace(/^kubernetes\.io\//, '');
    if (ap === 'h2c') return 'http2';
    return fromName(ap) ?? 'auto';
  }
  return port.name === undefined ? 'auto' : (fromName(port.name) ?? 'auto');
}
