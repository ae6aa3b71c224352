/**
 * The schema source language: plain data describing each kind's fields. The generator turns
 * it into CRD OpenAPI schemas, TypeScript types and the structural validator's tables, so a
 * field is described exactly once.
 */
import type { ErrorCode } from '../../common/errors.ts';

/** A CEL rule the apiserver evaluates at `kubectl apply` (x-kubernetes-validations). */
export interface CelRule {
  rule: string;
  /** Catalog code; the apiserver message carries it as `... [CODE]` so users can grep for it. */
  code: ErrorCode;
  message: string;
  /** Path the apiserver reports, relative to the node (e.g. `.redirect`). */
  fieldPath?: string;
}

interface Common {
  doc: string;
  /** Set when meshlet accepts the field but does not enforce it yet: the reason, shown as a warning. */
  unenforced?: string;
  /** List values that are enforced after all (e.g. gateways: ["mesh"]): no warning when only these are set. */
  unenforcedExcept?: readonly string[];
  deprecated?: boolean;
  cel?: CelRule[];
}

export interface StringField extends Common {
  t: 'string';
  enum?: readonly string[];
  /** Semantic format: a duration gets Istio's `>= 1ms` CEL rule; the rule modules check the rest. */
  format?: 'duration';
  /** A duration that may also be 0s (Istio: 0 disables, e.g. tcp idleTimeout). */
  zeroOk?: boolean;
  maxLength?: number;
}
export interface IntField extends Common {
  t: 'integer';
  format: 'int32' | 'uint32' | 'int64' | 'uint64';
  min?: number;
  max?: number;
}
export interface NumberField extends Common {
  t: 'number';
  min?: number;
  max?: number;
}
export interface BoolField extends Common {
  t: 'boolean';
}
export interface ObjectField extends Common {
  t: 'object';
  /** TypeScript interface name in crds/generated/types.ts. */
  name: string;
  props: Record<string, Field>;
  required?: readonly string[];
  /** Groups of fields of which at most one may be set (protobuf oneof). */
  oneOf?: readonly (readonly string[])[];
}
export interface ArrayField extends Common {
  t: 'array';
  items: Field;
  maxItems?: number;
}
export interface MapField extends Common {
  t: 'map';
  values: Field;
}

export type Field = StringField | IntField | NumberField | BoolField | ObjectField | ArrayField | MapField;

type Opts<F> = Omit<F, 't' | 'doc'>;

export const str = (doc: string, o: Opts<StringField> = {}): StringField => ({ t: 'string', doc, ...o });
export const duration = (doc: string, o: Opts<StringField> = {}): StringField => ({ t: 'string', doc, format: 'duration', ...o });
export const int32 = (doc: string, o: Partial<Opts<IntField>> = {}): IntField => ({ t: 'integer', doc, format: 'int32', min: -2147483648, max: 2147483647, ...o });
export const uint32 = (doc: string, o: Partial<Opts<IntField>> = {}): IntField => ({ t: 'integer', doc, format: 'uint32', min: 0, max: 4294967295, ...o });
export const uint64 = (doc: string, o: Partial<Opts<IntField>> = {}): IntField => ({ t: 'integer', doc, format: 'uint64', min: 0, ...o });
export const num = (doc: string, o: Opts<NumberField> = {}): NumberField => ({ t: 'number', doc, ...o });
export const bool = (doc: string, o: Opts<BoolField> = {}): BoolField => ({ t: 'boolean', doc, ...o });
export const obj = (name: string, doc: string, props: Record<string, Field>, o: Omit<Opts<ObjectField>, 'name' | 'props'> = {}): ObjectField => ({ t: 'object', name, doc, props, ...o });
export const arr = (doc: string, items: Field, o: Omit<Opts<ArrayField>, 'items'> = {}): ArrayField => ({ t: 'array', doc, items, ...o });
export const map = (doc: string, values: Field, o: Omit<Opts<MapField>, 'values'> = {}): MapField => ({ t: 'map', doc, values, ...o });
export const strings = (doc: string, o: Omit<Opts<ArrayField>, 'items'> = {}): ArrayField => arr(doc, str(''), o);
export const labels = (doc: string, o: Omit<Opts<MapField>, 'values'> = {}): MapField => map(doc, str(''), o);

/** Copies a field with extra attributes (e.g. marks a shared type unenforced at one use site). */
export function withAttrs<F extends Field>(f: F, extra: Partial<Common>): F {
  return { ...f, ...extra };
}

/** One Kubernetes kind described by this source. */
export interface KindDef {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  categories: readonly string[];
  /** Served versions; the last one is the storage version. */
  versions: readonly string[];
  storageVersion: string;
  spec: ObjectField;
  /** Extra columns for `kubectl get`. */
  printerColumns: readonly { name: string; type: string; jsonPath: string; description: string }[];
}
