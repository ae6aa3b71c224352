/**
 * The nat rules that send a pod's TCP traffic through its proxy, in Istio's shape (chains
 * renamed MESHLET_*; Istio's ISTIO_IN_REDIRECT chain is folded into its two REDIRECT rules):
 * inbound to 15006, outbound to 15001; the proxy's own traffic (uid/gid
 * 1337) and its inbound forwards from 127.0.0.6 pass; the proxy's health/metrics ports and the
 * excluded ports/ranges are never captured. Pure: options in, iptables-restore text out.
 */
export interface CaptureOptions {
  proxyUid: number;
  proxyGid: number;
  outboundPort: number;
  inboundPort: number;
  /** Inbound destination ports to capture; '*' = all but the excluded ones. */
  inboundPorts: '*' | number[];
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
  /** Outbound destination ranges to capture; '*' = all. */
  includeOutboundRanges: '*' | string[];
  excludeOutboundRanges: string[];
}

export const CHAINS = ['MESHLET_INBOUND', 'MESHLET_REDIRECT', 'MESHLET_OUTPUT'] as const;

/** Jumps from the built-in chains, exactly as `iptables-save` prints them (so presence can be checked). */
export const JUMPS = [
  { chain: 'PREROUTING', rule: '-p tcp -j MESHLET_INBOUND' },
  { chain: 'OUTPUT', rule: '-p tcp -j MESHLET_OUTPUT' },
] as const;

/** The source address the proxy uses when it forwards inbound traffic to the app (DESIGN.md §2). */
export const INBOUND_PASSTHROUGH_SOURCE = '127.0.0.6/32';

/** The rules of the MESHLET_* chains, in order, as `-A <chain> ...` lines. */
export function chainRules(o: CaptureOptions): string[] {
  const r: string[] = [];
  // Inbound capture is one REDIRECT target, used from MESHLET_INBOUND and for the proxy calling its own pod.
  const toInbound = `REDIRECT --to-ports ${o.inboundPort}`;
  r.push(`-A MESHLET_REDIRECT -p tcp -j REDIRECT --to-ports ${o.outboundPort}`);

  for (const p of unique(o.excludeInboundPorts)) r.push(`-A MESHLET_INBOUND -p tcp --dport ${p} -j RETURN`);
  if (o.inboundPorts === '*') r.push(`-A MESHLET_INBOUND -p tcp -j ${toInbound}`);
  else for (const p of unique(o.inboundPorts)) r.push(`-A MESHLET_INBOUND -p tcp --dport ${p} -j ${toInbound}`);

  const out = (rule: string): number => r.push(`-A MESHLET_OUTPUT ${rule}`);
  // The proxy's inbound forwards to the app leave from 127.0.0.6: never captured again.
  out(`-o lo -s ${INBOUND_PASSTHROUGH_SOURCE} -j RETURN`);
  // The proxy calling its own pod's IP over lo (app → service → same pod) goes to the inbound side.
  out(`-o lo ! -d 127.0.0.1/32 -p tcp -m owner --uid-owner ${o.proxyUid} -j ${toInbound}`);
  // The app calling itself over lo is not captured.
  out(`-o lo -m owner ! --uid-owner ${o.proxyUid} -j RETURN`);
  out(`-m owner --uid-owner ${o.proxyUid} -j RETURN`);
  out(`-o lo ! -d 127.0.0.1/32 -p tcp -m owner --gid-owner ${o.proxyGid} -j ${toInbound}`);
  out(`-o lo -m owner ! --gid-owner ${o.proxyGid} -j RETURN`);
  out(`-m owner --gid-owner ${o.proxyGid} -j RETURN`);
  out('-d 127.0.0.1/32 -j RETURN');
  for (const p of unique(o.excludeOutboundPorts)) out(`-p tcp --dport ${p} -j RETURN`);
  for (const cidr of unique(o.excludeOutboundRanges)) out(`-d ${cidr} -j RETURN`);
  if (o.includeOutboundRanges === '*') out('-j MESHLET_REDIRECT');
  else for (const cidr of unique(o.includeOutboundRanges)) out(`-d ${cidr} -j MESHLET_REDIRECT`);
  return r;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** What `iptables-save -t nat` shows of ours: the MESHLET_* chains and the jumps into them. */
export function currentState(natSave: string): { chains: Set<string>; jumps: Set<string> } {
  const chains = new Set<string>();
  const jumps = new Set<string>();
  for (const line of natSave.split('\n')) {
    const decl = /^:(MESHLET_[A-Z_]+) /.exec(line);
    if (decl?.[1] !== undefined) chains.add(decl[1]);
    for (const j of JUMPS) if (line.trim() === `-A ${j.chain} ${j.rule}`) jumps.add(j.chain);
  }
  return { chains, jumps };
}

/**
 * The iptables-restore --noflush input that installs the rules. Declaring a chain flushes it,
 * so our chains are rewritten whole; a jump is added only when absent: rerunning changes nothing.
 */
export function installScript(o: CaptureOptions, natSave = ''): string {
  const state = currentState(natSave);
  const lines = ['*nat', ...CHAINS.map((c) => `:${c} - [0:0]`), ...chainRules(o)];
  for (const j of JUMPS) if (!state.jumps.has(j.chain)) lines.push(`-A ${j.chain} ${j.rule}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** The iptables-restore --noflush input that removes everything installScript added; null when nothing is there. */
export function cleanupScript(natSave: string): string | null {
  const state = currentState(natSave);
  if (state.chains.size === 0 && state.jumps.size === 0) return null;
  const lines = ['*nat'];
  for (const j of JUMPS) if (state.jumps.has(j.chain)) lines.push(`-D ${j.chain} ${j.rule}`);
  // Every MESHLET_* chain is ours, including ones an older version created.
  const ours = [...state.chains];
  for (const c of ours) lines.push(`-F ${c}`);
  for (const c of ours) lines.push(`-X ${c}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}
