/** The chunked exposition writer behind 15090: exact bytes across chunk edges, few buffers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpositionWriter, collectText, numberText } from '../../proxy/telemetry/exposition-writer.ts';

test('pieces that straddle chunk edges come out byte for byte, in order', async () => {
  const chunks: Buffer[] = [];
  const w = new ExpositionWriter(async (c) => {
    chunks.push(Buffer.from(c));
  }, 64);
  let expected = '';
  for (let i = 0; i < 500; i++) {
    const label = Buffer.from(`svc="s${i}",code="${i % 7}"`);
    w.bytes(label);
    w.byte(0x20);
    w.num(i / 3);
    w.text(' é\n'); // non-ASCII help text must stay UTF-8
    expected += `${label.toString()} ${i / 3} é\n`;
    if (w.pending) await w.pump();
  }
  w.bytes(Buffer.alloc(200, 0x61)); // bigger than a chunk
  expected += 'a'.repeat(200);
  await w.end();
  assert.equal(Buffer.concat(chunks).toString('utf8'), expected);
  assert.ok(chunks.length > 100, 'the text went out in many chunks');
  assert.ok(chunks.slice(0, -2).every((c) => c.length <= 64), 'chunks stay within their size, except an oversized piece');
});

test('chunks are reused once the sink releases them: a big scrape allocates a handful of buffers', async () => {
  const seen = new Set<ArrayBufferLike>();
  let bytes = 0;
  const w = new ExpositionWriter(async (c) => {
    seen.add(c.buffer);
    bytes += c.length;
    await new Promise((r) => setImmediate(r));
  }, 4096);
  const line = Buffer.alloc(700, 0x78);
  for (let i = 0; i < 5000; i++) {
    w.bytes(line);
    if (w.pending) await w.pump();
  }
  await w.end();
  assert.equal(bytes, 700 * 5000);
  assert.ok(seen.size <= 5, `3.5 MB written through ${seen.size} buffers`);
});

test('a sink failure (scraper gone) ends the scrape with that error', async () => {
  const w = new ExpositionWriter(async () => {
    throw new Error('scraper went away');
  }, 16);
  const run = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      w.text('0123456789');
      if (w.pending) await w.pump();
    }
    await w.end();
  };
  await assert.rejects(run(), /scraper went away/);
});

test('sample values are spelled as Prometheus reads them', async () => {
  assert.deepEqual([Infinity, -Infinity, NaN, 0, 3, 0.1 + 0.2, 1e21].map(numberText), ['+Inf', '-Inf', 'NaN', '0', '3', '0.30000000000000004', '1e+21']);
  assert.equal(await collectText(async (w) => w.text('a 1\n')), 'a 1\n');
});
