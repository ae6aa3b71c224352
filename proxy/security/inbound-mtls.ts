/**
 * Inbound side of mesh mTLS on one capture port. The first byte tells a TLS ClientHello
 * (record type 0x16, handshake) from plaintext, so PERMISSIVE accepts both on the same port;
 * STRICT closes plaintext connections before a byte reaches the app; DISABLE never
 * terminates TLS (a client's TLS goes through to the app untouched).
 * Rotation: `rotate(cert)` calls `tlsServer.setSecureContext`, which only affects new
 * handshakes, so live connections are never dropped. Each certificate gets new ticket keys and
 * a session lifetime within its own; a resumed session is refused once either side's
 * certificate has expired (a resumption re-verifies neither).
 * Descriptors: the capture listener allows half-open sockets, so a client that ends before its
 * first byte is destroyed here, and the wait for the first byte (STRICT) and for the handshake
 * are bounded by `handshakeTimeoutMs` (Node's TLS default is 120 s).
 */
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { MtlsMode } from '../../common/snapshot.ts';
import { secureContextOptions, serverTlsOptions, sessionOptions } from './tls-contexts.ts';
import type { WorkloadCert } from './workload-cert.ts';

export const TLS_HANDSHAKE_RECORD = 0x16;

export type InboundKind = 'mtls' | 'plaintext';

export type InboundRefusal = 'plaintext-in-strict' | 'handshake-failed' | 'session-expired' | 'no-config';

/** Catalog code logged for each refusal. */
export const REFUSAL_CODES: Record<InboundRefusal, string> = {
  'plaintext-in-strict': 'MESHLET_SECURITY_MTLS_REQUIRED',
  'handshake-failed': 'MESHLET_SECURITY_PEER_IDENTITY',
  'session-expired': 'MESHLET_SECURITY_SESSION_EXPIRED',
  'no-config': 'MESHLET_PROXY_NOT_READY',
};

export interface InboundMtlsOptions {
  cert: WorkloadCert;
  /** Effective PeerAuthentication mode for a destination (app) port. */
  modeFor: (port: number) => MtlsMode;
  /** A verified mTLS connection: the peer cert is on `socket.getPeerCertificate()`. */
  onMtls: (socket: TLSSocket, port: number) => void;
  /** A plaintext connection (PERMISSIVE/DISABLE), bytes intact. */
  onPlaintext: (socket: Socket, port: number) => void;
  /** A connection refused (STRICT plaintext, failed handshake): for metrics/logs. */
  onRefused?: (reason: InboundRefusal, port: number, err?: Error) => void;
  /**
   * PERMISSIVE: how long to wait for the client's first byte before treating the connection as
   * a plaintext server-first protocol (MySQL, SMTP...). 5 s by default.
   */
  firstByteTimeoutMs?: number;
  /**
   * STRICT: how long a client may stay silent before its first byte; and for every mode, how
   * long a TLS handshake may take. The proxy passes its headers timeout; 10 s by default.
   */
  handshakeTimeoutMs?: number;
  /** Clock (ms since the epoch) for certificate lifetimes; Date.now by default. */
  now?: () => number;
  /** Timer source (tests); returns a cancel function. */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

const realTimer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/** What the first byte says, for a given mode: what to do with the connection. */
export function classifyFirstByte(firstByte: number, mode: MtlsMode): InboundKind | 'refuse' {
  if (mode === 'DISABLE') return 'plaintext';
  const tls = firstByte === TLS_HANDSHAKE_RECORD;
  if (tls) return 'mtls';
  return mode === 'STRICT' ? 'refuse' : 'plaintext';
}

export class InboundMtls {
  readonly tlsServer: TlsServer;
  readonly #opts: InboundMtlsOptions;
  readonly #ports = new WeakMap<Socket, number>();
  readonly #handshakeTimeoutMs: number;
  readonly #setTimer: (fn: () => void, ms: number) => () => void;
  readonly #now: () => number;
  #cert: WorkloadCert;

