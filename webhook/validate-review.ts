/**
 * Pure part of the CRD validating webhook: AdmissionReview request → AdmissionReview response.
 * Errors deny with every path, reason, code and hint (kubectl prints the message as is);
 * warnings (unenforced fields, unreachable routes) go to `response.warnings`, which kubectl
 * prints as "Warning: …" while still applying the object.
 */
import { errorEntry } from '../common/errors.ts';
import { validateObject } from '../crds/validate.ts';
import type { ValidationMessage } from '../crds/validate.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface AdmissionResponseBody {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    warnings?: string[];
  };
}

/** Thrown for a body that is not an AdmissionReview (answered 400 by the plugin). */
export class MalformedReview extends Error {
  override name = 'MalformedReview';
}

/** Kubernetes truncates long warnings; keep each one line and short. */
const MAX_WARNING = 250;

/** `path: reason [CODE]`, the one-line form used by the webhook and the CLI. */
export function formatMessage(m: ValidationMessage): string {
  return `${m.path === '' ? '(object)' : m.path}: ${m.message} [${m.code}]`;
}

export interface ReviewOutcome {
  body: AdmissionResponseBody;
  /** The reviewed object's kind (for metrics), "unknown" when absent. */
  kind: string;
  /** Error codes behind a denial. */
  errorCodes: string[];
}

export function reviewObject(review: unknown): ReviewOutcome {
  if (!isObj(review) || !isObj(review.request)) throw new MalformedReview('body has no request');
  const req = review.request;
  const uid = req.uid;
  if (typeof uid !== 'string' || uid === '') throw new MalformedReview('request.uid is missing');
  const reqKind = isObj(req.kind) && typeof req.kind.kind === 'string' ? req.kind.kind : 'unknown';
  const respond = (allowed: boolean, extra: Partial<AdmissionResponseBody['response']> = {}, errorCodes: string[] = []): ReviewOutcome => ({
    body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed, ...extra } },
    kind: reqKind,
    errorCodes,
  });
  // Deleting is always allowed: a bad object must stay removable.
  if (req.operation === 'DELETE' || req.operation === 'CONNECT') return respond(true);
  if (!isObj(req.object)) throw new MalformedReview('request.object is missing');
  const obj = req.object;
  const msgs = validateObject(obj);
  const errors = msgs.filter((m) => m.level === 'error');
  const warnings = msgs.filter((m) => m.level === 'warning').map((m) => {
    const line = formatMessage(m);
    return line.length > MAX_WARNING ? `${line.slice(0, MAX_WARNING - 1)}…` : line;
  });
  if (errors.length === 0) return respond(true, warnings.length > 0 ? { warnings } : {});
  const meta = isObj(obj.metadata) ? obj.metadata : {};
  const ns = typeof req.namespace === 'string' ? req.namespace : typeof meta.namespace === 'string' ? meta.namespace : '';
  const name = typeof meta.name === 'string' ? meta.name : '';
  const lines = errors.map((m) => `${formatMessage(m)}\n  hint: ${errorEntry(m.code).hint}`);
  const message = `${String(obj.kind)} ${ns}/${name} is invalid (${errors.length} error${errors.length > 1 ? 's' : ''}):\n${lines.join('\n')}`;
  return respond(false, { status: { code: 400, reason: 'Invalid', message }, ...(warnings.length > 0 ? { warnings } : {}) }, errors.map((m) => m.code));
}
