/** Schema source → structural OpenAPI v3 (what the apiserver validates and prunes with). */
import { errorEntry } from '../../common/errors.ts';
import type { CelRule, Field, ObjectField } from '../schema/dsl.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Istio's own duration rule, as the apiserver can check it at `kubectl apply`. */
export const DURATION_CEL: CelRule = { rule: "duration(self) >= duration('1ms')", code: 'MESHLET_CRD_DURATION', message: 'must be a valid duration greater than 1ms' };
const DURATION_OR_ZERO_CEL: CelRule = { rule: "duration(self) == duration('0s') || duration(self) >= duration('1ms')", code: 'MESHLET_CRD_DURATION', message: 'must be 0s or a valid duration greater than 1ms' };

function describe(f: Field): string {
  let d = f.doc;
  if (f.deprecated === true) d += ' Deprecated.';
  if (f.unenforced !== undefined) d += ` meshlet: accepted but not enforced yet (${f.unenforced}).`;
  return d.trim();
}

function celOf(f: Field): Json[] {
  const rules = [...(f.t === 'string' && f.format === 'duration' ? [f.zeroOk === true ? DURATION_OR_ZERO_CEL : DURATION_CEL] : []), ...(f.cel ?? [])];
  return rules.map((r) => {
    // kubectl prints this as is when the apiserver refuses: reason, code and the catalog hint.
    const out: Record<string, Json> = { message: `${r.message} [${r.code}] hint: ${errorEntry(r.code).hint}`, rule: r.rule };
    if (r.fieldPath !== undefined) out.fieldPath = r.fieldPath;
    return out;
  });
}

/** protobuf oneof → "none or exactly one of" in the form Istio's own CRDs use. */
function oneOfSchema(group: readonly string[]): Json {
  return { oneOf: [{ not: { anyOf: group.map((k) => ({ required: [k] })) } }, ...group.map((k) => ({ required: [k] }))] };
}

export function toOpenApi(f: Field, withDocs = true): Record<string, Json> {
  const out: Record<string, Json> = {};
  const doc = withDocs ? describe(f) : '';
  if (doc !== '') out.description = doc;
  switch (f.t) {
    case 'string':
      if (f.enum !== undefined) out.enum = [...f.enum];
      if (f.maxLength !== undefined) out.maxLength = f.maxLength;
      out.type = 'string';
      break;
    case 'integer':
      if (f.format === 'int32') out.format = 'int32';
      if (f.format === 'uint32') {
        out.maximum = 4294967295;
        out.minimum = 0;
      }
      if (f.format === 'uint64') out.minimum = 0;
      out.type = 'integer';
      break;
    case 'number':
      out.format = 'double';
      if (f.max !== undefined) out.maximum = f.max;
      if (f.min !== undefined) out.minimum = f.min;
      out.type = 'number';
      break;
    case 'boolean':
      out.type = 'boolean';
      break;
    case 'map':
      out.additionalProperties = toOpenApi(f.values, withDocs);
      out.type = 'object';
      break;
    case 'array':
      out.items = toOpenApi(f.items, withDocs);
      if (f.maxItems !== undefined) out.maxItems = f.maxItems;
      out.type = 'array';
      break;
    case 'object':
      Object.assign(out, objectSchema(f, withDocs));
      break;
  }
  const cel = celOf(f);
  if (cel.length > 0) out['x-kubernetes-validations'] = cel;
  return out;
}

function objectSchema(f: ObjectField, withDocs: boolean): Record<string, Json> {
  const out: Record<string, Json> = {};
  const groups = f.oneOf ?? [];
  if (groups.length === 1) Object.assign(out, oneOfSchema(groups[0] as readonly string[]));
  else if (groups.length > 1) out.allOf = groups.map(oneOfSchema);
  const props: Record<string, Json> = {};
  for (const [k, v] of Object.entries(f.props)) props[k] = toOpenApi(v, withDocs);
  out.properties = props;
  if (f.required !== undefined && f.required.length > 0) out.required = [...f.required];
  out.type = 'object';
  return out;
}
