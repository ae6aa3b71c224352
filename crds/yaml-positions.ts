/** Maps a validation path (`spec.http[1].route[0].weight`) to a line in a parsed YAML document. */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** `a.b[1][key]` → ['a', 'b', '1', 'key']: bracket parts may be indexes or map keys. */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]/g;
  for (let m = re.exec(path); m !== null; m = re.exec(path)) out.push((m[1] ?? m[2]) as string);
  return out;
}

/** Line (1-based) of the deepest node of `path` present in `doc`; the document start if none. */
export function lineOf(doc: Document, path: string, lines: LineCounter): number {
  let node: unknown = doc.contents;
  let at: number = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const seg of pathSegments(path)) {
    let next: unknown;
    let pos: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
      if (pair !== undefined) {
        next = pair.value;
        pos = (pair.key as Node | null)?.range?.[0];
      }
    } else if (isSeq(node) && /^\d+$/.test(seg)) {
      next = node.items[Number(seg)];
      pos = (next as Node | undefined)?.range?.[0];
    }
    if (pos === undefined) break;
    at = pos;
    node = next;
  }
  return lines.linePos(at).line;
}
