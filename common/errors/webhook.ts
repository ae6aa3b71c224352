import type { ErrorEntry } from './types.ts';

/** Codes of the sidecar injector (webhook/) and the traffic-redirect init step (meshlet init-iptables). */
export const webhookErrors = [
  { code: 'MESHLET_WEBHOOK_REVIEW_MALFORMED', status: 400, message: 'request is not a valid AdmissionReview v1', hint: 'Only the kube-apiserver should call this endpoint; check the webhook configuration points at /inject and uses admissionReviewVersions ["v1"].' },
  { code: 'MESHLET_WEBHOOK_REVIEW_TOO_LARGE', status: 400, message: 'AdmissionReview body exceeds the size limit', hint: 'Pods this large are unusual; raise --max-body-bytes on the webhook if it is intended.' },
  { code: 'MESHLET_WEBHOOK_BAD_OVERRIDE', status: 400, message: 'invalid sidecar override annotation on the pod', hint: 'Fix the annotation value (ports: comma-separated 1-65535 or *, ranges: comma-separated CIDRs or *, quantities: Kubernetes quantities) or remove it.' },
  { code: 'MESHLET_WEBHOOK_NAMESPACE_LOOKUP', status: 503, message: 'could not read the pod\'s namespace', hint: 'The webhook needs get on namespaces; check its RBAC and that the apiserver is reachable.' },
  { code: 'MESHLET_WEBHOOK_TEMPLATE_INVALID', status: 500, message: 'sidecar template values in the ConfigMap are invalid; the last good values stay in use', hint: 'Fix the "values" key of ConfigMap meshlet-sidecar-injector in meshlet-system (see charts/meshlet values).' },
  { code: 'MESHLET_WEBHOOK_CERT', status: 500, message: 'could not issue or publish the webhook serving certificate', hint: 'The operator needs get/update on mutatingwebhookconfigurations; check RBAC and that meshlet-sidecar-injector exists.' },
  { code: 'MESHLET_IPTABLES_BAD_FLAG', status: 400, message: 'invalid meshlet init-iptables flag value', hint: 'Ports are comma-separated 1-65535 (or *), ranges comma-separated IPv4 CIDRs (or *).' },
  { code: 'MESHLET_IPTABLES_APPLY', status: 500, message: 'installing the traffic-redirect rules failed', hint: 'The init container needs NET_ADMIN and NET_RAW and the iptables binaries in its image; see the command output above.' },
] as const satisfies readonly ErrorEntry[];
