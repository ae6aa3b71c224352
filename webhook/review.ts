/**
 * AdmissionReview v1 shapes and a strict check of the request part: anything the apiserver
 * would never send is MESHLET_WEBHOOK_REVIEW_MALFORMED (HTTP 400), never an exception later.
 */
import { MeshletError } from '../common/errors.ts';
import type { Pod } from './pod-types.ts';
import type { PatchOp } from './patch.ts';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: string;
  namespace?: string;
  object: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(detail: string): never {
  throw new MeshletError('MESHLET_WEBHOOK_REVIEW_MALFORMED', detail);
}

/** The request of a v1 AdmissionReview; throws MESHLET_WEBHOOK_REVIEW_MALFORMED with the offending path. */
export function parseReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) bad('body must be a JSON object');
  if (body.apiVersion !== 'admission.k8s.io/v1') bad(`apiVersion must be admission.k8s.io/v1, got ${JSON.stringify(body.apiVersion)}`);
  if (body.kind !== 'AdmissionReview') bad(`kind must be AdmissionReview, got ${JSON.stringify(body.kind)}`);
  const req = body.request;
  if (!isRecord(req)) bad('request: missing');
  if (typeof req.uid !== 'string' || req.uid === '') bad('request.uid: must be a non-empty string');
  const kind = req.kind;
  if (!isRecord(kind) || typeof kind.kind !== 'string') bad('request.kind: must be a GroupVersionKind');
  if (typeof req.operation !== 'string') bad('request.operation: must be a string');
  if (req.namespace !== undefined && typeof req.namespace !== 'string') bad('request.namespace: must be a string');
  return req as unknown as AdmissionRequest;
}

/** A pod this handler can work on: metadata an object, spec.containers a non-empty list of named containers. */
export function checkPod(obj: unknown): Pod {
  if (!isRecord(obj)) bad('request.object: must be a Pod object');
  if (obj.metadata !== undefined && !isRecord(obj.metadata)) bad('request.object.metadata: must be an object');
  const spec = obj.spec;
  if (!isRecord(spec)) bad('request.object.spec: must be an object');
  for (const field of ['containers', 'initContainers'] as const) {
    const list = spec[field];
    if (list === undefined && field === 'initContainers') continue;
    if (!Array.isArray(list) || (field === 'containers' && list.length === 0)) bad(`request.object.spec.${field}: must be a list`);
    list.forEach((c, i) => {
      if (!isRecord(c) || typeof c.name !== 'string') bad(`request.object.spec.${field}[${i}].name: must be a string`);
    });
  }
  for (const field of ['labels', 'annotations'] as const) {
    const m = (obj.metadata as Record<string, unknown> | undefined)?.[field];
    if (m !== undefined && (!isRecord(m) || Object.values(m).some((x) => typeof x !== 'string'))) bad(`request.object.metadata.${field}: must map strings to strings`);
  }
  return obj as Pod;
}

export function reviewOut(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export function allowWithPatch(uid: string, ops: PatchOp[]): AdmissionResponse {
  if (ops.length === 0) return { uid, allowed: true };
  return { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
}

export function deny(uid: string, code: number, err: MeshletError): AdmissionResponse {
  return { uid, allowed: false, status: { code, message: `${err.message} [${err.code}]: ${err.hint}`, reason: err.code } };
}
