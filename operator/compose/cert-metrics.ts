/**
 * Certificate issuance counters on the operator's registry, with Istio's (citadel) names so
 * existing dashboards and alerts work.
 */
import { Counter, type Registry } from 'prom-client';

export interface CertMetrics {
  /** One CSR answered with this HTTP status. */
  observe(status: number): void;
}

export function createCertMetrics(registry: Registry): CertMetrics {
  const r = [registry];
  const csr = new Counter({ name: 'citadel_server_csr_count', help: 'Certificate signing requests received (POST /v1/certificates).', registers: r });
  const ok = new Counter({ name: 'citadel_server_success_cert_issuance_count', help: 'Workload certificates issued.', registers: r });
  const authFail = new Counter({ name: 'citadel_server_authentication_failure_count', help: 'CSRs refused because the caller was not authenticated.', registers: r });
  const signErr = new Counter({ name: 'citadel_server_csr_sign_err_count', help: 'CSRs that could not be signed (bad CSR or signing error).', registers: r });
  return {
    observe(status) {
      csr.inc();
      if (status === 200) ok.inc();
      else if (status === 401 || status === 403) authFail.inc();
      else signErr.inc();
    },
  };
}
