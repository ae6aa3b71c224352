import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Agent, Pool, buildConnector } from '../../common/undici-lite.ts';

test('undici-lite: Agent and Pool (with a built connector) make real requests without loading undici\'s index', async () => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent();
  const pool = new Pool(origin, { connections: 1, connect: buildConnector({}) });
  try {
    const a = await agent.request({ origin, path: '/a?x=1', method: 'POST', body: 'hi' });
    assert.equal(a.statusCode, 200);
    assert.equal(await a.body.text(), 'POST /a?x=1 hi');
    const p = await pool.request({ path: '/p', method: 'GET' });
    assert.equal(await p.body.text(), 'GET /p ');
    const cache = createRequire(import.meta.url).cache;
    const loaded = Object.keys(cache).filter((k) => k.includes('/node_modules/undici/'));
    assert.ok(loaded.some((k) => k.endsWith('/lib/dispatcher/pool.js')), 'the pool module is loaded');
    assert.deepEqual(loaded.filter((k) => /\/undici\/index\.js$|\/lib\/web\/fetch\//.test(k)), [], 'neither the index nor fetch');
  } finally {
    await pool.close();
    await agent.close();
    server.close();
  }
});
