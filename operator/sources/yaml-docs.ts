/**
 * Multi-document YAML → Kubernetes objects, each with its `file:line`, and parse errors
 * with theirs. A broken document is reported; when its text names a security kind, what
 * can be read of it (kind, name, namespace) is returned as `unreadable` so that the
 * caller can fail closed for it. The other documents still load.
 */
import { LineCounter, parseAllDocuments, isMap, isSeq, type Document, type Node } from 'yaml';
import type { K8sObject, ObjectOrigin } from '../world/objects.ts';
import { salvageSecurityObject } from './salvage.ts';

export interface LoadedObject {
  object: K8sObject;
  origin: ObjectOrigin;
  /** Line of a field path (`spec.http[0].route`) in this document, when it can be found. */
  lineOf: (path: string) => number | undefined;
}

export interface LoadProblem {
  code: 'MESHLET_OPERATOR_YAML_PARSE' | 'MESHLET_OPERATOR_OBJECT_SHAPE';
  file: string;
  line: number;
  reason: string;
}

function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.replace(/^\$\.?/, '').split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (m === null) return out;
    if (m[1] !== '') out.push(m[1] as string);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

function lineFinder(doc: Document, counter: LineCounter, fallback: number): (path: string) => number | undefined {
  return (path) => {
    let node: unknown = doc.contents;
    let line = fallback;
    for (const seg of pathSegments(path)) {
      if (!isMap(node) && !isSeq(node)) break;
      const next = (node as { get: (k: unknown, keep: boolean) => unknown }).get(seg, true);
      if (next === undefined) break;
      node = next;
      const range = (node as Node).range;
      if (range !== undefined && range !== null) line = counter.linePos(range[0]).line;
    }
    return line;
  };
}

export interface UnreadableObject {
  object: K8sObject;
  problem: LoadProblem;
}

export function parseYamlObjects(text: string, file: string): { objects: LoadedObject[]; problems: LoadProblem[]; unreadable: UnreadableObject[] } {
  const counter = new LineCounter();
  const objects: LoadedObject[] = [];
  const problems: LoadProblem[] = [];
  const unreadable: UnreadableObject[] = [];
  const report = (p: LoadProblem, from: number, to: number): void => {
    problems.push(p);
    const o = salvageSecurityObject(text.slice(from, to), `${file}:${p.line}`);
    if (o !== undefined) unreadable.push({ object: o, problem: p });
  };
  for (const doc of parseAllDocuments(text, { lineCounter: counter, prettyErrors: false })) {
    const startLine = counter.linePos(doc.range[0]).line;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e?.linePos?.[0]?.line ?? startLine;
      report({ code: 'MESHLET_OPERATOR_YAML_PARSE', file, line, reason: (e?.message ?? 'parse error').split('\n')[0] as string }, doc.range[0], doc.range[2]);
      continue;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const o = value as Partial<K8sObject>;
    if (typeof o !== 'object' || typeof o.kind !== 'string' || typeof o.apiVersion !== 'string' || typeof o.metadata?.name !== 'string') {
      report({ code: 'MESHLET_OPERATOR_OBJECT_SHAPE', file, line: startLine, reason: 'needs apiVersion, kind and metadata.name' }, doc.range[0], doc.range[2]);
      continue;
    }
    // As kubectl does: namespaced objects without a namespace go to `default`.
    if (o.kind !== 'Namespace' && (o.metadata.namespace === undefined || o.metadata.namespace === '')) o.metadata.namespace = 'default';
    const contentLine = doc.contents?.range !== undefined && doc.contents !== null ? counter.linePos(doc.contents.range[0]).line : startLine;
    objects.push({ object: o as K8sObject, origin: { file, line: contentLine }, lineOf: lineFinder(doc, counter, contentLine) });
  }
  return { objects, problems, unreadable };
}
