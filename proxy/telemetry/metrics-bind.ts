/**
 * Label children pre-bound per route/cluster when config is applied. The request path hands
 * over a reusable outcome; the binding finds the cached children for (code, flags, grpc
 * status, peer, mTLS) with one string key and does a few additions. The set of peers seen by
 * one binding is capped so a client sending made-up peer headers cannot create unbounded
 * series: past the cap, unknown peers are labelled `unknown`.
 */
import type { CounterChild, HistogramChild } from './metrics-family.ts';
import { httpLabels, sideFromPeer, tcpLabels, type Reporter, type ServiceLabels, type SideLabels } from './metrics-labels.ts';
import type { MeshMetrics } from './metrics-registry.ts';
import type { PeerCache } from './peer-metadata.ts';

/** What the request path reports once the response is done. Reuse one object per request. */
export interface HttpOutcome {
  /** Response status sent downstream (0 when the downstream went away first). */
  code: number;
  /** Envoy response flags joined with `,`, or `-`. */
  flags: string;
  /** `grpc-status` for gRPC, else empty. */
  grpcStatus: string;
  /** The request was gRPC (`content-type: application/grpc*`), whatever the cluster declares. */
  grpc?: boolean;
  /** Raw peer metadata header (request header inbound, response header outbound). */
  peer: string | undefined;
  /** The connection to the peer was mutual TLS. */
  mtls: boolean;
  /** Peer SPIFFE identity verified by TLS, when mTLS. */
  peerPrincipal?: string;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

export interface BindingSpec {
  reporter: Reporter;
  /** This proxy's side. */
  local: SideLabels;
  /** The destination service. */
  service: ServiceLabels;
  /** `http` or `grpc`. */
  protocol: string;
  /** Peer labels when no metadata came back (e.g. from the snapshot's endpoint workload). */
  fallbackPeer?: SideLabels;
  /** Value of source_cluster/destination_cluster (Istio's multicluster id). */
  meshCluster?: string;
}

interface Children {
  requests: CounterChild;
  duration: HistogramChild;
  requestBytes: HistogramChild;
  responseBytes: HistogramChild;
}

const MAX_PEERS = 64;
const MAX_CHILDREN = 2048;

export class HttpBinding {
  readonly #m: MeshMetrics;
  readonly #spec: BindingSpec;
  readonly #peers: PeerCache;
  readonly #cache = new Map<string, Children>();
  readonly #seenPeers = new Set<string>();
  // One-entry memo: most requests of a binding repeat the last outcome's dimensions
  // (200, no flags, same peer), so they skip building the cache key.
  #lastCode = -1;
  #lastFlags = '';
  #lastGrpc = '';
  #lastIsGrpc = false;
  #lastMtls = false;
  #lastPrincipal: string | undefined;
  #lastPeer: string | undefined;
  #last: Children | undefined;
  constructor(m: MeshMetrics, spec: BindingSpec, peers: PeerCache) {
    this.#m = m;
    this.#spec = spec;
    this.#peers = peers;
  }

  record(o: HttpOutcome): void {
    let ch = this.#last;
    if (ch === undefined || o.code !== this.#lastCode || o.flags !== this.#lastFlags || o.grpcStatus !== this.#lastGrpc || (o.grpc === true) !== this.#lastIsGrpc || o.mtls !== this.#lastMtls || o.peerPrincipal !== this.#lastPrincipal || o.peer !== this.#lastPeer) {
      ch = this.#lookup(o);
      this.#last = ch;
      this.#lastCode = o.code;
      this.#lastFlags = o.flags;
      this.#lastGrpc = o.grpcStatus;
      this.#lastIsGrpc = o.grpc === true;
      this.#lastMtls = o.mtls;
      this.#lastPrincipal = o.peerPrincipal;
      this.#lastPeer = o.peer;
    }
    ch.requests.inc();
    ch.duration.observe(o.durationMs);
    ch.requestBytes.observe(o.requestBytes);
    ch.responseBytes.observe(o.responseBytes);
  }

