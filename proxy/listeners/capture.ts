/**
 * The capture listeners (15001 outbound, 15006 inbound). Each connection: read the original
 * destination, pick the virtual listener, then by declared protocol or by sniffing the first
 * bytes hand the socket to the HTTP/1.1 server, the h2c server, or a TCP/TLS pipe.
 * Unknown destinations pass through as TCP (Istio's ALLOW_ANY).
 */
import type { Http2Server } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { getConnMeta, setConnMeta } from '../http/conn-meta.ts';
import type { ProxyState } from '../http/handle-request.ts';
import { inboundListener, outboundListener, type ListenerRuntime } from '../runtime/compile-snapshot.ts';
import { pipeTcp, pipeToCluster, tcpCluster } from '../tcp/tcp-proxy.ts';
import { originalDst } from './original-dst.ts';
import { peek } from './peek.ts';
import type { Http1Acceptor } from '../h1/server.ts';
import { classify, parseSni, type Sniffed } from './sniff.ts';
import type { ProxySecurity } from '../security/runtime.ts';
import { authorizeConnection } from '../security/authz-feature.ts';
import type { AuthzDecision } from '../security/authz.ts';
import type { InboundAuthz } from '../security/inbound-authz.ts';

export interface CaptureOptions {
  direction: 'outbound' | 'inbound';
  state: ProxyState;
  http1: Http1Acceptor;
  h2c: Http2Server;
  /** Wait for first bytes on `auto` ports before assuming a server-first protocol. */
  sniffTimeoutMs: number;
  /** Wait for first bytes on declared HTTP ports (a silent client is dropped). */
  firstByteTimeoutMs: number;
  appHost: string;
  inboundSource: string | undefined;
  /** Inbound mTLS front and upstream mTLS; undefined = plaintext only. */
  security?: ProxySecurity | undefined;
  /** The current AuthorizationPolicies, checked per inbound TCP connection (with or without mTLS). */
  authz?: InboundAuthz | undefined;
  /** Counts TCP authz denials (metrics). */
  onAuthzDecision?: ((d: AuthzDecision) => void) | undefined;
}

export interface CaptureServer {
  server: Server;
  /** Continues with a connection the mTLS front accepted (TLS terminated) or let through plaintext. */
  dispatch(socket: Socket): void;
}

const decideProtocol = (buf: Buffer): Sniffed | undefined => {
  const c = classify(buf);
  return c === 'need-more' ? undefined : c;
};

export function createCaptureServer(o: CaptureOptions): CaptureServer {
  const source = o.appHost.startsWith('127.') ? o.inboundSource : undefined;

  const passthrough = (socket: Socket, host: string, port: number): void => {
    if (o.direction === 'inbound') pipeTcp(socket, o.appHost, port, source);
    else pipeTcp(socket, host, port);
  };

  const sec = o.security;
  const toTcp = (socket: Socket, l: ListenerRuntime | undefined, dst: { address: string; port: number } | undefined, sni: string | null): void => {
    if (o.authz !== undefined && o.direction === 'inbound' && o.state.current !== undefined) {
      // TCP authorization: one decision per connection (HTTP is decided per request in the chain).
      const d = authorizeConnection(o.authz.current, socket, o.state.current.snapshot.proxy.spiffeId);
      if (!d.allowed || d.audited.length > 0) o.onAuthzDecision?.(d);
      if (!d.allowed) {
        socket.destroy();
        return;
      }
    }
    if (l !== undefined && l.appCluster !== undefined && l.tcpRoutes.length === 0) {
      pipeToCluster(socket, l.appCluster, o.state.random, sec);
      return;
    }
    const cl = l === undefined ? undefined : tcpCluster(l, dst?.port ?? l.listener.port, sni, o.state.random);
    if (cl !== undefined) pipeToCluster(socket, cl, o.state.random, sec);
    else if (dst !== undefined) passthrough(socket, dst.address, dst.port);
    else socket.destroy();
  };

  const toHttp = (socket: Socket, kind: 'http1' | 'h2c'): void => {
    // The h2 session drains the pushed-back preface itself on the next tick; resuming here would lose it.
    if (kind === 'h2c') o.h2c.emit('connection', socket);
    else {
      o.http1.accept(socket);
    }
  };

  /** Listener choice and protocol dispatch of an accepted (or mTLS-terminated) connection. */
  const dispatch = (socket: Socket): void => {
    const meta = getConnMeta(socket);
    const dst = meta?.dstAddress !== undefined && meta.dstPort !== undefined ? { address: meta.dstAddress, port: meta.dstPort } : undefined;
    const rt = o.state.current;
    // Without an original destination (local mode) only inbound can still pick its listener: the sole one.
    const l = rt === undefined ? undefined : dst !== undefined ? (o.direction === 'outbound' ? outboundListener(rt, dst.address, dst.port) : inboundListener(rt, dst.port)) : o.direction === 'inbound' ? inboundListener(rt, undefined) : undefined;
    if (rt !== undefined && dst !== undefined && l === undefined) {
      passthrough(socket, dst.address, dst.port);
      return;
    }
    const protocol = l?.listener.protocol;
    if (protocol === 'tcp') {
      toTcp(socket, l, dst, null);
      return;
    }
    const sniffing = protocol === 'auto' || protocol === 'tls';
    peek(socket, decideProtocol, sniffing && l !== undefined ? o.sniffTimeoutMs : o.firstByteTimeoutMs, (kind) => {
      if (socket.destroyed) return;
      if (kind === 'h2c') return toHttp(socket, 'h2c');
      if (kind === 'tls') {
        peek(socket, (b) => parseSni(b), o.firstByteTimeoutMs, (sni) => toTcp(socket, l, dst, sni ?? null));
        return;
      }
      // Server-first (no bytes in time) or non-HTTP bytes on a port that may carry TCP.
      if ((kind === null || kind === 'tcp') && sniffing && l !== undefined) return toTcp(socket, l, dst, null);
      if (kind === null) {
        socket.destroy();
        return;
      }
      // HTTP, or garbage on an HTTP port: the HTTP parser answers 400 to the latter.
      toHttp(socket, 'http1');
    });
  };

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    const dst = originalDst(socket);
    setConnMeta(socket, { direction: o.direction, dstAddress: dst?.address, dstPort: dst?.port, scheme: 'http' });
    if (sec === undefined || o.direction === 'outbound') {
      dispatch(socket);
      return;
    }
    // Inbound: PeerAuthentication decides per destination port (mTLS, plaintext or refused) first.
    const rt = o.state.current;
    const sole = dst === undefined && rt !== undefined ? inboundListener(rt, undefined)?.listener : undefined;
    const port = dst?.port ?? sole?.appPort ?? sole?.port ?? 0;
    sec.handleInbound(socket, port);
  });
  return { server, dispatch };
}

/** Marks a connection whose TLS the mTLS front terminated: same destination, scheme https. */
export function markMtls(tls: TLSSocket): void {
  const raw = (tls as unknown as { _parent?: Socket })._parent;
  const meta = raw === undefined ? undefined : getConnMeta(raw);
  setConnMeta(tls, { direction: 'inbound', dstAddress: meta?.dstAddress, dstPort: meta?.dstPort, scheme: 'https' });
  tls.on('error', () => tls.destroy());
}
