/**
 * Applies add/replace/remove JSON Patch operations to a copy of a document, the way the
 * apiserver does; used to check a patch (tests, idempotency) without an apiserver.
 */
import { unescapePointer, type PatchOp } from './patch.ts';

export function applyPatch<T>(doc: T, ops: readonly PatchOp[]): T {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') throw new Error('cannot remove the document root');
      root = structuredClone(op.value);
      continue;
    }
    const tokens = op.path.split('/').slice(1).map(unescapePointer);
    const last = tokens.pop() as string;
    let parent: unknown = root;
    for (const t of tokens) {
      parent = (parent as Record<string, unknown>)[t];
      if (typeof parent !== 'object' || parent === null) throw new Error(`path ${op.path}: ${t} is not a container`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`path ${op.path}: bad array index`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (index >= parent.length) throw new Error(`path ${op.path}: no element`);
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else parent.splice(index, 1);
    } else {
      const obj = parent as Record<string, unknown>;
      if (op.op !== 'add' && !(last in obj)) throw new Error(`path ${op.path}: no member ${last}`);
      if (op.op === 'remove') delete obj[last];
      else obj[last] = structuredClone(op.value);
    }
  }
  return root as T;
}
