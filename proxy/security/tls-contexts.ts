/**
 * TLS contexts for mesh mTLS. Server: requires a client cert chained to the mesh root.
 * Client: presents the workload cert and accepts the server only if its URI SAN is EXACTLY
 * the expected SPIFFE ID (not a DNS name check). Sessions are cached per expected identity:
 * a resumed TLS 1.3 session does not run checkServerIdentity again, so a session
 * established with identity X must never be offered when Y is expected. For the same reason a
 * session is dropped once the server certificate it was made with has expired (or after the
 * longest server session lifetime), and one made under a replaced client certificate is never
 * kept: the server refuses to resume either, so offering it would fail the connection instead
 * of doing a full handshake.
 */
import { randomBytes } from 'node:crypto';
import { createSecureContext, connect, type ConnectionOptions, type PeerCertificate, type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { MeshletError } from '../../common/errors.ts';
import { parseSpiffeUri, uriSans } from '../../common/spiffe.ts';
import type { WorkloadCert } from './workload-cert.ts';

/** Options for `tls.createServer` (mTLS, client cert required and verified). */
export function serverTlsOptions(cert: WorkloadCert): TlsOptions {
  return {
    ...secureContextOptions(cert),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    ALPNProtocols: ['h2', 'http/1.1'],
  };
}

/** What `tlsServer.setSecureContext()` takes on rotation (live connections keep theirs). */
export function secureContextOptions(cert: WorkloadCert): { key: string; cert: string; ca: string } {
  return { key: cert.keyPem, cert: cert.certChainPem, ca: cert.rootCertPem };
}

/** Node's default TLS session lifetime, seconds: the cap below. */
const MAX_SESSION_SECONDS = 300;

/**
 * Server session settings for one certificate: fresh ticket keys (tickets issued under the
 * previous certificate stop resuming on rotation) and a session lifetime that ends no later
 * than the certificate does (at least 1 s: Node ignores 0).
 */
export function sessionOptions(cert: Pick<WorkloadCert, 'notAfter'>, nowMs: number): { ticketKeys: Buffer; sessionTimeout: number } {
  const left = Math.floor((cert.notAfter.getTime() - nowMs) / 1000);
  return { ticketKeys: randomBytes(48), sessionTimeout: Math.max(1, Math.min(MAX_SESSION_SECONDS, left)) };
}

/**
 * The exact-identity check. `expected` undefined (ISTIO_MUTUAL with no known identity)
 * accepts any workload identity of the trust domain.
 */
export function checkPeerIdentity(cert: Pick<PeerCertificate, 'subjectaltname'>, expected: string | undefined, trustDomain: string): Error | undefined {
  const uris = uriSans(cert.subjectaltname);
  if (expected !== undefined) {
    if (uris.includes(expected)) return undefined;
    return new MeshletError('MESHLET_SECURITY_PEER_IDENTITY', `expected ${expected}, got ${uris.join(',') || 'no URI SAN'}`);
  }
  if (uris.some((u) => parseSpiffeUri(u)?.trustDomain === trustDomain)) return undefined;
  return new MeshletError('MESHLET_SECURITY_PEER_IDENTITY', `expected an identity of ${trustDomain}, got ${uris.join(',') || 'no URI SAN'}`);
}

export interface MtlsTarget {
  host: string;
  port: number;
  /** Expected SPIFFE ID of the server. */
  identity: string | undefined;
  /** SNI to send, if any (never an IP). */
  servername?: string;
  /** ALPN to offer; http/1.1 by default. */
  alpn?: string[];
  /** Source address to bind (e.g. a 127.x address in tests). */
  localAddress?: string;
}

/** A cached client session and when it stops being offered. */
interface CachedSession {
  session: Buffer;
  /** notAfter of the server certificate behind the session (kept across resumptions: a resumed handshake shows none). */
  peerNotAfterMs: number;
  /** min(peerNotAfterMs, cached + longest server session lifetime). */
  expiresAtMs: number;
}

/** Client side of mesh mTLS: contexts per cert generation, sessions per expected identity. */
export class MtlsClient {
  readonly #getCert: () => WorkloadCert | undefined;
  readonly #trustDomain: string;
  #ctx: { generation: number; context: SecureContext } | undefined;
  readonly #sessions = new Map<string, CachedSession>();
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor(getCert: () => WorkloadCert | undefined, trustDomain: string, opts: { maxSessions?: number; now?: () => number } = {}) {
    this.#getCert = getCert;
    this.#trustDomain = trustDomain;
    this.#maxSessions = opts.maxSessions ?? 1024;
    this.#now = opts.now ?? Date.now;
  }

  #context(): SecureContext {
    const cert = this.#getCert();
    if (cert === undefined) throw new MeshletError('MESHLET_SECURITY_CERT_FETCH', 'no workload certificate yet');
    // A new generation (rotation) builds a new context; connections already open keep theirs.
    if (this.#ctx?.generation !== cert.generation) {
      this.#ctx = { generation: cert.generation, context: createSecureContext({ ...secureContextOptions(cert), minVersion: 'TLSv1.2' }) };
      this.#sessions.clear();
    }
    return this.#ctx.context;
  }

  static sessionKey(t: MtlsTarget): string {
    return `${t.identity ?? '*'}|${t.host}|${t.port}|${t.servername ?? ''}`;
  }

  /** Connection options for `tls.connect` (or an undici `connect` function). */
  connectOptions(t: MtlsTarget): ConnectionOptions {
    const expected = t.identity;
    const td = this.#trustDomain;
    const opts: ConnectionOptions = {
      host: t.host,
      port: t.port,
      secureContext: this.#context(),
      rejectUnauthorized: true,
      ALPNProtocols: t.alpn ?? ['http/1.1'],
      checkServerIdentity: (_host, cert) => checkPeerIdentity(cert, expected, td),
      session: this.#live(MtlsClient.sessionKey(t))?.session,
    };
    if (t.servername !== undefined) opts.servername = t.servername;
    // tls.connect passes it on to net.connect; ConnectionOptions' type does not list it.
    if (t.localAddress !== undefined) (opts as ConnectionOptions & { localAddress?: string }).localAddress = t.localAddress;
    return opts;
  }

  /** The cached session for `key` if it may still be offered; an expired one is dropped. */
  #live(key: string): CachedSession | undefined {
    const c = this.#sessions.get(key);
    if (c !== undefined && c.expiresAtMs <= this.#now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return c;
  }

  /** Opens an mTLS connection and remembers its session under the expected identity. */
  connect(t: MtlsTarget): TLSSocket {
    const key = MtlsClient.sessionKey(t);
    const socket = connect(this.connectOptions(t));
    const generation = this.#ctx?.generation;
    const offered = this.#sessions.get(key);
    socket.on('session', (session: Buffer) => {
      // Made with a client certificate that has since been replaced (the cache was cleared meanwhile).
      if (this.#ctx?.generation !== generation) return;
      // Null once the socket is destroyed (a refused identity): nothing is cached then.
      const peer = socket.getPeerCertificate() as PeerCertificate | null;
      const peerNotAfterMs = socket.isSessionReused() ? offered?.peerNotAfterMs : Date.parse(peer?.valid_to ?? '');
      if (peerNotAfterMs === undefined || !Number.isFinite(peerNotAfterMs)) return;
      if (this.#sessions.size >= this.#maxSessions && !this.#sessions.has(key)) {
        const oldest = this.#sessions.keys().next().value;
        if (oldest !== undefined) this.#sessions.delete(oldest);
      }
      this.#sessions.set(key, { session, peerNotAfterMs, expiresAtMs: Math.min(peerNotAfterMs, this.#now() + MAX_SESSION_SECONDS * 1000) });
    });
    return socket;
  }

  /** Number of cached sessions (tests, admin). */
  get cachedSessions(): number {
    return this.#sessions.size;
  }
}
