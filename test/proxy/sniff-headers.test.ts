/** Pure pieces of the data path: first-bytes protocol detection, TLS SNI parsing, header plumbing, identity. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { createServer } from 'node:net';
import { classify, parseSni } from '../../proxy/listeners/sniff.ts';
import { applyHeaderOps, compileHeaderOps, stripResponseHopByHop, upstreamHeaders } from '../../proxy/http/headers.ts';
import { parseLabels, resolveIdentity } from '../../proxy/identity.ts';

/** A real ClientHello, captured from node:tls on loopback. */
async function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const srv = createServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        srv.close();
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      tlsConnect({ host: '127.0.0.1', port, servername }).on('error', () => undefined);
    });
  });
}

describe('protocol sniffing', () => {
  it('classifies HTTP/1, h2c preface, TLS and other bytes', () => {
    assert.equal(classify(Buffer.from('GET / HTTP/1.1\r\n')), 'http1');
    assert.equal(classify(Buffer.from('M-SEARCH * HTTP/1.1')), 'http1');
    assert.equal(classify(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'h2c');
    assert.equal(classify(Buffer.from('PRI * HTTP/2.0')), 'need-more');
    assert.equal(classify(Buffer.from([0x16, 0x03, 0x01])), 'tls');
    assert.equal(classify(Buffer.from('GE')), 'need-more');
    assert.equal(classify(Buffer.from('\x00\x01binary')), 'tcp');
    assert.equal(classify(Buffer.from('*1\r\n$4\r\nPING\r\n')), 'tcp');
  });
  it('reads the SNI of a real ClientHello, and asks for more bytes when cut', async () => {
    const hello = await clientHello('Reviews.Example.com');
    assert.equal(parseSni(hello), 'reviews.example.com');
    assert.equal(parseSni(hello.subarray(0, 20)), undefined);
    assert.equal(parseSni(Buffer.from('GET / HTTP/1.1')), null);
  });
});

describe('header plumbing', () => {
  it('drops hop-by-hop and Connection-named headers, keeps te: trailers, sets x-forwarded-* and x-request-id', () => {
    const h = upstreamHeaders({ ':authority': 'svc', connection: 'keep-alive, x-secret', 'keep-alive': '5', 'x-secret': 's', te: 'trailers', 'x-forwarded-for': '10.0.0.1', 'x-keep': 'k', 'transfer-encoding': 'chunked' }, 'svc:80', '127.0.0.9', 'http');
    assert.equal(h['x-secret'], undefined);
    assert.equal(h.connection, undefined);
    assert.equal(h['transfer-encoding'], undefined);
    assert.equal(h[':authority'], undefined);
    assert.equal(h.te, 'trailers');
    assert.equal(h.host, 'svc:80');
    assert.equal(h['x-forwarded-for'], '10.0.0.1, 127.0.0.9');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.match(String(h['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(h['x-keep'], 'k');
    assert.equal(upstreamHeaders({ 'x-request-id': 'given' }, 'a', 'b', 'http')['x-request-id'], 'given');
  });
  it('applies set, add, remove in order and strips response hop-by-hop headers', () => {
    const h: Record<string, string | string[]> = { a: '1', b: '2', c: '3' };
    applyHeaderOps(h, compileHeaderOps({ set: { A: 'x' }, add: { b: '3', d: '4' }, remove: ['C'] })!);
    assert.deepEqual(h, { a: 'x', b: ['2', '3'], d: '4' });
    assert.equal(compileHeaderOps({}), undefined);
    assert.deepEqual(stripResponseHopByHop({ connection: 'close, x-h', 'x-h': '1', 'keep-alive': 't', ok: 'y' }), { ok: 'y' });
  });
  it('drops the headers named in several Connection lines, in requests and responses alike', () => {
    const req = upstreamHeaders({ connection: ['keep-alive', 'X-A, x-b'], 'x-a': '1', 'x-b': '2', 'x-c': '3' }, 'svc', '127.0.0.9', 'http');
    assert.deepEqual([req['x-a'], req['x-b'], req['x-c']], [undefined, undefined, '3']);
    assert.deepEqual(stripResponseHopByHop({ connection: ['x-a', 'X-B'], 'x-a': '1', 'x-b': '2', ok: 'y' }), { ok: 'y' });
    assert.deepEqual(stripResponseHopByHop({ connection: '', ok: 'y' }), { ok: 'y' });
  });
});

describe('identity from the downward API', () => {
  it('parses env and labels-file forms, flags win', () => {
    assert.deepEqual(parseLabels('app="web"\nversion="v1"\n'), { app: 'web', version: 'v1' });
    assert.deepEqual(parseLabels('app=web,tier=front'), { app: 'web', tier: 'front' });
    const id = resolveIdentity({ namespace: 'prod', labelsFile: '/nonexistent' }, { POD_NAME: 'web-1', POD_NAMESPACE: 'default', SERVICE_ACCOUNT: 'web', POD_IP: '10.1.1.1', POD_LABELS: 'app=web' });
    assert.deepEqual(id, { id: 'web-1.prod', pod: 'web-1', namespace: 'prod', serviceAccount: 'web', podIp: '10.1.1.1', labels: { app: 'web' } });
  });
});