  constructor(opts: InboundMtlsOptions) {
    this.#opts = opts;
    this.#cert = opts.cert;
    this.#now = opts.now ?? Date.now;
    this.#handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 10_000;
    this.#setTimer = opts.setTimer ?? realTimer;
    this.tlsServer = createTlsServer({ ...serverTlsOptions(opts.cert), ...sessionOptions(opts.cert, this.#now()), handshakeTimeout: this.#handshakeTimeoutMs });
    this.tlsServer.on('secureConnection', (s: TLSSocket) => {
      if (s.isSessionReused() && !this.#resumable(s)) {
        opts.onRefused?.('session-expired', this.#portOf(s));
        s.destroy();
        return;
      }
      opts.onMtls(s, this.#portOf(s));
    });
    this.tlsServer.on('tlsClientError', (err: Error, s: TLSSocket) => {
      opts.onRefused?.('handshake-failed', this.#portOf(s), err);
      s.destroy();
    });
  }

  /** Once per resumed connection: both certificates behind the session still valid. */
  #resumable(s: TLSSocket): boolean {
    const now = this.#now();
    if (this.#cert.notAfter.getTime() <= now) return false;
    const peerEnd = Date.parse(s.getPeerCertificate().valid_to);
    return Number.isFinite(peerEnd) && peerEnd > now;
  }

  #portOf(s: TLSSocket): number {
    const raw = (s as unknown as { _parent?: Socket })._parent;
    return (raw === undefined ? undefined : this.#ports.get(raw)) ?? s.localPort ?? 0;
  }

  /** Takes an accepted connection for destination `port` and dispatches it. */
  handle(socket: Socket, port: number): void {
    const mode = this.#opts.modeFor(port);
    if (mode === 'DISABLE') {
      this.#opts.onPlaintext(socket, port);
      return;
    }
    // Server-first plaintext sends nothing: under PERMISSIVE, hand it over after a while;
    // under STRICT nothing but a ClientHello is welcome, so silence is closed.
    const cancel = mode === 'PERMISSIVE'
      ? this.#setTimer(() => {
        detach();
        socket.pause();
        this.#opts.onPlaintext(socket, port);
        socket.resume();
      }, this.#opts.firstByteTimeoutMs ?? 5000)
      : this.#setTimer(() => void socket.destroy(), this.#handshakeTimeoutMs);
    // A client that ends before its first byte: nobody else will close the half-open socket.
    const onEnd = (): void => void socket.destroy();
    const detach = (): void => {
      cancel();
      socket.removeListener('data', onFirst);
      socket.removeListener('end', onEnd);
    };
    const onFirst = (chunk: Buffer): void => {
      detach();
      socket.pause();
      const kind = classifyFirstByte(chunk[0] ?? 0, mode);
      if (kind === 'refuse') {
        this.#opts.onRefused?.('plaintext-in-strict', port);
        socket.destroy();
        return;
      }
      socket.unshift(chunk);
      if (kind === 'plaintext') {
        // Listeners attach synchronously; resume() delivers the unshifted bytes on the next tick.
        this.#opts.onPlaintext(socket, port);
        socket.resume();
        return;
      }
      this.#ports.set(socket, port);
      // The TLS wrap takes over the handle and replays the buffered ClientHello itself
      // (node's initRead); resuming the raw socket here would steal it. Its handshakeTimeout
      // bounds a ClientHello that never completes.
      this.tlsServer.emit('connection', socket);
    };
    socket.on('data', onFirst);
    socket.once('end', onEnd);
    socket.on('error', () => socket.destroy());
    socket.once('close', cancel);
  }

  /** New certificate for new handshakes; live connections keep the old one until they close. */
  rotate(cert: WorkloadCert): void {
    this.#cert = cert;
    this.tlsServer.setSecureContext({ ...secureContextOptions(cert), ...sessionOptions(cert, this.#now()) });
  }
}
