/**
 * The AuthorizationPolicies of the current snapshot, compiled once per snapshot. Kept apart
 * from `ProxySecurity` because they apply with or without a workload certificate: a plaintext
 * caller has an empty principal, as in Istio, so it is still denied or allowed by policy.
 */
import type { Logger } from '../../common/log.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { compileAuthz, type CompiledAuthz } from './authz.ts';

export class InboundAuthz {
  #current: CompiledAuthz = compileAuthz([]);
  readonly #log: Logger | undefined;

  constructor(log?: Logger) {
    this.#log = log;
  }

  /** Compiles the snapshot's policies (logging unsupported fields) and makes them current. */
  apply(s: ProxySnapshot): CompiledAuthz {
    this.#current = compileAuthz(s.security.authorization);
    for (const w of this.#current.warnings) this.#log?.warn({ code: w.code, policy: w.policy }, `AuthorizationPolicy uses ${w.detail}`);
    return this.#current;
  }

  get current(): CompiledAuthz {
    return this.#current;
  }
}
