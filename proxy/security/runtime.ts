/**
 * The sidecar's security state in one object, for the proxy core to plug in: the workload
 * cert (renewed at half its usable life), the inbound mTLS front (mode per port from the snapshot's
 * PeerAuthentication, rotated with setSecureContext), the client contexts for upstream mTLS,
 * the compiled AuthorizationPolicies of the current snapshot (`InboundAuthz`, shared with the
 * proxy, which enforces them without a certificate too), and the secrets summary.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../common/log.ts';
import { mtlsModeForPort } from '../../common/security/peer-auth.ts';
import type { Cluster, Endpoint, PeerAuthenticationSettings, ProxySnapshot } from '../../common/snapshot.ts';
import type { CompiledAuthz } from './authz.ts';
import { upstreamTransport, type UpstreamTransport } from './auto-mtls.ts';
import { InboundAuthz } from './inbound-authz.ts';
import { InboundMtls, type InboundRefusal } from './inbound-mtls.ts';
import { describeSecrets, type SecretSummary } from './secrets.ts';
import { MtlsClient } from './tls-contexts.ts';
import type { WorkloadCertManager } from './workload-cert.ts';

export interface ProxySecurityOptions {
  certs: WorkloadCertManager;
  trustDomain: string;
  onMtls: (socket: TLSSocket, port: number) => void;
  onPlaintext: (socket: Socket, port: number) => void;
  onRefused?: (reason: InboundRefusal, port: number) => void;
  /** Bound on a silent STRICT client and on a TLS handshake (the proxy's headers timeout). */
  handshakeTimeoutMs?: number;
  /** The proxy's policy holder (it exists without a certificate too); a private one by default. */
  authz?: InboundAuthz;
  log?: Logger;
}

export class ProxySecurity {
  readonly client: MtlsClient;
  readonly #opts: ProxySecurityOptions;
  #inbound: InboundMtls | undefined;
  /** Undefined until the first snapshot: no mode is known, so every inbound connection is refused. */
  #peerAuth: PeerAuthenticationSettings | undefined;
  readonly #authz: InboundAuthz;

  constructor(opts: ProxySecurityOptions) {
    this.#opts = opts;
    this.#authz = opts.authz ?? new InboundAuthz(opts.log);
    this.client = new MtlsClient(() => opts.certs.current(), opts.trustDomain);
    opts.certs.onRotate((cert) => {
      this.#inbound?.rotate(cert);
      opts.log?.info({ identity: cert.identity, serial: cert.serial, notAfter: cert.notAfter.toISOString() }, 'workload certificate rotated');
    });
  }

  /** Gets the first certificate and builds the inbound front. */
  async start(): Promise<void> {
    const cert = this.#opts.certs.current() ?? (await this.#opts.certs.start());
    this.#inbound = new InboundMtls({
      cert,
      modeFor: (port) => (this.#peerAuth === undefined ? 'STRICT' : mtlsModeForPort(this.#peerAuth, port)),
      onMtls: this.#opts.onMtls,
      onPlaintext: this.#opts.onPlaintext,
      onRefused: (reason, port) => this.#opts.onRefused?.(reason, port),
      ...(this.#opts.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: this.#opts.handshakeTimeoutMs }),
    });
  }

  /** Call when a validated snapshot is swapped in; returns the compiled policies (build the authz feature from them). */
  applySnapshot(s: ProxySnapshot): CompiledAuthz {
    this.#peerAuth = s.security.peerAuthentication;
    return this.#authz.apply(s);
  }

  /** The workload certificate source (renewal, operator-answered hook). */
  get certs(): WorkloadCertManager {
    return this.#opts.certs;
  }

  get authz(): CompiledAuthz {
    return this.#authz.current;
  }

  /** Hands an accepted inbound connection (original destination port) to the mTLS front. */
  handleInbound(socket: Socket, port: number): void {
    if (this.#inbound === undefined || this.#peerAuth === undefined) {
      // Before config, a plaintext answer (503) would tell a STRICT workload's callers it takes plaintext.
      this.#opts.onRefused?.('no-config', port);
      socket.destroy();
      return;
    }
    this.#inbound.handle(socket, port);
  }

  transportFor(cluster: Pick<Cluster, 'tls'>, endpoint: Pick<Endpoint, 'identity'>): UpstreamTransport {
    return upstreamTransport(cluster.tls, endpoint);
  }

  secrets(nowMs: number = Date.now()): SecretSummary[] {
    return describeSecrets(this.#opts.certs.current(), nowMs);
  }

  stop(): void {
    this.#opts.certs.stop();
  }
}
