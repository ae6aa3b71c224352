/**
 * The structural pass: walks an object against the generated tables (crds/generated/tables.ts)
 * and reports wrong types, unknown fields, missing required fields, enum and range errors,
 * oneof conflicts, malformed durations, and warnings for unenforced or deprecated fields.
 * It is what the apiserver's OpenAPI check does, with meshlet codes and paths.
 */
import { defs, roots } from './generated/tables.ts';
import type { TableNode } from './table-types.ts';
import type { Collector} from './messages.ts';
import { at, idx, isObj } from './messages.ts';
import { checkDuration } from './rules/values.ts';

const typeName = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

function walk(v: unknown, n: TableNode, path: string, c: Collector): void {
  if (v === null || v === undefined) return; // the apiserver prunes nulls of non-nullable fields
  // An empty list sets nothing; a list of only the enforced values (gateways: [mesh]) is fine.
  if (n.u !== undefined && !(Array.isArray(v) && v.every((x) => n.ux?.includes(x as string) === true))) {
    c.warn('MESHLET_CRD_NOT_ENFORCED', path, `accepted but not enforced by meshlet yet: ${n.u}`);
  }
  if (n.dep === true) c.warn('MESHLET_CRD_DEPRECATED', path, 'deprecated field');
  switch (n.t) {
    case 's':
      if (typeof v !== 'string') return c.error('MESHLET_CRD_TYPE', path, `must be a string, got ${typeName(v)}`);
      if (n.e !== undefined && !n.e.includes(v)) return c.error('MESHLET_CRD_ENUM', path, `"${v}" is not one of ${n.e.join(', ')}`);
      if (n.ml !== undefined && v.length > n.ml) return c.error('MESHLET_CRD_RANGE', path, `longer than ${n.ml} characters`);
      if (n.f === 'duration') checkDuration(v, path, c, n.z === true);
      return;
    case 'i':
      if (typeof v !== 'number' || !Number.isInteger(v)) return c.error('MESHLET_CRD_TYPE', path, `must be an integer, got ${typeName(v) === 'number' ? String(v) : typeName(v)}`);
      if (v < n.min || v > n.max) c.error('MESHLET_CRD_RANGE', path, `${v} is outside [${n.min}, ${n.max}]`);
      return;
    case 'n':
      if (typeof v !== 'number' || !Number.isFinite(v)) return c.error('MESHLET_CRD_TYPE', path, `must be a number, got ${typeName(v)}`);
      if ((n.min !== undefined && v < n.min) || (n.max !== undefined && v > n.max)) c.error('MESHLET_CRD_RANGE', path, `${v} is outside [${n.min ?? '-inf'}, ${n.max ?? 'inf'}]`);
      return;
    case 'b':
      if (typeof v !== 'boolean') c.error('MESHLET_CRD_TYPE', path, `must be true or false, got ${typeName(v)}`);
      return;
    case 'm':
      if (!isObj(v)) return c.error('MESHLET_CRD_TYPE', path, `must be a map, got ${typeName(v)}`);
      for (const [k, x] of Object.entries(v)) walk(x, n.v, idx(path, k), c);
      return;
    case 'a':
      if (!Array.isArray(v)) return c.error('MESHLET_CRD_TYPE', path, `must be a list, got ${typeName(v)}`);
      if (n.mi !== undefined && v.length > n.mi) c.error('MESHLET_CRD_TOO_MANY', path, `${v.length} items, at most ${n.mi} allowed`);
      v.forEach((x, i) => walk(x, n.i, idx(path, i), c));
      return;
    case 'o': {
      if (!isObj(v)) return c.error('MESHLET_CRD_TYPE', path, `must be an object, got ${typeName(v)}`);
      const d = defs[n.ref];
      if (d === undefined) throw new Error(`tables: no type ${n.ref}`);
      for (const [k, x] of Object.entries(v)) {
        const child = d.p[k];
        if (child === undefined) c.error('MESHLET_CRD_UNKNOWN_FIELD', at(path, k), `unknown field "${k}"`);
        else walk(x, child, at(path, k), c);
      }
      for (const r of d.r ?? []) if (v[r] === undefined || v[r] === null) c.error('MESHLET_CRD_REQUIRED', at(path, r), `${r} is required`);
      for (const g of d.o ?? []) {
        const set = g.filter((k) => v[k] !== undefined && v[k] !== null);
        if (set.length > 1) c.error('MESHLET_CRD_ONE_OF', path, `only one of ${set.join(', ')} may be set`);
      }
      return;
    }
  }
}

/** Structural check of a kind's spec; `path` is where spec sits (normally `spec`). */
export function checkStructure(kind: string, spec: unknown, path: string, c: Collector): void {
  const root = roots[kind];
  if (root === undefined) throw new Error(`tables: no kind ${kind}`);
  walk(spec, root, path, c);
}