  #lookup(o: HttpOutcome): Children {
    let peer = o.peer;
    if (peer !== undefined && !this.#seenPeers.has(peer)) {
      if (this.#seenPeers.size >= MAX_PEERS) peer = undefined;
      else this.#seenPeers.add(peer);
    }
    const key = `${o.code}|${o.flags}|${o.grpcStatus}|${o.grpc === true ? 'g' : ''}|${o.mtls ? o.peerPrincipal ?? '1' : ''}|${peer ?? ''}`;
    let ch = this.#cache.get(key);
    if (ch === undefined) {
      ch = this.#make(o, peer);
      if (this.#cache.size < MAX_CHILDREN) this.#cache.set(key, ch);
    }
    return ch;
  }

  #make(o: HttpOutcome, peerRaw: string | undefined): Children {
    const s = this.#spec;
    const md = this.#peers.get(peerRaw);
    const principal = o.mtls ? o.peerPrincipal ?? md?.p : undefined;
    let remote = sideFromPeer(md, principal);
    if (md === undefined && s.fallbackPeer !== undefined) remote = { ...s.fallbackPeer, principal: principal ?? 'unknown' };
    // Istio: a principal is reported only for identities proven by mTLS.
    const local = o.mtls ? s.local : { ...s.local, principal: 'unknown' };
    const labels = httpLabels({
      reporter: s.reporter,
      source: s.reporter === 'source' ? local : remote,
      destination: s.reporter === 'source' ? remote : local,
      service: s.service,
      protocol: o.grpc === true ? 'grpc' : s.protocol,
      code: String(o.code),
      flags: o.flags,
      grpcStatus: o.grpcStatus,
      mtls: o.mtls,
      cluster: s.meshCluster ?? 'Kubernetes',
    });
    return { requests: this.#m.requests.child(labels), duration: this.#m.duration.child(labels), requestBytes: this.#m.requestBytes.child(labels), responseBytes: this.#m.responseBytes.child(labels) };
  }
}

/** Per-cluster upstream stats, children bound at config time (one per status class). */
export class ClusterStats {
  readonly #time: HistogramChild;
  readonly #total: CounterChild;
  readonly #xx: CounterChild[];
  constructor(m: MeshMetrics, clusterName: string) {
    this.#time = m.upstreamRqTime.child({ cluster_name: clusterName });
    this.#total = m.upstreamRqTotal.child({ cluster_name: clusterName });
    this.#xx = [1, 2, 3, 4, 5].map((c) => m.upstreamRqXx.child({ envoy_response_code_class: String(c), cluster_name: clusterName }));
  }
  /** One upstream try: its time and status (0 when it failed before a response). */
  observe(ms: number, status: number): void {
    this.#time.observe(ms);
    this.#total.inc();
    const cls = Math.floor(status / 100);
    if (cls >= 1 && cls <= 5) this.#xx[cls - 1]!.inc();
  }
}

/** One TCP connection's counters; `close()` once. */
export interface TcpConnStats {
  sent(n: number): void;
  received(n: number): void;
  close(): void;
}

interface TcpChildren {
  sent: CounterChild;
  received: CounterChild;
  opened: CounterChild;
  closed: CounterChild;
}

export class TcpBinding {
  readonly #m: MeshMetrics;
  readonly #spec: Omit<BindingSpec, 'protocol'>;
  readonly #peers: PeerCache;
  readonly #cache = new Map<string, TcpChildren>();
  constructor(m: MeshMetrics, spec: Omit<BindingSpec, 'protocol'>, peers: PeerCache) {
    this.#m = m;
    this.#spec = spec;
    this.#peers = peers;
  }

  /** Counts an opened connection and returns its byte/close counters. */
  open(o: { peer: string | undefined; mtls: boolean; peerPrincipal?: string; flags?: string }): TcpConnStats {
    const flags = o.flags ?? '-';
    const key = `${flags}|${o.mtls ? o.peerPrincipal ?? '1' : ''}|${o.peer ?? ''}`;
    let ch = this.#cache.get(key);
    if (ch === undefined) {
      ch = this.#make(o, flags);
      if (this.#cache.size < MAX_CHILDREN) this.#cache.set(key, ch);
    }
    ch.opened.inc();
    const c = ch;
    let closed = false;
    return {
      sent: (n) => c.sent.inc(n),
      received: (n) => c.received.inc(n),
      close: () => {
        if (closed) return;
        closed = true;
        c.closed.inc();
      },
    };
  }

  #make(o: { peer: string | undefined; mtls: boolean; peerPrincipal?: string }, flags: string): TcpChildren {
    const s = this.#spec;
    const md = this.#peers.get(o.peer);
    const principal = o.mtls ? o.peerPrincipal ?? md?.p : undefined;
    let remote = sideFromPeer(md, principal);
    if (md === undefined && s.fallbackPeer !== undefined) remote = { ...s.fallbackPeer, principal: principal ?? 'unknown' };
    const local = o.mtls ? s.local : { ...s.local, principal: 'unknown' };
    const labels = tcpLabels({
      reporter: s.reporter,
      source: s.reporter === 'source' ? local : remote,
      destination: s.reporter === 'source' ? remote : local,
      service: s.service,
      flags,
      mtls: o.mtls,
      cluster: s.meshCluster ?? 'Kubernetes',
    });
    return { sent: this.#m.tcpSent.child(labels), received: this.#m.tcpReceived.child(labels), opened: this.#m.tcpOpened.child(labels), closed: this.#m.tcpClosed.child(labels) };
  }
}
