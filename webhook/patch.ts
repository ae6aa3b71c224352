/**
 * A small RFC 6902 JSON Patch diff: the operations (add, replace, remove) that turn `from` into
 * `to`. Arrays keep their common prefix and suffix so a prepended container is one `add`, not a
 * rewrite of every element. Paths are JSON pointers (RFC 6901: `~` → `~0`, `/` → `~1`).
 */
import { isDeepStrictEqual } from 'node:util';

export type PatchOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The operations turning `from` into `to` (both plain JSON values). */
export function diff(from: unknown, to: unknown): PatchOp[] {
  const ops: PatchOp[] = [];
  walk(from, to, '', ops);
  return ops;
}

function walk(a: unknown, b: unknown, path: string, ops: PatchOp[]): void {
  if (isDeepStrictEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      if (!(key in b) || b[key] === undefined) {
        if (a[key] !== undefined) ops.push({ op: 'remove', path: `${path}/${escapePointer(key)}` });
      }
    }
    for (const key of Object.keys(b)) {
      if (b[key] === undefined) continue;
      const p = `${path}/${escapePointer(key)}`;
      if (!(key in a) || a[key] === undefined) ops.push({ op: 'add', path: p, value: b[key] });
      else walk(a[key], b[key], p, ops);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    walkArray(a, b, path, ops);
    return;
  }
  ops.push({ op: 'replace', path, value: b });
}

function walkArray(a: unknown[], b: unknown[], path: string, ops: PatchOp[]): void {
  let pre = 0;
  while (pre < a.length && pre < b.length && isDeepStrictEqual(a[pre], b[pre])) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && isDeepStrictEqual(a[a.length - 1 - suf], b[b.length - 1 - suf])) suf++;
  const midA = a.length - pre - suf;
  const midB = b.length - pre - suf;
  const common = Math.min(midA, midB);
  for (let i = 0; i < common; i++) walk(a[pre + i], b[pre + i], `${path}/${pre + i}`, ops);
  // Indices are those of the document as the previous operations left it.
  for (let i = common; i < midB; i++) ops.push({ op: 'add', path: `${path}/${pre + i}`, value: b[pre + i] });
  for (let i = common; i < midA; i++) ops.push({ op: 'remove', path: `${path}/${pre + midB}` });
}
