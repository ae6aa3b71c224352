/**
 * Schema source → the compact tables crds/structural.ts walks at runtime (types, enums,
 * ranges, required fields, oneof groups, unenforced fields). Named object types are emitted
 * once in `defs` and referenced, so the table stays small.
 */
import type { Field, KindDef, ObjectField } from '../schema/dsl.ts';
import type { Json } from './openapi.ts';

export function buildTables(kinds: readonly KindDef[]): { defs: Record<string, Json>; roots: Record<string, Json> } {
  const defs: Record<string, Json> = {};
  const seen = new Map<string, ObjectField>();

  function attrs(f: Field, out: Record<string, Json>): Record<string, Json> {
    if (f.unenforced !== undefined) out.u = f.unenforced;
    if (f.unenforcedExcept !== undefined) out.ux = [...f.unenforcedExcept];
    if (f.deprecated === true) out.dep = true;
    return out;
  }

  function defineObject(f: ObjectField): void {
    const prev = seen.get(f.name);
    if (prev !== undefined) {
      if (JSON.stringify(structure(prev)) !== JSON.stringify(structure(f))) throw new Error(`schema source: two different object types named ${f.name}`);
      return;
    }
    seen.set(f.name, f);
    const props: Record<string, Json> = {};
    defs[f.name] = {}; // reserve (recursion)
    for (const [k, v] of Object.entries(f.props)) props[k] = node(v);
    const d: Record<string, Json> = { p: props };
    if (f.required !== undefined) d.r = [...f.required];
    if (f.oneOf !== undefined) d.o = f.oneOf.map((g) => [...g]);
    defs[f.name] = d;
  }

  function node(f: Field): Json {
    switch (f.t) {
      case 'string': {
        const o: Record<string, Json> = { t: 's' };
        if (f.enum !== undefined) o.e = [...f.enum];
        if (f.format !== undefined) o.f = f.format;
        if (f.zeroOk === true) o.z = true;
        if (f.maxLength !== undefined) o.ml = f.maxLength;
        return attrs(f, o);
      }
      case 'integer':
        return attrs(f, { t: 'i', min: f.min ?? Number.MIN_SAFE_INTEGER, max: f.max ?? Number.MAX_SAFE_INTEGER });
      case 'number': {
        const o: Record<string, Json> = { t: 'n' };
        if (f.min !== undefined) o.min = f.min;
        if (f.max !== undefined) o.max = f.max;
        return attrs(f, o);
      }
      case 'boolean':
        return attrs(f, { t: 'b' });
      case 'map':
        return attrs(f, { t: 'm', v: node(f.values) });
      case 'array': {
        const o: Record<string, Json> = { t: 'a', i: node(f.items) };
        if (f.maxItems !== undefined) o.mi = f.maxItems;
        return attrs(f, o);
      }
      case 'object':
        defineObject(f);
        return attrs(f, { t: 'o', ref: f.name });
    }
  }

  const roots: Record<string, Json> = {};
  for (const k of kinds) roots[k.kind] = node(k.spec);
  return { defs, roots };
}

/** The shape of a field without docs and use-site attributes, to detect name clashes. */
function structure(f: Field): Json {
  switch (f.t) {
    case 'object':
      return { t: 'o', n: f.name, p: Object.fromEntries(Object.entries(f.props).map(([k, v]) => [k, structure(v)])), r: [...(f.required ?? [])], o: (f.oneOf ?? []).map((g) => [...g]) };
    case 'array':
      return { t: 'a', i: structure(f.items) };
    case 'map':
      return { t: 'm', v: structure(f.values) };
    case 'string':
      return { t: 's', e: [...(f.enum ?? [])], f: f.format ?? '' };
    default:
      return { t: f.t };
  }
}
