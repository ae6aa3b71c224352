/** Validation results: `{code, level, path, message}` (what status.validationMessages holds). */
import type { ErrorCode } from '../common/errors.ts';

export interface ValidationMessage {
  /** Stable catalog code, e.g. MESHLET_CRD_WEIGHT. */
  code: ErrorCode;
  level: 'error' | 'warning';
  /** JSON path from the object root, e.g. `spec.http[1].route[0].weight`. */
  path: string;
  /** One line saying what is wrong. */
  message: string;
}

/** Collects messages while rule modules walk an object. */
export class Collector {
  readonly messages: ValidationMessage[] = [];
  error(code: ErrorCode, path: string, message: string): void {
    this.messages.push({ code, level: 'error', path, message });
  }
  warn(code: ErrorCode, path: string, message: string): void {
    this.messages.push({ code, level: 'warning', path, message });
  }
}

/** `base.key` for a field, `base[i]` for an index or a map key (the apiserver's notation). */
export const at = (base: string, key: string): string => (base === '' ? key : `${base}.${key}`);
export const idx = (base: string, i: number | string): string => `${base}[${i}]`;

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The array at v, or [] when absent/not an array (the structural pass reports wrong types). */
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** The object at v, or undefined. */
export const objAt = (v: unknown): Obj | undefined => (isObj(v) ? v : undefined);
export const strAt = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const numAt = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
