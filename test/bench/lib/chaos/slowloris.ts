/**
 * Slowloris against the STRICT inbound: `conns` clients that complete mTLS (a valid mesh
 * certificate for the client's identity, issued from the operator's CA directory) and then
 * send request headers one byte per second, and `conns` clients that send a real TLS
 * ClientHello one byte per second. Each keeps trickling until the proxy closes it or
 * `maxS` seconds pass; the figures are how many the proxy closed and the longest held.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { CertificateAuthority } from '../../../../operator/ca/authority.ts';
import { DirectoryCaStore } from '../../../../operator/ca/dir-store.ts';
import { newKeyAndCsr } from '../../../../proxy/security/workload-cert.ts';
import type { ChaosMesh } from './mesh.ts';
import type { ScenarioBody } from './scenario.ts';

/** The bytes a real TLS client sends first, captured from node:tls against a plain listener. */
async function clientHello(): Promise<Buffer> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const got = new Promise<Buffer>((resolve) => srv.once('connection', (s: Socket) => s.once('data', (b: Buffer) => {
    resolve(b);
    s.destroy();
  })));
  const c = tlsConnect({ host: '127.0.0.1', port: (srv.address() as { port: number }).port, rejectUnauthorized: false, servername: 'server' });
  c.on('error', () => undefined);
  const hello = await got;
  c.destroy();
  srv.close();
  return hello;
}

async function meshCert(m: ChaosMesh): Promise<{ key: string; cert: string; ca: string }> {
  const ca = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(join(m.mesh, '.meshlet', 'ca')), { trustDomain: 'cluster.local' });
  const { keyPem, csrPem } = await newKeyAndCsr();
  const out = await ca.sign(csrPem, 'spiffe://cluster.local/ns/default/sa/client', 3600_000);
  return { key: keyPem, cert: out.certChainPem, ca: out.rootCertPem };
}

/** Sends `bytes` one per second on `s` until it closes or `maxS` passes; seconds it stayed open, or -1 if still open. */
function trickle(s: Socket, bytes: Buffer, maxS: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let i = 0;
    let closed = false;
    const timer = setInterval(() => {
      if (closed) return;
      if ((Date.now() - t0) / 1000 >= maxS) {
        clearInterval(timer);
        s.destroy();
        resolve(-1);
        return;
      }
      s.write(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
      i++;
    }, 1000);
    s.on('error', () => undefined);
    s.once('close', () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      resolve((Date.now() - t0) / 1000);
    });
  });
}

export function slowloris(o: { conns: number; maxS: number }): ScenarioBody {
  return async (m) => {
    const [hello, cert] = await Promise.all([clientHello(), meshCert(m)]);
    let handshakes = 0;
    const headers = Buffer.from(`GET /ok HTTP/1.1\r\nhost: server\r\nx-slow: ${'a'.repeat(200)}\r\n\r\n`);
    const slowHeaders = Array.from({ length: o.conns }, async () => {
      const s = tlsConnect({ ...m.inbound, ...cert, servername: 'server', rejectUnauthorized: false });
      s.on('error', () => undefined);
      // Counted: a refused handshake also closes at once, and must not pass for a timeout.
      s.once('secureConnect', () => handshakes++);
      await Promise.race([once(s, 'secureConnect'), once(s, 'close')]);
      return trickle(s, headers, o.maxS);
    });
    const slowHello = Array.from({ length: o.conns }, async () => {
      const s = connect(m.inbound);
      s.on('error', () => undefined);
      await Promise.race([once(s, 'connect'), once(s, 'close')]);
      return trickle(s, hello, o.maxS);
    });
    const h = await Promise.all(slowHeaders);
    const c = await Promise.all(slowHello);
    const closed = (a: number[]): number => a.filter((x) => x >= 0).length;
    return {
      extra: {
        slow_headers_conns: o.conns,
        slow_headers_mtls_handshakes: handshakes,
        slow_headers_closed_by_proxy: closed(h),
        slow_hello_conns: o.conns,
        slow_hello_closed_by_proxy: closed(c),
        longest_held_s: Math.max(...h, ...c.map((x) => (x < 0 ? o.maxS : x))),
      },
    };
  };
}
