/** Loads test/fixtures/crds/{valid,invalid}/*.yaml with their `# expect:` / `# warn:` headers. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/crds/', import.meta.url));

export interface Expectation {
  code: string;
  path: string;
}

export interface Fixture {
  name: string;
  file: string;
  valid: boolean;
  text: string;
  objects: Record<string, unknown>[];
  /** Errors an invalid fixture must produce. */
  expect: Expectation[];
  /** Warnings a fixture must produce. */
  warn: Expectation[];
}

function headers(text: string, tag: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^# ${tag}: (\\S+) (.+)$`).exec(line);
    if (m !== null) out.push({ code: m[1] as string, path: (m[2] as string).trim() });
  }
  return out;
}

export function loadFixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const kind of ['valid', 'invalid'] as const) {
    const dir = join(FIXTURES_DIR, kind);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
      const file = join(dir, f);
      const text = readFileSync(file, 'utf8');
      const objects = parseAllDocuments(text).map((d) => d.toJS() as unknown).filter((o): o is Record<string, unknown> => o !== null && typeof o === 'object');
      out.push({ name: `${kind}/${f}`, file, valid: kind === 'valid', text, objects, expect: headers(text, 'expect'), warn: headers(text, 'warn') });
    }
  }
  return out;
}
