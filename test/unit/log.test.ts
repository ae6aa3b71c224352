import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger, resolveLevel } from '../../common/log.ts';

test('log level: flag beats environment beats the info default; unknown names are refused', () => {
  assert.equal(resolveLevel(undefined, {}), 'info');
  assert.equal(resolveLevel(undefined, { MESHLET_LOG_LEVEL: 'debug' }), 'debug');
  assert.equal(resolveLevel('warn', { MESHLET_LOG_LEVEL: 'debug' }), 'warn');
  assert.throws(() => resolveLevel('loud', {}), /unknown log level "loud"/);
});

test('the logger writes one JSON object per line with component, level and the error code', async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const log = createLogger({ component: 'test', level: 'info', destination: out });
  log.debug('hidden');
  log.warn({ code: 'MESHLET_SNAPSHOT_INVALID' }, 'refused snapshot');
  await new Promise((r) => setImmediate(r));
  const lines = Buffer.concat(chunks).toString().trim().split('\n');
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  assert.equal(rec.component, 'test');
  assert.equal(rec.level, 40);
  assert.equal(rec.code, 'MESHLET_SNAPSHOT_INVALID');
  assert.equal(rec.msg, 'refused snapshot');
});
