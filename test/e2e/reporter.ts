// `npm run e2e`'s output: one line per scenario (ok / FAIL / skip, with its time, and the
// first line of the error), then `N passed, N failed`. A node:test custom reporter.
import type { TestEvent } from 'node:test/reporters';

interface Data {
  name: string;
  nesting: number;
  skip?: string | boolean;
  details?: { duration_ms?: number; type?: string; error?: { message?: string; cause?: unknown } };
  message?: string;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : ` (${(ms / 1000).toFixed(1)}s)`;
}

function firstLine(err: { message?: string; cause?: unknown } | undefined): string {
  const cause = err?.cause as { message?: string } | undefined;
  const text = cause?.message ?? err?.message ?? 'failed';
  return text.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? 'failed';
}

export default async function* reporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    const data = event.data as unknown as Data;
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      if (data.details?.type === 'suite') continue;
      if (event.type === 'test:pass' && data.skip !== undefined && data.skip !== false) {
        skipped++;
        yield `skip ${data.name}: ${typeof data.skip === 'string' ? data.skip : 'skipped'}\n`;
      } else if (event.type === 'test:pass') {
        passed++;
        yield `ok   ${data.name}${seconds(data.details?.duration_ms)}\n`;
      } else {
        failed++;
        yield `FAIL ${data.name}${seconds(data.details?.duration_ms)}: ${firstLine(data.details?.error)}\n`;
      }
    } else if (event.type === 'test:diagnostic' && data.nesting === 0 && data.message !== undefined && !/^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(data.message)) {
      yield `     ${data.message}\n`;
    } else if (event.type === 'test:stderr' || event.type === 'test:stdout') {
      // The scenarios' own progress lines (the harness logs to stderr).
      yield (event.data as unknown as { message: string }).message;
    }
  }
  yield `${passed} passed, ${failed} failed${skipped > 0 ? ` (${skipped} skipped)` : ''}\n`;
}
